"""The command-line examples of the docs whose output the page shows, run and compared (issue
24: a stale sweep table went unnoticed because console examples were never run).

Two forms are recognised in README.md and docs/*.md:

- a ```console block of commands followed by a line starting "prints" and a ```text block:
  the commands' standard output must be that text; when the "prints" line says the time
  "varies", a time in brackets such as "(2.0 s)" is not compared;
- a ```console transcript whose lines start with "$ ": each command's output (standard output
  and standard error, in order) is the lines up to the next "$ "; ``echo $?`` prints the
  previous command's exit status.

``keirin-sim`` commands run in this process (keirin_sim.cli.main); any other command runs in
``bash``.  tools/refresh_doc_outputs.py rewrites the outputs of the first form.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: one fence's body, never reaching past its closing fence
_BODY = r"((?:(?!```).)*?)"
PRINTED = re.compile(
    r"```console\n" + _BODY + r"```[ \t]*\n[ \t]*\n?(prints[^\n]*)\n\s*```text\n" + _BODY + "```",
    re.S,
)
CONSOLE = re.compile(r"```console\n" + _BODY + "```", re.S)
TIME = re.compile(r"\(\d+(?:\.\d+)? s\)")


@dataclass(frozen=True)
class ConsoleExample:
    page: Path
    k: int
    commands: tuple[str, ...]
    #: the output shown after each command (one entry for the "prints" form)
    expected: tuple[str, ...]
    transcript: bool
    varies: bool = False
    #: where the expected text sits in the page (the "prints" form), for the refresh tool
    span: tuple[int, int] | None = None


def _commands(block: str) -> list[str]:
    text = block.replace("\\\n", " ")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def examples(pages: list[Path]) -> list[ConsoleExample]:
    out = []
    for page in pages:
        text = page.read_text()
        k = 0
        for m in PRINTED.finditer(text):
            k += 1
            out.append(
                ConsoleExample(
                    page,
                    k,
                    tuple(_commands(m.group(1))),
                    (m.group(3),),
                    False,
                    "varies" in m.group(2),
                    m.span(3),
                )
            )
        for m in CONSOLE.finditer(text):
            lines = m.group(1).splitlines()
            if not lines or not lines[0].startswith("$ "):
                continue
            k += 1
            cmds: list[str] = []
            outs: list[list[str]] = []
            for ln in lines:
                if ln.startswith("$ "):
                    cmds.append(ln[2:].strip())
                    outs.append([])
                else:
                    outs[-1].append(ln)
            out.append(
                ConsoleExample(page, k, tuple(cmds), tuple("\n".join(o) for o in outs), True)
            )
    return out


def run(command: str, cwd: Path, last_rc: int = 0) -> tuple[int, str]:
    """(exit status, standard output and error) of one command of an example."""
    if command == "echo $?":
        return 0, f"{last_rc}\n"
    argv = shlex.split(command, comments=True)
    if argv and argv[0] == "keirin-sim":
        from keirin_sim.cli import main

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            rc = main(argv[1:])
        return rc, buf.getvalue()
    p = subprocess.run(
        ["bash", "-c", command], cwd=cwd, capture_output=True, text=True, check=False
    )
    return p.returncode, p.stdout + p.stderr


def outputs(ex: ConsoleExample, cwd: Path) -> tuple[str, ...]:
    """What the example's commands print, in the shape of ``ex.expected`` (run in ``cwd``,
    which must be the working directory)."""
    got: list[str] = []
    rc = 0
    for cmd in ex.commands:
        rc, text = run(cmd, cwd, rc)
        got.append(text)
    if not ex.transcript:
        return ("".join(got),)
    return tuple(got)


def normalise(text: str, varies: bool) -> str:
    text = "\n".join(ln.rstrip() for ln in text.strip().splitlines())
    return TIME.sub("(... s)", text) if varies else text
