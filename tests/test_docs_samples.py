"""Every command and code sample in README.md and docs/*.md is run as written, or checked and listed here.

Samples are found by their fenced block's language, whatever the page, so a new page is covered
the day it is added:

- ``sh``/``bash``/``shell``/``console`` blocks, and untagged blocks whose lines are commands
  (``statebot``, ``python``, ``pip``, ``pytest``): each command runs in bash, in order, in a fresh
  folder per page holding the repository's ``data/`` and ``sims/``; it must exit 0. A command that
  is a synopsis (``[--json]``, ``FILE``, ``NAME``) cannot run: its sub-command and options are
  checked against the real parser instead.
- ``python`` blocks (and untagged blocks that parse as Python with an import) run as a script in
  that folder, after the page's earlier samples. When the paragraph after a block starts with
  "prints", every code span in that sentence must be in what the script printed; a line
  ``expression  # 'text'`` must evaluate to that text.
- ``toml`` blocks are loaded as what they are: a sweep file (``[sweep]``), a scenario (``[sim]``,
  ``[expect]`` or a ``name``), else a config file, checked as ``statebot config check`` does.
- ``<!-- sample: file NAME -->`` on the line before a block writes the block to NAME in the page's
  folder instead of running it; a ``test_*.py`` file is then run with pytest.
- Other languages (``text``, ``mermaid``, ...) are output or pictures, not samples.

``statebot ...`` written in running text (a code span) or in a sample's comments is checked like a
synopsis: the sub-command exists and so does every option it names.

``EXCEPTED`` lists the samples that are checked (options, a script's ``--help``) but not run, each
with its reason; an entry that no page uses any more fails the suite.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

EXCEPTED: dict[str, str] = {
    r"\bpip install\b": "installs from the package index (the network); CI's .ci/run runs the README's quick start",
    r"statebot run --adapter ibkr\b": "needs a running TWS or IB Gateway (the fake gateway tests cover the loop)",
    r"statebot bars fetch --adapter ibkr\b": "needs a running TWS or IB Gateway (tests/venues/ibkr/test_history.py)",
    r"--scheduler tcp://": "needs a Dask scheduler at that address (tests/app/test_sweep_dask.py runs a LocalCluster)",
    r"^python3? benchmarks/": "a benchmark: tens of seconds to minutes of CPU on a shared machine; benchmarks are run "
                              "by hand and their figures kept in docs/performance.md, never timed in the suite",
    r"statebot sweep sims/sweeps/sma-cross-month\.toml --jobs": "100 full simulations, minutes of CPU; the week sweep "
                                                                 "on the same page runs the same code",
    r"IBKRSettings\(.*\)\.adapter\(\)": "connects to a running TWS (the adapter's tests use the fake gateway)",
    r"^python -m statebot diagrams *(#|$)": "rewrites the committed docs from this clone's tests/ "
                                           "(tests/review/test_docs_fresh.py checks them against a fresh generation)",
    r"statebot diagrams --svg": "needs graphviz's dot, a system package the project does not install",
}
"""Pattern (searched in a command, or in a Python sample) -> why it is not run."""

SHELL_LANGS = {"sh", "bash", "shell", "console"}
COMMAND_WORDS = ("statebot", "python", "python3", "pip", "pytest")
FENCE = re.compile(r"^```(?P<lang>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.S | re.M)
MARKER = re.compile(r"<!--\s*sample:\s*file\s+(?P<name>\S+)\s*-->\s*$")
PLACEHOLDER = re.compile(r"\[-|\b[A-Z][A-Z_]{2,}\b|\.\.\.")
SPAN = re.compile(r"`(?P<code>(?:python -m )?statebot [^`]+)`")
MENTION = re.compile(r"(?:python -m )?statebot (?:[a-z][a-z-]*)(?: [^\s()`;,]+)*")


@dataclass(frozen=True)
class Sample:
    page: Path
    line: int
    kind: str  # shell, python, toml, file
    body: str
    after: str  # the text that follows the block, to its next blank line
    name: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _kind(lang: str, body: str) -> str | None:
    lang = lang.strip().lower()
    if lang in SHELL_LANGS:
        return "shell"
    if lang in ("python", "toml"):
        return lang
    if lang:
        return None
    lines = [line for line in body.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if lines and all(line.split()[0] in COMMAND_WORDS for line in lines):
        return "shell"
    try:
        tree = ast.parse(body)
    except SyntaxError:
        return None
    return "python" if any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in tree.body) else None


def samples(page: Path) -> list[Sample]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        kind = _kind(match["lang"], match["body"])
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        if kind is None and marker is None:
            continue
        after = text[match.end():].lstrip("\n").split("\n\n", 1)[0]
        found.append(Sample(page=page, line=text[:match.start()].count("\n") + 1, kind="file" if marker else str(kind),
                            body=match["body"], after=after, name=marker["name"] if marker else ""))
    return found


def commands(body: str) -> Iterator[str]:
    """The block's commands: continuation lines joined; blank lines and comment lines left out."""
    pending = ""
    for raw in body.splitlines():
        line = pending + raw
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1] + " "
            continue
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            yield line.strip()


