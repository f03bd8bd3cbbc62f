"""Issue 24: installed read-only and run with no writable home, numba's cache failure at import
("cannot cache function '_interp'") falls back to a private temporary directory or to no cache,
in one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from keirin_sim.engine import jitcache

ROOT = Path(__file__).resolve().parents[2]


def _read_only_like_install(tmp_path: Path) -> Path:
    """A copy of the package where numba cannot cache beside the source: ``__pycache__`` is a
    file (what a read-only install is to an unprivileged user, even when the tests run as
    root)."""
    site = tmp_path / "site"
    shutil.copytree(
        ROOT / "keirin_sim", site / "keirin_sim", ignore=shutil.ignore_patterns("__pycache__")
    )
    for d in [site / "keirin_sim", *(p for p in (site / "keirin_sim").iterdir() if p.is_dir())]:
        (d / "__pycache__").write_text("not a directory")
    return site


def _env(tmp_path: Path, site: Path, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KEIRIN_SIM_NO_CACHE_NOTED", None)
    env.update(
        PYTHONPATH=str(site),
        HOME="/dev/null",  # no writable home
        XDG_CACHE_HOME="/dev/null/cache",
        NUMBA_CACHE_DIR="/dev/null/numba",  # and an unwritable cache dir
        TMPDIR=str(tmp),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def test_import_falls_back_to_a_private_temporary_cache(tmp_path):
    site = _read_only_like_install(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code = "import keirin_sim, keirin_sim.engine.kernel as k; print(k.__file__, k.CACHE)"
    p = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(tmp_path, site, tmp),
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keirin-sim: note: numba cannot"), p.stderr
    private = tmp / f"keirin-sim-numba-{os.getuid()}"
    assert str(private) in lines[0]
    assert p.stdout.split() == [str(site / "keirin_sim" / "engine" / "kernel.py"), "True"]
    assert private.is_dir() and (private.stat().st_mode & 0o777) == 0o700


def test_nowhere_writable_compiles_without_a_cache(monkeypatch, capsys):
    monkeypatch.setattr(jitcache, "_can_cache", lambda probe: False)
    monkeypatch.setattr(jitcache, "_private_dir", lambda: None)
    monkeypatch.delenv("KEIRIN_SIM_NO_CACHE_NOTED", raising=False)
    assert jitcache.cache_setting(lambda: 0, "kernel.py") is False
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "compiling the kernel afresh" in err[0]
    assert jitcache.cache_setting(lambda: 0, "kernel.py") is False  # said once a process tree
    assert capsys.readouterr().err == ""


def test_a_private_dir_made_by_someone_else_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setattr(jitcache.tempfile, "gettempdir", lambda: str(tmp_path))
    d = tmp_path / f"keirin-sim-numba-{os.getuid()}"
    d.mkdir(mode=0o777)
    d.chmod(0o777)  # group/world-writable: another user could plant compiled code
    assert jitcache._private_dir() is None
    d.chmod(0o700)
    assert jitcache._private_dir() == d
