"""Run the Python examples of README.md and docs/*.md and write what each prints into the
```text block that shows it (after a deliberate change of results; review the diff); the same
for the command-line examples followed by "prints" (tests/doc_console.py, run in a temporary
folder). The "$ " transcripts are not rewritten: fix those by hand.

    python tools/refresh_doc_outputs.py
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the pattern of tests/test_docs.py: a python block, optionally followed by what it prints
EXAMPLE = re.compile(r"```python\n(.*?)```(?:\s*\nprints\s*\n\s*```text\n(.*?)```)?", re.S)


def main() -> None:
    os.chdir(ROOT)
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()

        def run(m: re.Match, page: Path = page) -> str:
            if m.group(2) is None:
                return m.group(0)
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                exec(compile(m.group(1), str(page), "exec"), {"__name__": "docs"})
            start, end = m.span(2)
            whole = m.group(0)
            s0 = start - m.start()
            return whole[:s0] + buf.getvalue().strip() + "\n" + whole[end - m.start() :]

        new = EXAMPLE.sub(run, text)
        page.write_text(new)
        new = _console(page, new)
        if new != text:
            page.write_text(new)
            print(f"updated {page.relative_to(ROOT)}")


def _console(page: Path, text: str) -> str:
    """The page with the outputs of its "prints" command-line examples refreshed."""
    import sys
    import tempfile

    sys.path.insert(0, str(ROOT / "tests"))
    import doc_console

    edits = []
    for ex in doc_console.examples([page]):
        if ex.transcript or ex.span is None:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "scenarios").symlink_to(ROOT / "scenarios")
            os.chdir(tmp)
            try:
                (out,) = doc_console.outputs(ex, Path(tmp))
            finally:
                os.chdir(ROOT)
        edits.append((ex.span, out.strip() + "\n"))
    for (a, b), out in sorted(edits, reverse=True):
        text = text[:a] + out + text[b:]
    return text


if __name__ == "__main__":
    main()
