"""Global sensitivity (SALib): indices that mean what they say, reproducible by seed, and bad
input in one line."""

from __future__ import annotations

import json

import pytest
from cli_helpers import run_cli

from keirin_sim.questions.sensitivity import parse_inputs, sensitivity

pytest.importorskip("SALib")

KENNY = "Jason Kenny.flying_200_s=9.3:9.7"
#: read only by the general behaviour (racing.py); the scripted field never uses it
IGNORED = "Harrie Lavreysen.launch_spread_m=0:200"


@pytest.fixture(scope="module")
def sobol(scripted):
    return sensitivity(
        scripted, "last200:Jason Kenny", [KENNY, IGNORED], 16, seed=3, workers=1, progress=False
    )


def test_an_input_that_cannot_matter_has_indices_near_zero(sobol):
    ix = dict(zip([i.name for i in sobol.inputs], sobol.indices, strict=True))
    ignored = ix["Harrie Lavreysen.launch_spread_m"]
    assert abs(ignored["S1"]) < 0.02 and abs(ignored["ST"]) < 0.02


def test_the_dominant_input_ranks_first(sobol):
    assert sobol.ranking()[0] == "Jason Kenny.flying_200_s"
    top = sobol.indices[0]
    assert top["ST"] > 0.8 and top["S1"] > 0.8
    assert sobol.evaluations == 16 * (2 + 2)


def test_same_seed_same_indices_for_any_workers(scripted, sobol):
    again = sensitivity(
        scripted, "last200:Jason Kenny", [KENNY, IGNORED], 16, seed=3, workers=2, progress=False
    )
    assert again.to_dict() == sobol.to_dict()


def test_morris_screens_the_same_way(scripted):
    m = sensitivity(
        scripted, "last200:Jason Kenny", [KENNY, IGNORED], 4, seed=1, method="morris",
        workers=1, progress=False,
    )  # fmt: skip
    assert m.ranking()[0] == "Jason Kenny.flying_200_s"
    assert m.indices[1]["mu_star"] == pytest.approx(0.0, abs=1e-9)
    assert m.evaluations == 4 * 3


def test_the_scenario_s_uncertainty_is_the_default_input(tokyo):
    names = [i.name for i in parse_inputs(tokyo, None)]
    assert "air_density" in names and "Jason Kenny.flying_200_s" in names
    assert len(names) == 7  # six riders' form and the air


def test_cli_json_and_outputs(capsys, tmp_path, scripted):
    png, rows = tmp_path / "s.png", tmp_path / "s.csv"
    src = "tests/data/tokyo_scripted.toml"
    rc, out, err = run_cli(
        capsys, "sensitivity", src, "--output", "margin", "--params", KENNY,
        "Matthew Glaetzer.flying_200_s=9.0:9.5", "--samples", 16, "--workers", 1, "--json",
        "--plot", png, "--out", rows,
    )  # fmt: skip
    assert rc == 0, err
    d = json.loads(out)
    assert d["output"] == "margin" and d["method"] == "sobol" and d["samples"] == 16
    for p in d["params"]:
        assert set(p) >= {"name", "S1", "S1_conf", "ST", "ST_conf"}
    assert png.stat().st_size > 5_000
    assert len(rows.read_text().splitlines()) == 1 + 16 * 4


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--output", "speed"], "--output: 'speed' is not one of"),
        (["--output", "win:Nobody"], "no rider named 'Nobody'"),
        (["--output", "margin", "--params", "Jason Kenny.w_prime_j=40000:30000"], "low end above"),
        (["--output", "margin", "--params", "Jason Kenny.power=1:2"], "--params"),
        (["--output", "margin", "--samples", "8"], "--samples: sobol needs a power of two"),
        (["--output", "margin", "--samples", "24"], "--samples: sobol needs a power of two"),
        (["--output", "margin", "--method", "morris", "--samples", "2"], "--samples: morris"),
        (["neutral_field.toml", "--output", "win:Rider 1"], "nothing continuous to vary"),
        (["--output", "margin", "--plot", "s.gif"], "--plot"),
    ],
)
def test_cli_bad_input_is_one_line(capsys, argv, needle):
    rc, out, err = run_cli(capsys, "sensitivity", *argv)
    assert rc == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1


def test_to_dataframe_is_the_sample_and_rows_its_alias(sobol):
    df = sobol.to_dataframe()
    assert list(df.columns) == [i.name for i in sobol.inputs] + [sobol.output]
    assert len(df) == sobol.evaluations
    assert (df[sobol.output].to_numpy() == sobol.Y).all()
    assert df.equals(sobol.rows())
