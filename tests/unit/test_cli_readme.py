"""README.md and `tfx-e2e --help` agree: every sub-command and every flag of the argparse tree is in the README, and
every `tfx-e2e ...` example the README shows names real commands whose --help works."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
import pytest

from cli.main import build_parser, main
from tests import support
from tests.support import command_tree, subcommands

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```.*?$(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`(tfx-e2e [^`]+)`")


def long_flags(parser: argparse.ArgumentParser) -> list[str]:
    return [o for a in parser._actions for o in a.option_strings  # pylint: disable=protected-access
            if o.startswith("--") and o != "--help"]


def example_lines(text: str) -> list[str]:
    """`tfx-e2e ...` lines of the README's fenced code blocks and inline code spans (`$ ` prompts dropped)."""
    lines = []
    for block in FENCE.findall(text):
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("tfx-e2e "):
                lines.append(line)
    lines += INLINE.findall(FENCE.sub("", text))
    return lines


def commands_of(line: str, parser: argparse.ArgumentParser) -> list[tuple[str, ...]]:
    """The command paths an example names: `tfx-e2e schema infer --data DIR` → [(schema, infer)];
    `tfx-e2e runs | show ...` → [(runs,), (show,)]. A word where a command belongs that is none → ValueError."""
    words = line.split()[1:]
    found: list[tuple[str, ...]] = []
    path: tuple[str, ...] = ()
    level = parser
    for word in words:
        choices = subcommands(level)
        if word == "|" and path:
            found.append(path)
            path, level = path[:-1], _parser_at(parser, path[:-1])
            continue
        if not choices:
            break  # a leaf command: the rest are its flags and arguments
        if word in choices:
            path, level = (*path, word), choices[word]
            continue
        if not path:
            raise ValueError(f"README example {line!r}: {word!r} is not a tfx-e2e command")
        break
    if path:
        found.append(path)
    return found


def _parser_at(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> argparse.ArgumentParser:
    for word in path:
        parser = subcommands(parser)[word]
    return parser


def test_every_command_and_flag_is_in_the_readme():
    text = README.read_text()
    parser = build_parser()
    shown = {path for line in example_lines(text) for path in commands_of(line, parser)}
    missing = []
    flags: dict[str, list[str]] = {}
    for words, sub in command_tree(parser):
        name = " ".join(words)
        if words not in shown and f"tfx-e2e {name}" not in text:
            missing.append(f"command `tfx-e2e {name}`")
        for flag in long_flags(sub):
            flags.setdefault(flag, []).append(name)
    for flag, where in sorted(flags.items()):
        if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text):
            missing.append(f"flag `{flag}` (of {', '.join(where)})")
    assert not missing, "README.md does not mention:\n  " + "\n  ".join(missing)


def readme_examples() -> list[tuple[str, ...]]:
    parser = build_parser()
    paths: dict[tuple[str, ...], None] = {}
    for line in example_lines(README.read_text()):
        paths.update(dict.fromkeys(commands_of(line, parser)))
    return list(paths)


def test_the_readme_shows_examples():
    assert len(readme_examples()) >= 3, "README.md shows no `tfx-e2e ...` command lines in code"


@pytest.mark.parametrize("words", readme_examples(), ids=" ".join)
def test_readme_example_help_works(words, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*words, "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: tfx-e2e {' '.join(words)}")


def test_help_through_the_console_entry():
    """`python -m cli --help` (the same entry() as the tfx-e2e script) lists every command."""
    result = support.cli(["--help"], timeout=60)
    assert result.code == 0 and result.stderr == "", result.stderr
    for words, _ in command_tree(build_parser()):
        if len(words) == 1:
            assert f"    {words[0]}" in result.stdout, words


def test_example_parsing():
    parser = build_parser()
    assert commands_of("tfx-e2e schema infer --data DIR --out x", parser) == [("schema", "infer")]
    assert commands_of("tfx-e2e runs | show | artifacts ...   (ML Metadata)", parser) == [("runs",), ("show",),
                                                                                          ("artifacts",)]
    assert commands_of("tfx-e2e run --config digits", parser) == [("run",)]
    with pytest.raises(ValueError, match="'nope' is not a tfx-e2e command"):
        commands_of("tfx-e2e nope --x", parser)
