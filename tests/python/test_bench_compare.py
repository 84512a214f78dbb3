"""bench/compare.py's scaling arithmetic: the Amdahl projection it checks against
measured 4- and 6-thread speeds must be the study's (LambdaPlanner.scalingFit)."""
import importlib.util

import pytest

from conftest import REPO

spec = importlib.util.spec_from_file_location("compare", REPO / "bench" / "compare.py")
compare = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare)


def test_amdahl_fit_passes_through_both_measured_points():
    # 10 tok/s at 1 thread, 16 at 2: t1 = 0.1 s, t2 = 0.0625 s, so p = 0.075 s, s = 0.025 s.
    s, p = compare.amdahl_fit({1: 10.0, 2: 16.0})
    assert s == pytest.approx(0.025)
    assert p == pytest.approx(0.075)
    assert 1 / (s + p / 4) == pytest.approx(1 / 0.04375)


def test_amdahl_fit_uses_only_the_two_smallest_counts():
    assert compare.amdahl_fit({4: 1.0, 1: 10.0, 2: 16.0}) == compare.amdahl_fit({1: 10.0, 2: 16.0})


def test_amdahl_fit_assumes_no_gain_when_more_threads_ran_slower():
    s, p = compare.amdahl_fit({1: 10.0, 2: 8.0})
    assert (s, p) == (pytest.approx(0.1), 0.0)


def test_amdahl_fit_caps_better_than_perfect_scaling_at_perfect():
    s, p = compare.amdahl_fit({1: 10.0, 2: 25.0})
    assert (s, p) == (0.0, pytest.approx(0.1))


def test_amdahl_fit_needs_two_usable_counts():
    assert compare.amdahl_fit({1: 10.0}) is None
    assert compare.amdahl_fit({1: 10.0, 2: None}) is None
    assert compare.amdahl_fit({1: 10.0, 2: 0.0}) is None


def test_scaling_table_shows_speedups_and_projection_for_counts_beyond_the_fit():
    speeds = {("m", 1, "ours", "decode"): 10.0, ("m", 2, "ours", "decode"): 16.0, ("m", 4, "ours", "decode"): 20.0}

    def med(label, t, engine, key):
        return speeds.get((label, t, engine, key))

    lines = compare.scaling_lines([("m", "/x", 1)], [1, 2, 4], ["ours"], med)
    assert "1 thread, tok/s" in lines[3]
    rows = [line for line in lines if line.startswith("| m |")]
    # Prefill was not measured, so only decode has a row; 4 threads ran at 2.00x where the
    # fit through 1 and 2 threads projected 22.86 / 10 = 2.29x.
    assert rows == ["| m | ours | decode | 10.00 | 1.60x | 2.00x (2.29x) |"]


def test_round_ratios_pair_runs_of_the_same_round_and_skip_rounds_without_the_figure():
    ours = [{"decode": 10.0}, {"decode": 12.0}, {"error": "x"}]
    peer = [{"decode": 8.0}, {"decode": 12.0}, {"decode": 9.0}]
    assert compare.round_ratios(ours, peer, "decode") == [1.25, 1.0]
    assert compare.round_ratios(ours, [{"decode": 0.0}], "decode") == []


def test_ratio_cell_shows_the_round_range_only_when_there_were_several_rounds():
    assert compare.ratio_cell(1.1, [1.0, 1.25, 1.1]) == "1.10 (1.00-1.25)"
    assert compare.ratio_cell(1.1, [1.1]) == "1.10"
    assert compare.ratio_cell(None, [1.0, 2.0]) == "n/a"


def test_targets_count_missed_cells_that_met_the_target_in_some_round():
    names = {"decode": "decode >= 1.10x", "load": "load < 1 s"}
    verdicts = {
        "decode": [("a t=1", 1.05, False, [0.98, 1.05, 1.12], 1.10),  # one round above the target
                   ("a t=2", 0.90, False, [0.85, 0.90, 0.95], 1.10),  # never
                   ("b t=1", 1.30, True, [1.2, 1.3, 1.4], 1.10)],
        "load": [],
    }
    lines = compare.target_lines(names, verdicts)
    assert "| decode >= 1.10x | 1 of 3 | a t=1 (1.05 (0.98-1.12)), a t=2 (0.90 (0.85-0.95)) |" in lines
    assert "| load < 1 s | not measured | |" in lines
    assert lines[-1] == "Missed cells that met the target in at least one round: 1 of 2."
    met = {"decode": [("b t=1", 1.30, True, [1.2, 1.4], 1.10)], "load": [("f", 0.5, True, [], None)]}
    assert not any(line.startswith("Missed") for line in compare.target_lines(names, met))