def _strip_comment(command: str) -> str:
    try:
        return " ".join(shlex.split(command, comments=True))
    except ValueError:
        return command


def excepted(text: str) -> str | None:
    for pattern, reason in EXCEPTED.items():
        if re.search(pattern, text, flags=re.M):
            return reason
    return None


# ----------------------------------------------------------------------------- checking a synopsis


def _parser_for(words: list[str]) -> tuple[Any, list[str]]:
    """The (sub-)parser that ``statebot words...`` reaches and the words after its name."""
    from statebot.cli import build_parser

    parser = build_parser()
    rest = list(words)
    while rest:
        subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subs or rest[0] not in subs[0].choices:
            break
        parser = subs[0].choices[rest.pop(0)]
    return parser, rest


def check_synopsis(command: str, *, prose: bool = False) -> list[str]:
    """What is wrong with ``statebot ...`` as a synopsis: an unknown sub-command or option (``prose``,
    words in a comment: options only, the words after the command may be prose). Each command of
    a shell line (``a && b``, ``a | b``, ``a > file``) is checked on its own."""
    parts = re.split(r"\s(?:&&|\|\||\||;)\s", _strip_comment(command))
    if len(parts) > 1:
        return [p for part in parts for p in check_synopsis(part, prose=prose)]
    words = re.split(r"\s[0-9]?>>?\s", parts[0])[0].split()
    if words[:2] == ["python", "-m"]:
        words = words[2:]
    if not words or words[0] != "statebot":
        return []
    words = [w.strip("[]|") for w in words[1:]]
    if words and not re.fullmatch(r"-{0,2}[a-z][a-z-]*", words[0]):
        return []  # quoted output ("statebot sim: error: ..."), not a command
    parser, rest = _parser_for(words)
    if parser.prog == "statebot" and words and not words[0].startswith("-") and not prose:
        return [f"`{command}`: no sub-command {words[0]!r}"]
    known = set(parser._option_string_actions)
    problems = []
    for word in rest:
        option = word.split("=", 1)[0]
        if option.startswith("-") and option not in ("-", "--") and not option[1:2].isdigit() and option not in known:
            problems.append(f"`{command}`: {parser.prog} has no option {option}")
    subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    if subs and rest and not rest[0].startswith("-") and not PLACEHOLDER.search(rest[0]) and not prose:
        problems.append(f"`{command}`: {parser.prog} has no sub-command {rest[0]!r}")
    return problems


def _check_script_help(command: str, cwd: Path) -> list[str]:
    words = _strip_comment(command).split()
    if words[0] not in ("python", "python3") or len(words) < 2 or not words[1].endswith(".py"):
        return []
    script = ROOT / words[1]
    if not script.is_file():
        return [f"`{command}`: no file {words[1]}"]
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=_env())
    if done.returncode != 0:
        return [f"`{command}`: {words[1]} --help exits {done.returncode}: {done.stderr.strip()[-300:]}"]
    return [f"`{command}`: {words[1]} has no option {w}" for w in words[2:]
            if w.startswith("--") and w.split("=")[0] not in done.stdout]


# ----------------------------------------------------------------------------- running


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("STATEBOT_STATE_DIR",)}
    env["PYTHONPATH"] = str(ROOT)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sample"
    folder.mkdir()
    for name in ("data", "sims"):
        (folder / name).symlink_to(ROOT / name, target_is_directory=True)
    return folder


