"""The race animation: frame times, the state a frame shows, the GIF, HTML and MP4 writers and
``keirin-sim run --animate``."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from cli_helpers import assert_one_line_error
from cli_helpers import run_cli as run
from PIL import Image

from keirin_sim import plots
from keirin_sim.plots import animation as A

FAST = {"speed": 40.0, "fps": 2.0, "dpi": 30}  # 112 s of race in a few frames


def test_frame_count_follows_race_time_speed_and_fps(tokyo_result):
    t_end = A.end_time(tokyo_result)
    assert t_end == max(tokyo_result.finish_times.values())
    for speed, fps in ((1.0, 10.0), (2.0, 10.0), (4.0, 5.0), (3.0, 7.0)):
        times = A.frame_times(tokyo_result, speed, fps)
        race = math.ceil(t_end * fps / speed) + 1
        assert len(times) == race + round(A.HOLD_S * fps)
        assert times[0] == 0.0 and times[race - 1] == t_end
        assert np.allclose(np.diff(times[: race - 1]), speed / fps)
        assert np.all(times[race - 1 :] == t_end)  # the last frame held
    one = A.frame_times(tokyo_result, 1.0, 10.0, hold_s=0.0)
    assert len(one) == math.ceil(t_end * 10) + 1  # real time at 10 fps: ~1,125 frames
    with pytest.raises(ValueError, match="speed"):
        A.frame_times(tokyo_result, 0.0, 10.0)
    with pytest.raises(ValueError, match="fps"):
        A.frame_times(tokyo_result, 1.0, -1.0)


def test_a_riders_dot_is_where_its_trace_says(tokyo, tokyo_result):
    tr = tokyo_result.traces
    track = tokyo.track
    k = 500  # a trace row in the race (50 s), and half-way to the next one
    for t, w in ((tr.t[k], 0.0), (0.5 * (tr.t[k] + tr.t[k + 1]), 0.5)):
        st = A.frame_state(tokyo_result, t, scenario=tokyo)
        for i, name in enumerate(tr.names):
            assert st.names[i] == name
            x = (1 - w) * tr.x_m[k, i] + w * tr.x_m[k + 1, i]
            lane = (1 - w) * tr.lane_m[k, i] + w * tr.lane_m[k + 1, i]
            assert st.x_m[i] == pytest.approx(x, abs=1e-9)
            assert st.lane_m[i] == pytest.approx(lane, abs=1e-9)
            want = track.xy(np.array([x % track.lap_m]), lane)[0]
            assert np.allclose(st.xy[i], want, atol=1e-9)
            # a lane above the measurement line is that far from the infield's edge
            assert st.speed_kmh[i] == pytest.approx(
                3.6 * ((1 - w) * tr.v_ms[k, i] + w * tr.v_ms[k + 1, i])
            )
        lead = int(np.argmax(st.x_m))
        assert st.leader == tr.names[lead] and st.gap_m[lead] == 0.0
        assert np.all(st.gap_m >= 0)
        assert st.derny_xy is not None  # 50 s: still behind the derny
        assert st.laps_to_go == math.ceil(st.m_to_go / tokyo_result.lap_m)


def test_frame_state_after_the_derny_and_at_the_finish(tokyo, tokyo_result):
    off = tokyo_result.pull_off_time_s
    st = A.frame_state(tokyo_result, off + 1.0, scenario=tokyo)
    assert st.derny_xy is None
    assert any("derny pulls off" in c for c in st.captions)
    assert any("Jason Kenny attacks" in c for c in st.captions)
    late = A.frame_state(tokyo_result, off + 10.0, scenario=tokyo, caption_s=2.0)
    assert not any("attacks" in c for c in late.captions)  # gone after a couple of seconds
    end = A.frame_state(tokyo_result, A.end_time(tokyo_result), scenario=tokyo)
    assert end.finished.all() and end.laps_to_go == 0 and end.m_to_go == 0.0
    assert np.allclose(end.x_m, tokyo_result.race_m)
    assert any("Azizulhasni Awang 6th" in c for c in end.captions)
    bell = A.frame_state(tokyo_result, tokyo_result.finish_times["Jason Kenny"] - 5.0)
    assert bell.laps_to_go == 1


def test_the_lap_board_never_shows_more_than_the_race(tokyo, tokyo_result):
    """Issue 24: at the start the riders stand behind the line; the board said 1502 m."""
    st = A.frame_state(tokyo_result, 0.0, scenario=tokyo)
    assert float(np.max(st.x_m)) < 0.0  # the leader is behind the start line
    assert st.m_to_go == tokyo_result.race_m == 1500.0
    assert st.laps_to_go == 6


def test_frame_state_needs_traces_and_the_right_track(tokyo, tokyo_result):
    from dataclasses import replace

    from keirin_sim.model.track import Track

    with pytest.raises(ValueError, match="traces"):
        A.frame_state(replace(tokyo_result, traces=None), 10.0)
    other = replace(tokyo, track=Track(lap_m=333.33))
    with pytest.raises(ValueError, match="lap"):
        A.frame_state(tokyo_result, 10.0, scenario=other)


def test_gif_opens_with_pillow_with_its_frames(tokyo, tokyo_result, tmp_path):
    path = plots.animate(tokyo_result, tmp_path / "race.gif", scenario=tokyo, **FAST)
    times = A.frame_times(tokyo_result, FAST["speed"], FAST["fps"])
    with Image.open(path) as im:
        assert im.format == "GIF"
        assert im.size == (300, 156)  # 10 x 5.2 inches at 30 dpi
        n = im.n_frames
        total = 0
        for k in range(n):
            im.seek(k)
            total += im.info["duration"]
    race = len(times) - round(A.HOLD_S * FAST["fps"])
    assert n == race  # the held frames merge into the last one
    assert total == len(times) * round(1000 / FAST["fps"])
    assert [p.name for p in tmp_path.iterdir()] == ["race.gif"]


def test_html_is_one_page_with_no_external_script(tokyo_result, tmp_path):
    path = plots.animate(tokyo_result, tmp_path / "race.html", **FAST)
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "fa fa-" not in html  # the buttons need no icon font
    n = len(A.frame_times(tokyo_result, FAST["speed"], FAST["fps"]))
    assert len(re.findall(r"frames\[\d+\] = \"data:image/png;base64,", html)) == n
    img = re.search(r'<img id="(_anim_img\w+)"', html).group(1)
    assert f"#{img} {{ background: #fff url(data:image/png;base64," in html  # the still part
    assert "anim_slider" in html and "play_animation" in html


def test_notebook_player(tokyo_result):
    player = plots.animation_player(tokyo_result, **FAST)
    html = player._repr_html_()
    assert '<img id="_anim_img' in html and "<script" in html
    assert "https://" not in html


def test_mp4_without_ffmpeg_is_a_clear_error(tokyo_result, tmp_path, monkeypatch):
    monkeypatch.setattr(A, "_ffmpeg_path", lambda: None)
    assert not plots.mp4_available()
    with pytest.raises(ValueError, match="ffmpeg"):
        plots.animate(tokyo_result, tmp_path / "race.mp4", **FAST)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not A.mp4_available(), reason="no ffmpeg here")
def test_mp4_with_ffmpeg(tokyo_result, tmp_path):
    path = plots.animate(tokyo_result, tmp_path / "race.mp4", **FAST)
    assert path.stat().st_size > 1000
    assert b"ftyp" in path.read_bytes()[:64]


def test_bad_arguments(tokyo_result, tmp_path):
    with pytest.raises(ValueError, match="'.avi'"):
        plots.animate(tokyo_result, tmp_path / "race.avi")
    with pytest.raises(ValueError, match="speed"):
        plots.animate(tokyo_result, tmp_path / "race.gif", speed=-1)
    assert list(tmp_path.iterdir()) == []


def test_still_frame(tokyo, tokyo_result, tmp_path):
    path = A.still_frame(tokyo_result, tmp_path / "f.png", 90.0, scenario=tokyo, dpi=40)
    with Image.open(path) as im:
        assert im.size == (400, 208)


# --- the command line ---------------------------------------------------------------------------


def test_run_animate_writes_the_gif(capsys, tmp_path):
    path = tmp_path / "race.gif"
    rc, out, err = run(capsys, "run", "--animate", str(path), "--speed", "50")
    assert rc == 0, err
    assert f"wrote {path}" in out
    with Image.open(path) as im:
        assert im.n_frames > 1


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["--animate", "race.avi"], ["race.avi", "--animate", ".gif, .html, .mp4"]),
        (["--animate", "race"], ["race", "--animate", "no extension"]),
        (["--animate", "missing/race.gif"], ["race.gif", "--animate", "does not exist"]),
        (["--animate", "race.gif", "--speed", "0"], ["--speed", "more than 0"]),
        (["--animate", "race.gif", "--speed", "-2"], ["--speed", "more than 0"]),
        (["--animate", "race.gif", "--speed", "fast"], ["--speed", "fast"]),
        (["--speed", "2"], ["--speed", "--animate"]),
        (["--animate", "adir.gif"], ["adir.gif", "--animate", "is a directory"]),
    ],
)
def test_run_animate_bad_input(capsys, tmp_path, monkeypatch, argv, needles):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir.gif").mkdir()
    calls = []
    monkeypatch.setattr("keirin_sim.cli.run.simulate", lambda *a, **k: calls.append(a))
    rc, out, err = run(capsys, "run", *argv)
    assert_one_line_error(rc, out, err, *needles)
    assert out == "" and calls == []  # before any work
    assert [p.name for p in tmp_path.iterdir()] == ["adir.gif"]


def test_run_animate_mp4_without_ffmpeg(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(A, "_ffmpeg_path", lambda: None)
    rc, out, err = run(capsys, "run", "--animate", str(tmp_path / "race.mp4"))
    assert_one_line_error(rc, out, err, "race.mp4", "--animate", "ffmpeg", "imageio-ffmpeg")
    assert list(tmp_path.iterdir()) == []
