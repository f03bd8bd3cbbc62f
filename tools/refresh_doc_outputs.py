"""Run the Python examples of README.md and docs/*.md and write what each prints into the
```text block that shows it (after a deliberate change of results; review the diff).

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
        if new != text:
            page.write_text(new)
            print(f"updated {page.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
