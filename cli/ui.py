"""`tfx-e2e ui`: serve the read-only web app over a home's store or a --metadata URI until Ctrl-C."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from cli import flags
from cli.errors import EXIT_OK, UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("ui", help="a read-only local web app over the runs in ML Metadata (runs, reports, compare, "
                                  "lineage)")
    # Not flags.add_home: that help promises a log file under the home, and the UI writes nothing there.
    p.add_argument("--home", type=Path, default=None, metavar="DIR",
                   help=f"home whose metadata.sqlite to read (default {flags.SHOWN_HOME}); never written or created")
    flags.add_metadata(p)
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free port and prints it)")
    p.set_defaults(handler=cmd_ui)


def cmd_ui(args: argparse.Namespace, out: TextIO) -> int:
    import threading

    from pipeline.ui import source
    from pipeline.ui.server import make_server, warm_up

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number; give 0-65535 (0 picks a free port).")
    src = source.source(args.home, args.metadata)
    source.check(src)  # a missing store or an unreachable MySQL: one line, exit 2, before listening
    try:
        server = make_server(src, args.host, args.port)
    except OSError as err:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}; "
                         "pass another --port (0 picks a free one) or --host.") from None
    print(f"serving {server.url} (read-only; Ctrl-C stops)", file=out, flush=True)
    threading.Thread(target=warm_up, args=(src,), name="warm-up", daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_OK
