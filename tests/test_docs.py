"""The Python examples of README.md and of every docs/*.md page run as written, and where a page
shows what an example prints (a ```text block right after it, introduced by "prints"), the
output must match, the way SimPy's documentation checks its examples.  Every relative link from
those pages (and from CHANGELOG.md) to a file must point at one that exists."""

from __future__ import annotations

import re
from pathlib import Path

import doc_console
import pytest
from toolchain import on_reference_toolchain

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLE = re.compile(r"```python\n(.*?)```(?:\s*\nprints\s*\n\s*```text\n(.*?)```)?", re.S)
FENCED = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _examples() -> list[tuple[Path, int, str, str | None]]:
    out = []
    for page in PAGES:
        for k, m in enumerate(EXAMPLE.finditer(page.read_text())):
            out.append((page, k + 1, m.group(1), m.group(2)))
    return out


def _links() -> list[tuple[Path, str]]:
    out = []
    for page in [*PAGES, ROOT / "CHANGELOG.md"]:
        prose = FENCED.sub("", page.read_text())
        for target in dict.fromkeys(LINK.findall(prose)):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a web address or an anchor on the same page
            out.append((page, target))
    return out


EXAMPLES = _examples()
LINKS = _links()


def test_docs_have_checked_examples():
    assert (ROOT / "docs" / "index.md").is_file()
    assert len(EXAMPLES) >= 3
    assert sum(expected is not None for *_, expected in EXAMPLES) >= 2
    assert any(page.name == "README.md" for page, *_ in EXAMPLES)


@pytest.mark.parametrize(
    ("page", "k", "code", "expected"),
    EXAMPLES,
    ids=[f"{_name(page)}:python{k}" for page, k, *_ in EXAMPLES],
)
def test_example(page, k, code, expected, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exec(compile(code, f"{_name(page)} python block {k}", "exec"), {"__name__": "docs"})
    out = capsys.readouterr().out
    assert out.strip(), "each example prints what it shows"
    if expected is not None and on_reference_toolchain():
        # (the printed figures were made on the rows fingerprint's toolchain: elsewhere the
        # example must run, and its figures may differ in the last digits)
        assert out.strip() == expected.strip()


def test_pages_have_links():
    assert any(page.name == "index.md" for page, _ in LINKS)


@pytest.mark.parametrize(
    ("page", "target"), LINKS, ids=[f"{_name(page)}->{target}" for page, target in LINKS]
)
def test_relative_link_exists(page, target):
    path = target.split("#", 1)[0]
    assert (page.parent / path).exists(), f"{_name(page)} links to a missing file: {target}"


# --- command-line examples whose output the page shows (issue 24) ---------------------------
CONSOLE_EXAMPLES = doc_console.examples(PAGES)


def test_console_examples_with_output_are_found():
    assert sum(not ex.transcript for ex in CONSOLE_EXAMPLES) >= 1  # the sweep table
    assert sum(ex.transcript for ex in CONSOLE_EXAMPLES) >= 3  # the error transcripts
    pages = {ex.page.name for ex in CONSOLE_EXAMPLES}
    assert {"monte-carlo.md", "cli.md", "animation.md", "timetrial.md"} <= pages


@pytest.mark.parametrize(
    "ex", CONSOLE_EXAMPLES, ids=[f"{_name(ex.page)}:console{ex.k}" for ex in CONSOLE_EXAMPLES]
)
def test_console_example_prints_what_the_page_shows(ex, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # its files are written here; the shipped scenarios beside
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    got = doc_console.outputs(ex, tmp_path)
    if not ex.transcript and not on_reference_toolchain():
        return  # it ran; its figures were made on the fingerprint's toolchain (see toolchain.py)
    for cmd, want, have in zip(ex.commands, ex.expected, got, strict=True):
        assert doc_console.normalise(have, ex.varies) == doc_console.normalise(want, ex.varies), (
            f"{_name(ex.page)}: {cmd}"
        )


REPO = "https://github.com/keirin-sim/keirin-sim/blob/main/"


def test_readme_links_are_absolute_and_point_at_files_that_exist():
    """The README is also the package index page, where relative links break: its links are
    absolute, and each one into the repository names a file of this checkout."""
    prose = FENCED.sub("", (ROOT / "README.md").read_text())
    targets = LINK.findall(prose)
    assert targets and all(re.match(r"https?://", t) for t in targets), targets
    missing = [
        t
        for t in targets
        if t.startswith(REPO) and not (ROOT / t[len(REPO) :].split("#", 1)[0]).exists()
    ]
    assert missing == []
