"""`tfx-e2e ui`'s server on a real SQLite MLMD store: the runs list (newest first, filter, 25 a page), statuses and
error pages, escaping of names from metadata, reads only (the store and the home are byte for byte unchanged), a
new run on reload, a store that goes away and comes back, the security headers."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import threading

import pytest

from pipeline.metadata.store import MetadataError
from pipeline.ui import source
from pipeline.ui.pages import routes
from pipeline.ui.server import make_server
from tests.support import tree_digest
from tests.unit.mlmd_runs import Store, taxi_run
from tests.unit.ui_site import Site, serving

EVIL_PIPELINE = '"><img src=x onerror=alert(1)>'
EVIL_RUN = '<script>alert("run")</script>'
RUNS = 27  # taxi runs: two pages


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """RUNS taxi runs t00..t26 (t26 the newest), then one run of a pipeline and id that are markup."""
    root = tmp_path_factory.mktemp("home")
    builder = Store(root / "metadata.sqlite")
    for i in range(RUNS):
        taxi_run(builder, root / "pipeline_root", f"t{i:02d}", pushed_version=str(i + 1), blessed=i % 2 == 0)
    taxi_run(builder, root / "pipeline_root", EVIL_RUN, pipeline=EVIL_PIPELINE, blessed=False)
    builder.store = None  # close the writer: only the server reads from here on
    return root


@pytest.fixture(scope="module")
def site(home):
    with serving(home) as s:
        yield s


def run_links(body: str) -> list[str]:
    return re.findall(r'<a href="/run/([^"]+)">', body)


def test_runs_list_newest_first_25_a_page(site):
    first = site.get("/")
    assert first.status == 200
    links = run_links(first.main())
    assert len(links) == 25
    assert links[0] == "%3Cscript%3Ealert%28%22run%22%29%3C%2Fscript%3E"  # the newest run, URL-encoded
    assert links[1:] == [f"t{i:02d}" for i in range(RUNS - 1, RUNS - 25, -1)]
    assert 'href="/?page=2"' in first.body and "page 1 of 2" in first.body
    second = site.get("/?page=2")
    assert second.status == 200 and run_links(second.main()) == ["t02", "t01", "t00"]
    assert 'href="/?page=1"' in second.body and "?page=3" not in second.body
    assert site.get("/?page=3").status == 404
    assert site.get("/?page=0").status == 400 and site.get("/?page=two").status == 400


def test_runs_list_columns_and_pipeline_filter(site):
    page = site.get("/?pipeline=taxi")
    assert page.status == 200 and f"{RUNS} runs of taxi" in page.body
    row = re.search(r'<tr><td><a href="/run/t26">t26</a></td>(.*?)</tr>', page.body).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[0] == "taxi" and "complete" in cells[2] and cells[3] == "blessed" and cells[4] == "27"
    t25 = re.search(r'<a href="/run/t25">t25</a></td>(.*?)</tr>', page.body).group(1)
    assert "not blessed" in t25
    assert EVIL_RUN not in page.body and "%3Cscript" not in page.main().split("<table")[1]
    missing = site.get("/?pipeline=nope")
    assert missing.status == 404 and "no pipeline named" in missing.text()


def test_compare_form_names_two_runs(site):
    form = re.search(r'<form class="compare" method="get" action="/compare">(.*?)</form>', site.get("/").body).group(1)
    assert '<select name="a"' in form and '<select name="b"' in form and ">Compare</button>" in form
    assert '<option value="t26" selected>' in form  # A: the second newest
    assert form.count("<option") == 2 * (RUNS + 1)


def test_markup_from_metadata_is_shown_as_text(site):
    page = site.get("/")
    assert "<script>alert" not in page.body and "<img src=x" not in page.body
    assert "&lt;script&gt;alert(&quot;run&quot;)&lt;/script&gt;" in page.body
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page.body
    # The artifact and lineage pages show URIs, which hold the pipeline name.
    store = source.source(site.server.src.home, None).open()
    evil = [a.id for a in store.get_artifacts() if EVIL_PIPELINE in a.uri]
    assert evil
    for path in [f"/artifact/{i}" for i in evil] + [f"/lineage/{evil[-1]}"]:
        page = site.get(path)
        assert page.status == 200 and "<img src=x" not in page.body and "<script>alert" not in page.body
        assert f"/{EVIL_PIPELINE}/" in page.text()


def test_error_pages_are_pages_with_one_sentence(site):
    for path, status, words in [("/no/such/page", 404, "There is no page at /no/such/page."),
                                ("/artifact/999999", 404, "There is no artifact 999999 in this store."),
                                ("/artifact/abc", 404, "artifact ids are whole numbers"),
                                ("/lineage/999999", 404, "There is no artifact 999999"),
                                ("/compare?a=t01", 400, "Choose two runs to compare"),
                                ("/compare?a=t01&b=nope", 404, "There is no run 'nope' in this store.")]:
        page = site.get(path)
        assert page.status == status, path
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert words in page.text() and "Traceback" not in page.body
        assert '<a href="/">Back to the runs list</a>' in page.body
    assert site.get("/").status == 200  # still serving


def test_a_bug_in_a_page_is_a_500_page_and_a_traceback_on_stderr_only(home, capsys):
    def broken(request, ctx):
        raise RuntimeError("a bug /secret/path")

    router = routes()
    router.add("/broken", broken)
    server = make_server(source.source(home, None), "127.0.0.1", 0, router=router)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        site = Site(server)
        page = site.get("/broken")
        assert page.status == 500 and "internal error; the server's log has the details" in page.text()
        assert "secret" not in page.body and "Traceback" not in page.body
        assert site.get("/").status == 200  # still serving
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: a bug /secret/path" in err


def test_security_headers_allow_only_the_pages_own_script(site):
    page = site.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src" not in csp  # nothing may be fetched
    scripts = re.findall(r"<script>(.*?)</script>", page.body, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert page.headers["Cache-Control"] == "no-store"


def test_requests_addressed_to_another_host_are_refused(site):
    refused = site.get("/", headers={"Host": "attacker.example:80"})
    assert refused.status == 403 and "only requests to localhost" in refused.text()
    assert site.get("/", headers={"Host": "localhost:1234"}).status == 200


def test_serving_reads_only(home):
    before = tree_digest(home, with_dirs=True)
    with serving(home) as s:
        for path in ["/", "/?page=2", "/?pipeline=taxi", "/artifact/1", "/lineage/1", "/compare?a=t00&b=t01",
                     "/run/nope", "/nope"]:
            s.get(path)
    assert tree_digest(home, with_dirs=True) == before


def test_a_missing_home_is_not_created(tmp_path):
    absent = tmp_path / "absent"
    src = source.source(absent, None)
    with pytest.raises(MetadataError, match="no metadata store at"):
        source.check(src)
    assert not absent.exists()


def test_a_new_run_appears_on_reload_and_a_running_one_shows(tmp_path):
    builder = Store(tmp_path / "metadata.sqlite")
    taxi_run(builder, tmp_path, "first")
    with serving(tmp_path) as s:
        assert run_links(s.get("/").main()) == ["first"]
        live = builder.run("taxi", "live")
        live.node("CsvExampleGen")
        live.node("StatisticsGen", "running")
        rows = s.get("/").main()
        assert run_links(rows) == ["live", "first"]
        assert re.search(r'<a href="/run/live">live</a></td>.*?<span class="running">running</span>', rows)


def test_empty_store_says_so(tmp_path):
    Store(tmp_path / "metadata.sqlite")
    with serving(tmp_path) as s:
        page = s.get("/")
        assert page.status == 200 and "no pipeline runs yet" in page.text()


def test_store_gone_is_503_and_the_server_keeps_serving(tmp_path):
    builder = Store(tmp_path / "metadata.sqlite")
    taxi_run(builder, tmp_path, "only")
    builder.store = None
    with serving(tmp_path) as s:
        shutil.move(tmp_path / "metadata.sqlite", tmp_path / "moved.sqlite")
        gone = s.get("/")
        assert gone.status == 503 and "The metadata store cannot be read right now" in gone.text()
        assert "no metadata store at" in gone.text()
        shutil.move(tmp_path / "moved.sqlite", tmp_path / "metadata.sqlite")
        assert s.get("/").status == 200


def test_the_access_log_and_a_traceback_wait_out_another_threads_silenced_stderr(home, capfd):
    """Opening an MLMD store silences the process's fd 2 for a moment (pipeline.logs.quiet_stderr); a request
    answered meanwhile on another thread still logs, once the descriptor is back (seen lost under load before)."""
    from tests.support import stderr_silenced_on_another_thread

    def broken(request, ctx):
        raise RuntimeError("a bug while the store opens")

    router = routes()
    router.add("/broken", broken)
    server = make_server(source.source(home, None), "127.0.0.1", 0, router=router)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    answers = []
    client = threading.Thread(target=lambda: answers.extend(Site(server).get(p).status for p in ("/", "/broken")))
    try:
        with stderr_silenced_on_another_thread():
            client.start()
            client.join(1.0)
            assert client.is_alive() and answers == []  # the log line waits for fd 2, and the answer follows it
        client.join(30)
        assert answers == [200, 500]
    finally:
        server.shutdown()
        server.server_close()
    err = capfd.readouterr().err
    assert '"GET / HTTP/1.1" 200' in err and '"GET /broken HTTP/1.1" 500' in err
    assert "RuntimeError: a bug while the store opens" in err
