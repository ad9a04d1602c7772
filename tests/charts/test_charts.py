"""Behaviour of qi.charts beyond the published values: phases, freeze, meanings, verdicts and bad input.

The published-values tests (qicharts2, NHSRplotthedots) are in test_published_values.py.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from qi import charts
from qi.charts import ChartError, Observation

MONDAY = dt.date(2026, 1, 5)
STEADY = [10, 12, 11, 9, 10, 13, 11, 10, 12, 9, 11, 10]
BETTER = [15, 16, 14, 15, 17, 16, 15, 14, 16, 15, 17, 16]


def weekly(values, start=MONDAY):
    return [Observation(start + dt.timedelta(weeks=i), value=v) for i, v in enumerate(values)]


def week(n):
    return MONDAY + dt.timedelta(weeks=n)


def rules(analysis):
    return [(s.rule, s.points) for s in analysis.signals]


def test_shift_after_a_change_is_an_improvement_when_higher_is_better():
    analysis = charts.analyse(weekly(STEADY + BETTER), "xmr", better="up")
    before, after = (s for s in analysis.signals if s.rule == "shift")
    assert (before.points, before.side, before.meaning) == (list(range(12)), "low", "concern")
    shift = after
    assert shift.points == list(range(12, 24))
    assert (shift.side, shift.meaning) == ("high", "improvement")
    assert analysis.verdict == (
        "Since 30 March 2026, 12 points in a row above the mean: the change is working, not chance."
    )
    assert analysis.variation == "improvement_high"


def test_the_same_shift_is_a_concern_when_lower_is_better_and_neutral_without_a_direction():
    concern = charts.analyse(weekly(STEADY + BETTER), "xmr", better="down")
    assert [(s.side, s.meaning) for s in concern.signals if s.rule == "shift"] == [
        ("low", "improvement"),
        ("high", "concern"),
    ]
    assert concern.verdict.endswith("things have got worse, not by chance.")
    assert concern.variation == "concern_high"
    neutral = charts.analyse(weekly(STEADY + BETTER), "xmr")
    assert {s.meaning for s in neutral.signals} == {"neutral"}
    assert neutral.variation == "neutral_high"


def test_a_point_on_the_mean_breaks_a_run():
    values = [12] * 6 + [10] + [12] * 6 + [-14]  # mean exactly 10: the 7th point sits on it
    analysis = charts.analyse(weekly(values), "xmr")
    assert analysis.phases[0].centre == 10
    assert not [s for s in analysis.signals if s.rule == "shift"]
    values[6] = 11  # off the mean: thirteen points in a row above it
    shifted = charts.analyse(weekly(values), "xmr")
    assert [s.points for s in shifted.signals if s.rule == "shift"] == [list(range(13))]


def test_run_length_and_trend_length_are_configurable():
    values = [*STEADY, 14, 15, 14, 15, 14, 15]  # six above the mean
    assert not [s for s in charts.analyse(weekly(values), "xmr").signals if s.rule == "shift"]
    six = charts.analyse(weekly(values), "xmr", run_length=6)
    assert [s.points for s in six.signals if s.rule == "shift"] == [list(range(12, 18))]
    rising = [*STEADY[:-1], 9, 10, 11, 12, 13, 14, 15]  # 7 rising points from week 11
    seven = charts.analyse(weekly(rising), "xmr", trend_length=7)
    assert [s.points for s in seven.signals if s.rule == "trend"] == [list(range(11, 18))]
    eight = charts.analyse(weekly(rising), "xmr", trend_length=8)
    assert not [s for s in eight.signals if s.rule == "trend"]


def test_equal_neighbours_break_a_trend():
    values = [*STEADY, 5, 6, 7, 8, 8, 9, 10, 11]
    analysis = charts.analyse(weekly(values), "xmr")
    assert not [s for s in analysis.signals if s.rule == "trend"]


def test_freeze_keeps_the_baseline_limits_for_later_points():
    frozen = charts.analyse(weekly(STEADY + BETTER), "xmr", better="up", freeze=12)
    baseline = charts.analyse(weekly(STEADY), "xmr", better="up")
    assert frozen.phases[0].centre == pytest.approx(baseline.phases[0].centre)
    assert frozen.phases[0].baseline_points == 12
    points = frozen.points
    assert [p.baseline for p in points] == [True] * 12 + [False] * 12
    assert {p.upper_limit for p in points} == {baseline.points[0].upper_limit}
    assert [s.points for s in frozen.signals if s.rule == "outside_limits"]  # judged on the old limits


def test_a_phase_recalculates_from_its_change_point_and_rules_do_not_cross_it():
    analysis = charts.analyse(weekly(STEADY + BETTER), "xmr", better="up", phase_starts=[week(12)])
    assert [(p.start, p.end) for p in analysis.phases] == [(0, 11), (12, 23)]
    assert analysis.phases[1].centre == pytest.approx(sum(BETTER) / 12)
    assert analysis.signals == []
    assert analysis.verdict.startswith("No signal since 30 March 2026: the 12 points vary within the process limits")


def test_a_phase_start_between_points_begins_at_the_next_point_and_one_after_the_data_is_ignored():
    analysis = charts.analyse(weekly(STEADY + BETTER), "run", phase_starts=[week(12) - dt.timedelta(days=3), week(40)])
    assert [p.start for p in analysis.phases] == [0, 12]


def test_freeze_must_fit_the_first_phase():
    with pytest.raises(ChartError) as error:
        charts.analyse(weekly(STEADY + BETTER), "xmr", freeze=13, phase_starts=[week(12)])
    assert error.value.field == "freeze"
    with pytest.raises(ChartError):
        charts.analyse(weekly(STEADY), "xmr", freeze=1)


def test_moving_range_screening_can_be_turned_off():
    values = [10, 11] * 12
    values[5] = 40
    screened = charts.analyse(weekly(values), "xmr")
    unscreened = charts.analyse(weekly(values), "xmr", screen_moving_ranges=False)
    assert screened.phases[0].screened_moving_ranges == 2
    assert unscreened.phases[0].screened_moving_ranges == 0
    assert screened.phases[0].mean_moving_range < unscreened.phases[0].mean_moving_range
    assert [s.points for s in screened.signals if s.rule == "outside_limits"] == [[5]]


def test_two_of_three_close_to_a_limit_on_the_same_side():
    # baseline mean 10.5, mean moving range 1: limits 7.84 to 13.16, the upper zone starts at 12.27
    values = [10, 11] * 6 + [10, 12.5, 11, 12.6, 10, 11, 10, 11]
    analysis = charts.analyse(weekly(values), "xmr", better="up", freeze=12)
    point = analysis.points[13]
    assert point.upper_near < 12.5 < point.upper_limit
    (signal,) = analysis.signals
    assert (signal.rule, signal.points) == ("two_of_three", [13, 15])
    assert (signal.side, signal.meaning) == ("high", "improvement")
    assert analysis.points[14].rules == []  # the middle point is not close to the limit


def test_run_chart_long_run_and_few_crossings():
    analysis = charts.analyse(weekly(STEADY + BETTER), "run", better="up")
    runs = analysis.phases[0].runs
    assert runs == {
        "useful_observations": 24,
        "longest_run": 12,
        "longest_run_max": 8,
        "crossings": 1,
        "crossings_min": 8,
    }
    assert ("few_crossings", list(range(24))) in rules(analysis)
    assert [s.points for s in analysis.signals if s.rule == "long_run"] == [list(range(12)), list(range(12, 24))]
    assert not [p for p in analysis.points if "few_crossings" in p.rules]  # it marks the centre line, not points
    assert analysis.verdict == (
        "Since 30 March 2026, 12 points in a row above the median: the change is working, not chance."
    )


def test_run_chart_points_on_the_median_are_not_useful():
    values = [1, 2, 3, 3, 3, 4, 5, 3, 2, 4, 3, 1, 5]
    analysis = charts.analyse(weekly(values), "run")
    assert analysis.phases[0].centre == 3
    assert analysis.phases[0].runs["useful_observations"] == 8


def test_p_chart_limits_vary_with_the_denominator_and_are_clipped():
    rows = [Observation(week(i), numerator=n, denominator=d) for i, (n, d) in enumerate([(1, 2), (50, 100)] * 6)]
    analysis = charts.analyse(rows, "p", better="up")
    pbar = 0.5
    small, large = analysis.points[0], analysis.points[1]
    assert small.centre == pytest.approx(pbar)
    assert small.upper_limit == 1.0  # clipped
    assert large.upper_limit == pytest.approx(pbar + 3 * (pbar * (1 - pbar) / 100) ** 0.5)
    assert small.lower_limit == 0.0 < large.lower_limit == pytest.approx(0.35)


def test_c_chart_limits_and_lower_limit_clipped_at_zero():
    analysis = charts.analyse(weekly([1, 0, 2, 1, 0, 1, 3, 1, 0, 1, 2, 0]), "c")
    point = analysis.points[0]
    assert point.centre == pytest.approx(1.0)
    assert point.upper_limit == pytest.approx(4.0)
    assert point.lower_limit == 0.0


def test_assurance_against_a_target():
    steady = weekly(STEADY)
    limits = charts.analyse(steady, "xmr").points[0]
    assert charts.analyse(steady, "xmr", better="up", target=limits.lower_limit - 1).assurance == "meets"
    assert charts.analyse(steady, "xmr", better="up", target=limits.upper_limit + 1).assurance == "fails"
    assert charts.analyse(steady, "xmr", better="down", target=limits.upper_limit + 1).assurance == "meets"
    middle = charts.analyse(steady, "xmr", better="up", target=11)
    assert middle.assurance == "may_or_may_not"
    assert "sometimes meet it and sometimes not" in middle.assurance_text
    assert charts.analyse(steady, "run", better="up", target=11).assurance is None


def test_fewer_than_twelve_points_gives_a_warning_not_a_verdict():
    analysis = charts.analyse(weekly([10, 20, 30, 40, 50, 60, 70, 80]), "xmr", better="up")
    assert analysis.signals  # the signals are still shown on the chart
    assert analysis.verdict.startswith("Too early to tell: 8 points so far")
    assert analysis.warnings == [
        "Only 8 points: a XmR chart needs at least 12 before it can tell a real change from chance."
    ]


def test_short_phases_are_provisional():
    analysis = charts.analyse(weekly(STEADY + BETTER[:5]), "xmr", phase_starts=[week(12)])
    assert any("Phase 2" in warning and "only 5 points" in warning for warning in analysis.warnings)


def test_no_data_is_an_empty_chart_not_an_error():
    analysis = charts.analyse([], "p")
    assert analysis.point_count == 0
    assert analysis.verdict == "No data yet: the chart starts with the first data point."
    assert analysis.as_dict()["points"] == []


@pytest.mark.parametrize(
    ("kind", "rows", "row", "message"),
    [
        ("p", [Observation(MONDAY, value=3)], 0, "a P chart needs a numerator and a denominator"),
        ("c", [Observation(MONDAY, value=2.5)], 0, "whole number"),
        ("c", [Observation(MONDAY, numerator=1, denominator=2)], 0, "needs a count"),
        ("xmr", [Observation(MONDAY, value=1), Observation(week(1), numerator=3, denominator=2)], 1, "numerator"),
        ("xmr", [Observation(week(1), value=1), Observation(MONDAY, value=2)], 1, "in order"),
        ("xmr", [Observation(MONDAY, value=1), Observation(MONDAY, value=2)], 1, "appears twice"),
        ("run", [Observation(MONDAY, value=float("nan"))], 0, "finite"),
        ("run", [Observation(MONDAY)], 0, "has no value"),
        ("run", [Observation(MONDAY, value=85), Observation(week(1), numerator=4, denominator=5)], 1, "earlier rows"),
        ("xmr", [Observation(MONDAY, numerator=4, denominator=5), Observation(week(1), value=85)], 1, "earlier rows"),
    ],
)
def test_bad_input_names_the_row(kind, rows, row, message):
    with pytest.raises(ChartError) as error:
        charts.analyse(rows, kind)
    assert error.value.row == row
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("options", "field"),
    [({"kind": "u"}, "kind"), ({"better": "left"}, "better"), ({"run_length": 3}, "run_length")],
)
def test_bad_settings_name_the_setting(options, field):
    arguments = {"kind": "xmr"} | options
    with pytest.raises(ChartError) as error:
        charts.analyse(weekly(STEADY), arguments.pop("kind"), **arguments)
    assert error.value.field == field


def test_proportions_on_a_run_chart_are_shown_as_percentages():
    rows = [Observation(week(i), numerator=n, denominator=20) for i, n in enumerate([10] * 6 + [18] * 8)]
    analysis = charts.analyse(rows, "xmr", better="up", target=0.8)
    assert "80.0%" in analysis.assurance_text


def test_as_dict_is_json_and_matches_the_points():
    analysis = charts.analyse(weekly(STEADY + BETTER), "xmr", better="up", target=14)
    data = json.loads(json.dumps(analysis.as_dict()))
    assert len(data["points"]) == 24
    assert "shift" in data["points"][12]["rules"]
    assert data["signals"][0]["label"] == charts.RULE_LABELS[data["signals"][0]["rule"]]
    assert data["phases"][0]["first_point"] == 0 and data["phases"][0]["last_point"] == 23
    assert data["verdict"] == analysis.verdict
    assert data["assurance"] == "may_or_may_not"


def test_an_old_signal_is_mentioned_not_reported_as_the_present():
    values = [*STEADY, 30, *STEADY, *STEADY]
    analysis = charts.analyse(weekly(values), "xmr", better="up")
    assert [s.points for s in analysis.signals if s.rule == "outside_limits"] == [[12]]
    assert analysis.verdict == (
        "No signal since 6 April 2026: the 24 points since vary within the process limits only as much as chance "
        "would explain (the last signal: a point above the upper process limit, 30 March 2026)."
    )
    assert analysis.variation == "common_cause"


def test_a_new_phase_with_few_points_is_too_early_to_tell():
    analysis = charts.analyse(weekly([*STEADY, 15]), "xmr", better="up", phase_starts=[week(12)])
    assert analysis.verdict == (
        "Too early to tell since 30 March 2026: 1 point in this phase so far, and at least 12 are needed to tell a "
        "real change from chance."
    )


def test_too_few_points_give_no_icons_either():
    analysis = charts.analyse(weekly([10, 20, 30, 40, 50, 60, 70, 80]), "xmr", better="up", target=5)
    assert (analysis.variation, analysis.assurance, analysis.assurance_text) == (None, None, "")


@pytest.mark.parametrize(
    ("kind", "rows"),
    [
        ("xmr", weekly([5] * 12 + [5.01, 4.99])),
        ("c", weekly([0] * 12 + [1, 0])),
        (
            "p",
            [Observation(week(i), numerator=20, denominator=20) for i in range(12)]
            + [Observation(week(12), numerator=19, denominator=20)],
        ),
    ],
)
def test_a_baseline_without_variation_flags_no_point_outside_its_zero_width_limits(kind, rows):
    analysis = charts.analyse(rows, kind, better="up", freeze=12)
    assert analysis.phases[0].flat
    assert not [s for s in analysis.signals if s.rule in ("outside_limits", "two_of_three")]
    assert "has no variation" in analysis.warnings[0]
    if kind == "xmr":
        assert analysis.phases[0].screened_moving_ranges == 0


def test_freeze_on_too_little_data_says_so():
    with pytest.raises(ChartError, match="a baseline needs at least 2 points, and the first phase has 0"):
        charts.analyse([], "xmr", freeze=5)
    with pytest.raises(ChartError, match="the first phase has 1"):
        charts.analyse(weekly([1]), "xmr", freeze=2)