def _run_shell(sample: Sample, folder: Path) -> list[str]:
    problems = []
    for command in commands(sample.body):
        reason = excepted(command)
        if reason is not None or PLACEHOLDER.search(_strip_comment(command)):
            problems += check_synopsis(command) + _check_script_help(command, folder)
            continue
        done = subprocess.run(["bash", "-c", command], cwd=folder, env=_env(), capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            problems.append(f"{sample.where}: `{command}` exited {done.returncode}:\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
        problems += check_synopsis(command)
    return problems


_SHOWN_VALUE = re.compile(r"^(?P<expr>[^#=]+?)\s+#\s*(?P<value>'[^']*'|\"[^\"]*\")")


def _with_value_checks(code: str) -> str:
    """``expression  # 'text'`` lines become ``assert (expression) == 'text'``."""
    out = []
    for line in code.splitlines():
        match = _SHOWN_VALUE.match(line)
        if match and not line.startswith((" ", "\t")):
            try:
                ast.parse(match["expr"], mode="eval")
            except SyntaxError:
                out.append(line)
                continue
            line = f"assert ({match['expr']}) == {match['value']}, ({match['expr']})"
        out.append(line)
    return "\n".join(out) + "\n"


def _printed(after: str) -> list[str]:
    """The code spans of the "prints ..." sentence after a block."""
    if not after.startswith("prints"):
        return []
    sentence = re.split(r"\.(?:\s|$)", after, maxsplit=1)[0]
    return re.findall(r"`([^`]+)`", sentence)


def _run_python(sample: Sample, folder: Path) -> list[str]:
    if excepted(sample.body) is not None:
        compile(sample.body, sample.where, "exec")  # it is Python, at least
        return []
    done = subprocess.run([sys.executable, "-"], input=_with_value_checks(sample.body), cwd=folder, env=_env(),
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return [f"{sample.where}: the Python sample failed:\n{done.stdout[-1500:]}{done.stderr[-2500:]}"]
    return [f"{sample.where}: the text says it prints `{shown}`; it printed:\n{done.stdout[-1500:]}"
            for shown in _printed(sample.after) if shown not in done.stdout]


def _run_toml(sample: Sample, folder: Path) -> list[str]:
    from statebot.app.simrun import load_scenario
    from statebot.app.sweep import load_sweep
    from statebot.config.model import parse_config

    try:
        data = tomllib.loads(sample.body)
    except tomllib.TOMLDecodeError as exc:
        return [f"{sample.where}: not TOML: {exc}"]
    path = folder / f"sample-{sample.line}.toml"
    path.write_text(sample.body, encoding="utf-8")
    try:
        if "sweep" in data:
            load_sweep(path)
        elif {"sim", "expect", "name"} & set(data):
            load_scenario(path)
        else:
            parse_config(sample.body)
    except Exception as exc:  # the loaders' one-line errors, as a user would see them
        return [f"{sample.where}: {type(exc).__name__}: {exc}"]
    return []


def _run_file(sample: Sample, folder: Path) -> list[str]:
    (folder / sample.name).write_text(sample.body, encoding="utf-8")
    if not (sample.name.startswith("test_") and sample.name.endswith(".py")):
        return []
    env = {k: v for k, v in _env().items() if k != "PYTHONPATH"}  # as a user's project: statebot installed
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", sample.name], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return [f"{sample.where}: pytest {sample.name} failed:\n{done.stdout[-2500:]}{done.stderr[-1000:]}"]
    return []


RUNNERS = {"shell": _run_shell, "python": _run_python, "toml": _run_toml, "file": _run_file}


def _mentions(page: Path) -> list[tuple[str, bool]]:
    """``statebot ...`` in running text's code spans, and (prose: True) in samples' comments."""
    text = page.read_text(encoding="utf-8")
    outside = FENCE.sub("", text)
    found = [(m["code"], False) for m in SPAN.finditer(outside)]
    for match in FENCE.finditer(text):
        for line in match["body"].splitlines():
            _, hash_, comment = line.partition("#")
            if hash_:
                found += [(m, True) for m in MENTION.findall(comment)]
    return found


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_sample_on_the_page_runs_as_written(page: Path, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    problems: list[str] = []
    for sample in samples(page):
        problems += RUNNERS[sample.kind](sample, folder)
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_statebot_command_named_in_the_text_exists_with_its_options(page: Path) -> None:
    problems = [p for mention, prose in _mentions(page) for p in check_synopsis(mention, prose=prose)]
    assert not problems, "\n".join(problems)


def test_every_exception_is_still_used_and_the_pages_have_samples() -> None:
    texts = [s.body if s.kind == "python" else c for page in PAGES for s in samples(page)
             for c in (commands(s.body) if s.kind == "shell" else [s.body])]
    unused = [pattern for pattern in EXCEPTED if not any(re.search(pattern, t, flags=re.M) for t in texts)]
    assert not unused, f"exceptions no page needs any more: {unused}"
    kinds = {s.kind for page in PAGES for s in samples(page)}
    assert {"shell", "python", "toml"} <= kinds


def test_the_checks_catch_what_they_are_for() -> None:
    assert check_synopsis("statebot config --default") == ["`statebot config --default`: statebot config has no option --default"]
    assert check_synopsis("statebot config default") == []
    assert check_synopsis("statebot state show [--state-dir DIR] [--json]") == []
    assert check_synopsis("statebot nonsense") == ["`statebot nonsense`: no sub-command 'nonsense'"]
    assert _with_value_checks("f(1)   # 'x'\n") == "assert (f(1)) == 'x', (f(1))\n"
    assert _printed("prints `a`, then `b`. Later `c`.") == ["a", "b"]
    assert check_synopsis("statebot config section (see", prose=True) == []
    assert check_synopsis("statebot new-strategy x && statebot sim --strategy x:X -p a=1") == []
    assert check_synopsis("statebot config default > bot.toml") == []
    assert check_synopsis("statebot sessions --nope | head") == ["`statebot sessions --nope`: statebot sessions has no option --nope"]
