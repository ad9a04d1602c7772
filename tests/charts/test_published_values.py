"""qi.charts checked against values published by the packages and books it follows.

Every test names its source (repository, file, commit); the commits are abbreviated in the tests and given in
full below. Data are typed in from the source: literal vectors in code and tests, text data files, and values
printed in vignettes, books and test snapshots. None of these tests touches the database.

Sources (GitHub repository, path @ commit):

- anhoej/pbcharts README.md @ 02bde55e3a65e2af4614c8fca961118e66daa4b8 (Anhoej's table of critical values for
  n = 10..100, as qicharts2 renders it in its vignette Appendix 2); tests/testthat/test-pbc.R
  @ 03a2e8e24341abcf6be8d4a45c6b63bd462fa061.
- anhoej/qicharts2 R/helper.functions.R @ 03470c090b3db3fd1c7c9032eec0b63dc3b2636f (runs.analysis, qic.p,
  qic.c); vignettes/qicharts2.Rmd @ 05daed72aa5c725b8b32d5ea260213cfaa2103e2.
- anhoej/spc4hc (Anhoej, SPC for health care): 21_first_charts.Rmd @ 0ca7d21ac008dc252b20f725ac932891354a2e6e;
  22_control_limits.Rmd and 13_testing_for_special_causes.Rmd @ 0e2d6b36f0550dfd9b405bf53cef3656ab134225;
  data/bacteremia.csv @ 4e801bc565414cc8505a1c823d17923f9f2e7a26.
- nhs-r-community/NHSRplotthedots: R/ptd_spc_standard.R @ 090abfa69488e0e48086e80e07dd2b915dcb650e;
  R/ptd_calculate_point_type.R @ f7891af4b8f71838f4c6fb17c8eec1a1c9bd6d7f; R/ptd_calculate_assurance_type.R
  @ 74654aeeb4a00e4d0520a7693b28bb21aa1b201e; NEWS.md @ 050b07d7eacc011767532732f69b8fd7d6a28fd3;
  tests/testthat/test-ptd_spc_standard.R @ 2ec4e36851c074e231445e94db78e8cd24e6352b;
  tests/testthat/test-ptd_spc.R @ 03299ba78e33b736df5ae134a552d15df1f831b2;
  tests/testthat/_snaps/ptd_spc_standard.md @ 3aefce797c5fae105a9fb53e1f290b5e464999af and
  @ ea2177d4ccfed7dc14d8f57d20f1114d9b235295; tests/testthat/_snaps/ptd_spc.md
  @ 174380d653d7a169a76f99deebb9fc21ed5fbbd6; tests/testthat/test-ptd_calculate_point_type.R
  @ 8aac3239e90ce9ebeb9c3e61f56c207dfc37b225; tests/testthat/test-integration_tests.R and
  tests/testthat/_snaps/integration_tests.md @ 0c096d813e16e4fe606c37eb70020e74a5dcbbe8;
  tests/testthat/test-ptd_calculate_assurance_type.R @ 47af41fdbf71eb2edc7aa06e614fd78be1622984.
- nhs-pycom/nhspy-plotthedots (Python port of NHSRplotthedots): tests/unittests/test_limits_calculations.py
  @ 6aa6c7d743da075d6247d6c08a6f8f57adc81858; tests/unittests/test_pandas_spc_x_calc.py
  @ 0a57a1fd5dbd595bb31a807ce47e8077f3666a77.
- luca-scr/qcc docs/articles/qcc_a_quick_tour.html @ 6c0e283d1efd9ace7f3b795b001358e3fae5e0fd (Montgomery's
  orange juice, circuit board and viscosity examples); data/orangejuice.txt and data/orangejuice2.txt
  @ a0fc561bee1d57c0b0617a1f3c84b118f44114ba; data/circuit.txt @ 433e9e299cb0ca379b5d26bd58baaee31a6ce4ab.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from qi.charts import Observation, analyse, crossings_min, longest_run_max

# --- helpers ---------------------------------------------------------------------------------------------


def daily(values, start=dt.date(2020, 1, 2)):
    return [Observation(start + dt.timedelta(days=i), value=v) for i, v in enumerate(values)]


def monthly(values, first=(2016, 4)):
    year, month = first
    dates = [dt.date(year + (month - 1 + i) // 12, (month - 1 + i) % 12 + 1, 1) for i in range(len(values))]
    return [Observation(day, value=v) for day, v in zip(dates, values, strict=True)]


def fractions(numerators, denominators):
    if isinstance(denominators, int):
        denominators = [denominators] * len(numerators)
    return [
        Observation(dt.date(2020, 1, 2) + dt.timedelta(days=i), numerator=n, denominator=d)
        for i, (n, d) in enumerate(zip(numerators, denominators, strict=True))
    ]


def printed(text):
    """A value as printed by the source: equal to within half a unit of its last printed digit."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return pytest.approx(float(text), abs=0.5 * 10**-decimals)


def point_types(analysis):
    """NHSRplotthedots' point_type per point: '.' common cause, 'I' improvement, 'C' concern, 'N' neutral."""
    code = {"common_cause": ".", "improvement": "I", "concern": "C", "neutral": "N"}
    return "".join(code[point.variation] for point in analysis.points)


def signal_points(analysis, rule):
    return [signal.points for signal in analysis.signals if signal.rule == rule]


def limits(analysis, index=0):
    point = analysis.points[index]
    return point.centre, point.lower_limit, point.upper_limit


# --- 1. Anhoej critical values -----------------------------------------------------------------------------

# anhoej/pbcharts README.md @ 02bde55e, "Critical values for runs and crossing", copied as printed (number of
# useful observations, upper limit for longest run, lower limit for number of crossings). qicharts2
# vignettes/qicharts2.Rmd Appendix 2 (@ 05daed72) renders the same table from round(log2(n) + 3) and
# qbinom(0.05, n - 1, 0.5). The table in Anhoej & Olesen 2014 (PLoS ONE 9(11): e113825) could not be read here:
# only the opening of the article is stored.
ANHOEJ_TABLE = """
| 10 | 6 | 2 |
| 11 | 6 | 2 |
| 12 | 7 | 3 |
| 13 | 7 | 3 |
| 14 | 7 | 4 |
| 15 | 7 | 4 |
| 16 | 7 | 4 |
| 17 | 7 | 5 |
| 18 | 7 | 5 |
| 19 | 7 | 6 |
| 20 | 7 | 6 |
| 21 | 7 | 6 |
| 22 | 7 | 7 |
| 23 | 8 | 7 |
| 24 | 8 | 8 |
| 25 | 8 | 8 |
| 26 | 8 | 8 |
| 27 | 8 | 9 |
| 28 | 8 | 9 |
| 29 | 8 | 10 |
| 30 | 8 | 10 |
| 31 | 8 | 11 |
| 32 | 8 | 11 |
| 33 | 8 | 11 |
| 34 | 8 | 12 |
| 35 | 8 | 12 |
| 36 | 8 | 13 |
| 37 | 8 | 13 |
| 38 | 8 | 14 |
| 39 | 8 | 14 |
| 40 | 8 | 14 |
| 41 | 8 | 15 |
| 42 | 8 | 15 |
| 43 | 8 | 16 |
| 44 | 8 | 16 |
| 45 | 8 | 17 |
| 46 | 9 | 17 |
| 47 | 9 | 17 |
| 48 | 9 | 18 |
| 49 | 9 | 18 |
| 50 | 9 | 19 |
| 51 | 9 | 19 |
| 52 | 9 | 20 |
| 53 | 9 | 20 |
| 54 | 9 | 21 |
| 55 | 9 | 21 |
| 56 | 9 | 21 |
| 57 | 9 | 22 |
| 58 | 9 | 22 |
| 59 | 9 | 23 |
| 60 | 9 | 23 |
| 61 | 9 | 24 |
| 62 | 9 | 24 |
| 63 | 9 | 25 |
| 64 | 9 | 25 |
| 65 | 9 | 25 |
| 66 | 9 | 26 |
| 67 | 9 | 26 |
| 68 | 9 | 27 |
| 69 | 9 | 27 |
| 70 | 9 | 28 |
| 71 | 9 | 28 |
| 72 | 9 | 29 |
| 73 | 9 | 29 |
| 74 | 9 | 29 |
| 75 | 9 | 30 |
| 76 | 9 | 30 |
| 77 | 9 | 31 |
| 78 | 9 | 31 |
| 79 | 9 | 32 |
| 80 | 9 | 32 |
| 81 | 9 | 33 |
| 82 | 9 | 33 |
| 83 | 9 | 34 |
| 84 | 9 | 34 |
| 85 | 9 | 34 |
| 86 | 9 | 35 |
| 87 | 9 | 35 |
| 88 | 9 | 36 |
| 89 | 9 | 36 |
| 90 | 9 | 37 |
| 91 | 10 | 37 |
| 92 | 10 | 38 |
| 93 | 10 | 38 |
| 94 | 10 | 39 |
| 95 | 10 | 39 |
| 96 | 10 | 39 |
| 97 | 10 | 40 |
| 98 | 10 | 40 |
| 99 | 10 | 41 |
| 100 | 10 | 41 |
"""
ANHOEJ_ROWS = [tuple(int(cell) for cell in line.strip("| ").split(" | ")) for line in ANHOEJ_TABLE.strip().splitlines()]


def test_anhoej_table_covers_10_to_100_useful_observations():
    """anhoej/pbcharts README.md @ 02bde55e: one row per n from 10 to 100."""
    assert [row[0] for row in ANHOEJ_ROWS] == list(range(10, 101))


@pytest.mark.parametrize(("useful", "longest", "crossings"), ANHOEJ_ROWS, ids=[f"n={row[0]}" for row in ANHOEJ_ROWS])
def test_anhoej_critical_values(useful, longest, crossings):
    """anhoej/pbcharts README.md @ 02bde55e, "Critical values for runs and crossing" (upper limit for longest
    run, lower limit for number of crossings), as qicharts2 R/helper.functions.R @ 03470c09 computes them."""
    assert longest_run_max(useful) == longest
    assert crossings_min(useful) == crossings


def test_anhoej_worked_numbers_in_the_texts():
    """qicharts2 vignettes/qicharts2.Rmd @ 05daed72: with 24 useful points a run of more than 8, or fewer than 8
    crossings, signals; spc4hc 13_testing_for_special_causes.Rmd @ 0e2d6b36: the same for 24 to 26 points."""
    assert [longest_run_max(n) for n in (24, 25, 26)] == [8, 8, 8]
    assert [crossings_min(n) for n in (24, 25, 26)] == [8, 8, 8]


# --- 2. Runs analysis on published series ------------------------------------------------------------------

# anhoej/spc4hc 21_first_charts.Rmd @ 0ca7d21a: morning systolic blood pressure (mm Hg) over 26 days
# (Mohammed 2008).
SYSTOLIC = [169, 172, 175, 174, 161, 142, 174, 171, 168, 174, 180, 194, 161]
SYSTOLIC += [181, 175, 176, 186, 166, 157, 183, 177, 171, 185, 176, 181, 174]


def test_runs_analysis_systolic_blood_pressure():
    """anhoej/spc4hc 21_first_charts.Rmd @ 0ca7d21a: "the longest run has 4 data points (#14-#17) and [...] the
    curve crosses the centre line 9 times. Four data points (#4, #7, #10, #26) lie directly on the centre line,
    so we have 22 useful observations. [...] the upper limit for longest run is 7 as is [...] the lower limit
    for number of crossings. Consequently, there are no signs of persistent shifts"."""
    analysis = analyse(daily(SYSTOLIC), "run")
    phase = analysis.phases[0]
    assert phase.centre == 174
    assert [i + 1 for i, v in enumerate(SYSTOLIC) if v == phase.centre] == [4, 7, 10, 26]
    assert phase.runs == {
        "useful_observations": 22,
        "longest_run": 4,
        "longest_run_max": 7,
        "crossings": 9,
        "crossings_min": 7,
    }
    assert analysis.signals == []


def test_xmr_systolic_blood_pressure_one_freak_point():
    """anhoej/spc4hc 22_control_limits.Rmd @ 0e2d6b36 draws the same data with cl = mean(systolic), limits
    cl -/+ 2.66 * mean(abs(diff(systolic))); 21_first_charts.Rmd @ 0ca7d21a: "One (freak) data point is below
    the lower control limit" (#6, 142 mm Hg)."""
    analysis = analyse(daily(SYSTOLIC), "xmr")
    mean = sum(SYSTOLIC) / 26
    amr = sum(abs(a - b) for a, b in zip(SYSTOLIC[1:], SYSTOLIC[:-1], strict=False)) / 25
    assert amr == 11
    assert limits(analysis) == pytest.approx((mean, mean - 2.66 * amr, mean + 2.66 * amr), rel=1e-12)
    assert signal_points(analysis, "outside_limits") == [[5]]
    assert analysis.signals[0].side == "low"


def test_runs_analysis_pbcharts_signals():
    """anhoej/pbcharts tests/testthat/test-pbc.R @ 03a2e8e2: summary(pbc(1:12, chart = 'i'))$runs.signal == 1;
    summary(pbc(1:11, chart = 'i'))$n.obs == 11 and $n.useful == 10. For these series the mean equals the
    median, so the run chart's runs analysis is the same."""
    twelve = analyse(daily(range(1, 13)), "run")
    assert twelve.phases[0].runs["crossings"] == 1 < twelve.phases[0].runs["crossings_min"] == 3
    assert [signal.rule for signal in twelve.signals] == ["few_crossings"]
    eleven = analyse(daily(range(1, 12)), "run")
    assert len(eleven.points) == 11
    assert eleven.phases[0].runs["useful_observations"] == 10


def test_xmr_pbcharts_sigma_signals():
    """anhoej/pbcharts tests/testthat/test-pbc.R @ 03a2e8e2: pbc(1:12, chart = 'i') has 6 points outside the
    limits; pbc(-6:6, chart = 'i') has cl 0, avg_ucl 2.66 (tolerance 0.005) and 8 points outside."""
    # pbc's I chart uses 3 * sqrt(pi / 2) / sqrt(2) = 2.6587 x mean moving range; Making Data Count uses 2.66.
    twelve = analyse(daily(range(1, 13)), "xmr")
    assert len(signal_points(twelve, "outside_limits")) == 6
    symmetric = analyse(daily(range(-6, 7)), "xmr")
    centre, _, upper = limits(symmetric)
    assert centre == 0
    assert upper == pytest.approx(2.66, rel=0.005)
    assert len(signal_points(symmetric, "outside_limits")) == 8


# --- 3. XmR limits and special causes: NHSRplotthedots -----------------------------------------------------

# set.seed(123); rnorm(20), the data of NHSRplotthedots tests/testthat/test-ptd_spc_standard.R @ 2ec4e368 and
# test-ptd_spc.R @ 03299ba7, as R prints them (8 decimals). The snapshot _snaps/ptd_spc_standard.md
# @ 3aefce79 prints all 20 to 3 significant figures and @ ea2177d4 the first five to 8 decimals, matching these.
RNORM_123 = [-0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621]
RNORM_123 += [-1.26506123, -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272]
RNORM_123 += [-0.55584113, 1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141]


def test_xmr_limits_ptd_spc_standard_snapshot():
    """NHSRplotthedots tests/testthat/_snaps/ptd_spc_standard.md @ ea2177d4, r1:
    mean_col 0.1416238, lpl -3.01138, upl 3.294627; _snaps/ptd_spc.md @ 174380d6: 20 of 20 points common cause
    (improvement_direction increase)."""
    analysis = analyse(daily(RNORM_123), "xmr", better="up")
    centre, lower, upper = limits(analysis)
    assert centre == printed("0.1416238")
    assert lower == printed("-3.01138")
    assert upper == printed("3.294627")
    assert point_types(analysis) == "." * 20


@pytest.mark.parametrize(
    ("screen", "expected"),
    [(True, ("0.6694159", "-2.383666", "3.722497")), (False, ("0.6694159", "-4.596625", "5.935457"))],
    ids=["screened", "unscreened"],
)
def test_xmr_moving_range_screening_ptd_spc_standard_snapshot(screen, expected):
    """NHSRplotthedots tests/testthat/test-ptd_spc_standard.R @ 2ec4e368 sets data$y[15] <- 10; its snapshot
    _snaps/ptd_spc_standard.md @ ea2177d4 gives r2 (screen_outliers = TRUE) and r3 (FALSE)."""
    values = list(RNORM_123)
    values[14] = 10
    analysis = analyse(daily(values), "xmr", screen_moving_ranges=screen)
    assert analysis.phases[0].screened_moving_ranges == (2 if screen else 0)
    assert limits(analysis) == tuple(printed(text) for text in expected)


@pytest.mark.parametrize(
    ("half", "expected"),
    [(slice(0, 10), ("0.0746", "-2.60", "2.75")), (slice(10, 20), ("0.209", "-3.28", "3.70"))],
    ids=["facet-0", "facet-1"],
)
def test_xmr_facets_ptd_spc_summary_snapshot(half, expected):
    """NHSRplotthedots tests/testthat/test-ptd_spc.R @ 03299ba7 facets the same data in two halves of 10 (s3);
    _snaps/ptd_spc.md @ 174380d6 prints mean_col, lpl, upl per facet (3 significant figures), 10 common cause
    points each."""
    analysis = analyse(daily(RNORM_123[half]), "xmr", better="up")
    assert limits(analysis) == tuple(printed(text) for text in expected)
    assert point_types(analysis) == "." * 10


def test_two_of_three_needs_the_points_on_the_same_side():
    """NHSRplotthedots tests/testthat/test-ptd_spc_standard.R @ 2ec4e368, "it only reports special cause for
    2 of 3 points close to limits when they are on the same side of the mean": 1, -1 x 8, then points 15 and 16
    set to 5.5 and -5.5; both stay common_cause (NEWS.md 0.2.2, issue #143)."""
    values = [1, -1] * 8
    values[14], values[15] = 5.5, -5.5
    analysis = analyse(daily(values), "xmr", better="up")
    first, second = analysis.points[14], analysis.points[15]
    assert first.upper_near < first.value < first.upper_limit
    assert second.lower_limit < second.value < second.lower_near
    assert point_types(analysis)[-2:] == ".."
    assert signal_points(analysis, "two_of_three") == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2, 3, 4, 5, 6], []),
        ([1, 2, 3, 3, 4, 5, 6], []),
        ([1, 2, 3, 4, 5, 6, 7], [[0, 1, 2, 3, 4, 5, 6]]),
        ([2, 1, 2, 3, 4, 5, 6, 7, 3], [[1, 2, 3, 4, 5, 6, 7]]),
        ([7, 6, 5, 4, 3, 2, 1], [[0, 1, 2, 3, 4, 5, 6]]),
        ([2, 7, 6, 5, 4, 3, 2, 1, 3], [[1, 2, 3, 4, 5, 6, 7]]),
    ],
    ids=["1:6", "c(1:3, 3:6)", "1:7", "c(2, 1:7, 3)", "7:1", "c(2, 7:1, 3)"],
)
def test_seven_point_trend(values, expected):
    """NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R @ 8aac3239, ptd_seven_point_trend() with
    ptd_part_of_seven_trend(): 7 points all rising or all falling; an equal pair breaks the trend."""
    assert signal_points(analyse(daily(values), "xmr"), "trend") == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1] * 6, []),
        ([1] * 6 + [-1], []),
        ([1] * 8 + [-1], [list(range(8))]),
        ([-1] * 8 + [1], [list(range(8))]),
        ([-1, *[1] * 8, -1], [list(range(1, 9))]),
        ([1, *[-1] * 8, 1], [list(range(1, 9))]),
    ],
    ids=["rep(1, 6)", "c(rep(1, 6), -1)", "c(rep(1, 8), -1)", "c(rep(-1, 8), 1)", "c(-1, rep(1, 8), -1)", "mirror"],
)
def test_seven_points_one_side_of_the_mean(values, expected):
    """NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R @ 8aac3239, ptd_seven_point_one_side_mean()
    with ptd_part_of_seven_trend(): the tests give relative_to_mean directly; these values have those signs
    about their own mean."""
    assert signal_points(analyse(daily(values), "xmr"), "shift") == expected


def test_trend_points_take_the_trend_direction_not_their_side():
    """NHSRplotthedots R/ptd_calculate_point_type.R @ f7891af4 (ptd_special_cause_type, ptd_point_type; PR #180
    fixing issue #171, NEWS.md 0.2.2 "trends of 7 points crossing the mean are coloured incorrectly"): a point
    outside the limits is coloured by its side, else a point in a 7-point trend by the trend's direction
    ("7 Point Trend (Decreasing)"), before 2-in-3 and 7-on-one-side. A falling trend across the mean with
    improvement_direction = "increase" is special_cause_concern on every one of its 7 points."""
    values = [5, -5, 5, -5, 5, -5, 3, 2, 1, 0, -1, -2, -3, 5, -5, 5, -5, 5, -5, 5]
    analysis = analyse(daily(values), "xmr", better="up")
    assert signal_points(analysis, "trend") == [list(range(6, 13))]
    assert analysis.points[0].centre == 0.25
    assert point_types(analysis) == "......CCCCCCC......."


# NHSRplotthedots tests/testthat/test-integration_tests.R @ 0c096d81: ae_all() sums NHSRdatasets::ae_attendances
# by month (April 2016 to March 2019). The expected data frames are serialised (R XDR, base64) in
# tests/testthat/_snaps/integration_tests.md @ 0c096d81; the values below were decoded from it: y, and for each
# point mean, lpl, upl, close_to_limits and point_type.
AE_ATTENDANCES = [1867781, 2070340, 1958802, 2079034, 1932901, 1952464, 2001816, 1907871, 1944567, 1895272]
AE_ATTENDANCES += [1735619, 2015834, 1949762, 2066789, 1994056, 2073944, 1924663, 1925961, 2044137, 1976971]
AE_ATTENDANCES += [2003954, 2000086, 1820012, 2049785, 1984369, 2164458, 2093942, 2179896, 1997854, 2005695]
AE_ATTENDANCES += [2079492, 2037847, 2047518, 2113413, 1954947, 2167550]

AE_PERFORMANCE = [
    0.9003512724457525, 0.9027555860390081, 0.9055994429248081, 0.9028524786030435, 0.909763097023593,
    0.9064786853944554, 0.8905308979446662, 0.8837903610883545, 0.8617594559611471, 0.851413411900772,
    0.8753090395991286, 0.9000949482943537, 0.9051525263083392, 0.8970035160821932, 0.9072518525056468,
    0.9034785895858326, 0.9029928875860346, 0.8966609396555797, 0.8994186788850258, 0.8876655246839736,
    0.8498503458662225, 0.8529918213516818, 0.8504476893558943, 0.8462121637147311, 0.8857248828216929,
    0.9039011151983545, 0.9076297242234981, 0.8931949047110505, 0.8972702710007838, 0.8894368286304747,
    0.8900933497219513, 0.8760446687116353, 0.8644632183941728, 0.843525141560121, 0.8422525009629417,
    0.8660427671795345,
]  # fmt: skip

RL4_TYPE_1 = [10811, 11800, 11028, 11561, 10700, 10999, 11108, 10573, 10541, 10711, 9797, 11505, 11072, 11858]
RL4_TYPE_1 += [11531, 11752, 11009, 10884, 11436, 10892, 10705, 11186, 10018, 10985, 10709, 11639, 11548]
RL4_TYPE_1 += [11844, 10965, 11336, 11771, 11609, 11494, 12311, 11199, 12471]
RL4_OTHER = [4414, 4664, 4229, 4663, 4279, 7409, 8228, 8614, 9089, 7657, 8131, 8651, 9148, 9165, 8401, 8489]
RL4_OTHER += [7637, 7856, 8782, 8386, 9138, 9830, 8527, 8862, 8466, 8906, 8278, 8344, 7876, 7506, 8226, 8479]
RL4_OTHER += [9090, 9270, 8494, 8863]


def close_to_limits(analysis):
    return [
        i
        for i, p in enumerate(analysis.points)
        if p.lower_limit <= p.value <= p.upper_limit and (p.value > p.upper_near or p.value < p.lower_near)
    ]


def test_xmr_ae_all_attendances_integration_snapshot():
    """NHSRplotthedots _snaps/integration_tests.md @ 0c096d81, "ae_all attendances spc returns expected values":
    ptd_spc(ae_all(), attendances, period)."""
    analysis = analyse(monthly(AE_ATTENDANCES), "xmr", better="up")
    expected = (2000538.9444444445, 1731844.3644444444, 2269233.5244444446)
    for index in range(36):
        assert limits(analysis, index) == pytest.approx(expected, rel=1e-12)
    assert close_to_limits(analysis) == [10, 22, 27]
    assert point_types(analysis) == "." * 36


def test_xmr_rebase_ae_all_attendances_integration_snapshot():
    """NHSRplotthedots _snaps/integration_tests.md @ 0c096d81, "ae_all attendances spc with rebase returns
    expected values": ptd_spc(ae_all(), attendances, period, rebase = as.Date("2017-04-01")), rebase_group 0
    for the first 12 months and 1 for the next 24."""
    analysis = analyse(monthly(AE_ATTENDANCES), "xmr", better="up", phase_starts=[dt.date(2017, 4, 1)])
    assert [(phase.start, phase.end) for phase in analysis.phases] == [(0, 11), (12, 35)]
    before = (1946858.4166666667, 1639947.374848485, 2253769.4584848485)
    after = (2027379.2083333333, 1772921.0639855072, 2281837.3526811595)
    for index in range(36):
        assert limits(analysis, index) == pytest.approx(before if index < 12 else after, rel=1e-12)
    assert close_to_limits(analysis) == [10, 22]
    assert point_types(analysis) == "." * 36


def test_xmr_freeze_ae_all_performance_integration_snapshot():
    """NHSRplotthedots _snaps/integration_tests.md @ 0c096d81, "ae_all performance spc returns expected values":
    ptd_spc(ae_all(), performance, period, fix_after_n_points = 12) (performance = 1 - breaches / attendances;
    improvement_direction increase). Mean and limits come from the first 12 months and extend to all 36."""
    # NHSRplotthedots fixes the first n points of every rebase group; qi.charts freezes only the first phase.
    analysis = analyse(monthly(AE_PERFORMANCE), "xmr", better="up", freeze=12)
    expected = (0.8908915564349236, 0.8614049789074258, 0.9203781339624213)
    for index in range(36):
        assert limits(analysis, index) == pytest.approx(expected, rel=1e-12)
    assert [point.baseline for point in analysis.points] == [True] * 12 + [False] * 24
    assert close_to_limits(analysis) == [8, 32, 35]
    assert point_types(analysis) == ".........C.IIIIIIII.CCCC.....CCCCCCC"


def test_xmr_ae_rl4_type_1_attendances_integration_snapshot():
    """NHSRplotthedots _snaps/integration_tests.md @ 0c096d81, "ae_rl4_by_type attendances spc returns expected
    values", facet type 1: ptd_spc(ae_rl4_by_type(), attendances, period, facet_field = type)."""
    analysis = analyse(monthly(RL4_TYPE_1), "xmr", better="up")
    expected = (11204.388888888889, 9668.27688888889, 12740.500888888888)
    assert limits(analysis, 35) == pytest.approx(expected, rel=1e-12)
    # The snapshot predates NHSRplotthedots 0.2.2 (NEWS.md, issue #143) and marks points 34 and 36 (1-based) as
    # special_cause_improvement: close to the limit, but with point 35 below the mean between them. 0.2.2 and
    # qi.charts require the 3 points on one side, so both are common cause here.
    assert point_types(analysis) == "....CCCCCCC" + "." * 25
    assert signal_points(analysis, "shift") == [list(range(4, 11))]


def test_xmr_ae_rl4_type_other_attendances_integration_snapshot():
    """NHSRplotthedots _snaps/integration_tests.md @ 0c096d81, "ae_rl4_by_type attendances spc returns expected
    values", facet type other: points below the lower limit, 2 of 3 close to the upper limit twice and 10 in
    a row above the mean."""
    analysis = analyse(monthly(RL4_OTHER), "xmr", better="up")
    expected = (7945.75, 6558.872941176471, 9332.62705882353)
    assert limits(analysis, 0) == pytest.approx(expected, rel=1e-12)
    assert point_types(analysis) == "CCCCC.......II....IIIIIIIIII....II.."
    assert signal_points(analysis, "two_of_three") == [[12, 13], [32, 33]]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], (5.5, 2.84, 8.16, 3.7266666666666666, 7.273333333333333)),
        ([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], (5.5, 2.84, 8.16, 3.7266666666666666, 7.273333333333333)),
        ([1, 2, 3, 4, 5, 4, 3, 2, 1, 2], (2.7, 0.040000000000000036, 5.36, 0.9266666666666667, 4.473333333333334)),
        ([1, 2, 3], (2.0, -0.6600000000000001, 4.66, 0.22666666666666657, 3.7733333333333334)),
        (list(range(20)), (9.5, 6.84, 12.16, 7.726666666666667, 11.273333333333333)),
        (
            [3, 1, 4, 1, 5, 9, 2],
            (3.5714285714285716, -6.625238095238096, 13.768095238095238, -3.2263492063492065, 10.36920634920635),
        ),
        (
            [1, 2, 3, 2, 1, 2, 3, 4, 5, 6, 7, 4, 3, 2, 1, 2],
            (3.0, -0.014666666666666828, 6.014666666666667, 0.9902222222222221, 5.009777777777778),
        ),
        (
            [-1, -2, -3, -2, -1, -2, -3, -4, -5, -6, -7, -4, -3, -2, -1, -2],
            (-3.0, -6.014666666666667, 0.014666666666666828, -5.009777777777778, -0.9902222222222221),
        ),
    ],
    ids=["increasing", "decreasing", "no-trend", "small", "large", "exact-seven", "mixed", "negative"],
)
def test_xmr_limits_nhspy_plotthedots(values, expected):
    """nhs-pycom/nhspy-plotthedots tests/unittests/test_limits_calculations.py @ 6aa6c7d7:
    limits_calculations() returns (mean, lpl, upl, nlpl, nupl)."""
    point = analyse(daily(values), "xmr").points[0]
    got = (point.centre, point.lower_limit, point.upper_limit, point.lower_near, point.upper_near)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_xmr_nhs_england_spc_tool_demo():
    """nhs-pycom/nhspy-plotthedots tests/unittests/test_pandas_spc_x_calc.py @ 0a57a1fd,
    test_demo_case (NHS England's Making Data Count SPC tool demonstration, values less 10): mean 76.67
    (2 places), lpl 57 and upl 96 (0 places); only point 12 (54) outside the limits; none close to them; it is
    the only special cause."""
    values = [89, 86, 75, 77, 81, 74, 72, 78, 76, 82, 77, 54, 66, 77, 86]
    analysis = analyse(daily(values), "xmr")
    centre, lower, upper = limits(analysis)
    assert centre == pytest.approx(76.67, abs=0.005)
    assert lower == pytest.approx(57, abs=0.5)
    assert upper == pytest.approx(96, abs=0.5)
    assert signal_points(analysis, "outside_limits") == [[11]]
    assert close_to_limits(analysis) == []
    assert [point.rules for point in analysis.points if point.rules] == [["outside_limits"]]


def test_xmr_fix_after_n_points_nhspy_plotthedots():
    """nhs-pycom/nhspy-plotthedots tests/unittests/test_pandas_spc_x_calc.py @ 0a57a1fd, test_fix_point_mean:
    values 1..10 with the calculations fixed after 5 points have mean 3."""
    analysis = analyse(daily(range(1, 11)), "xmr", freeze=5)
    assert [point.centre for point in analysis.points] == [3] * 10


# --- 4. P and C charts: Montgomery's examples as qcc prints them --------------------------------------------

# luca-scr/qcc data/orangejuice.txt @ a0fc561b (Montgomery, orange juice cans, samples of 50): D for samples 1 to
# 30 (trial) and 31 to 54.
ORANGE_JUICE_TRIAL = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22, 8, 10, 5, 13, 11]
ORANGE_JUICE_TRIAL += [20, 18, 24, 15, 9, 12, 7, 13, 9, 6]
ORANGE_JUICE_NEW = [9, 6, 12, 5, 6, 4, 6, 3, 7, 6, 2, 4, 3, 6, 5, 4, 8, 5, 6, 7, 5, 6, 3, 5]
# luca-scr/qcc data/orangejuice2.txt @ a0fc561b: samples 31 to 54 (trial) and 55 to 94, all of 50.
ORANGE_JUICE_2_TRIAL = ORANGE_JUICE_NEW
ORANGE_JUICE_2_NEW = [8, 7, 5, 6, 4, 5, 2, 3, 4, 7, 6, 5, 5, 3, 7, 9, 6, 10, 4, 3, 5, 8, 11, 9, 7, 3, 5, 2, 1, 4]
ORANGE_JUICE_2_NEW += [5, 3, 7, 6, 4, 4, 6, 8, 5, 6]
# luca-scr/qcc data/circuit.txt @ 433e9e29 (Montgomery, nonconformities in samples of 100 printed circuit boards).
CIRCUIT_TRIAL = [21, 24, 16, 12, 15, 5, 28, 20, 31, 25, 20, 24, 16, 19, 10, 17, 13, 22, 18, 39, 30, 24, 16, 19]
CIRCUIT_TRIAL += [17, 15]
CIRCUIT_NEW = [16, 18, 12, 15, 24, 21, 28, 20, 25, 19, 18, 21, 16, 22, 19, 12, 14, 9, 16, 21]


def without(values, *samples):
    """The values less the given 1-based samples, as qcc's setdiff(which(trial), c(...)) selects them."""
    return [v for i, v in enumerate(values, start=1) if i not in samples]


def test_p_chart_orange_juice():
    """luca-scr/qcc docs/articles/qcc_a_quick_tour.html @ 6c0e283d: qcc(D[trial], sizes = size[trial],
    type = "p"): centre 0.2313333, LCL 0.05242755, UCL 0.4102391; the vignette then removes the out-of-control
    samples 15 and 23."""
    analysis = analyse(fractions(ORANGE_JUICE_TRIAL, 50), "p")
    for index in range(30):
        assert limits(analysis, index) == (printed("0.2313333"), printed("0.05242755"), printed("0.4102391"))
    assert signal_points(analysis, "outside_limits") == [[14], [22]]


def test_p_chart_orange_juice_revised_limits_extended_to_new_data():
    """luca-scr/qcc docs/articles/qcc_a_quick_tour.html @ 6c0e283d: qcc(D[inc], sizes = size[inc], type = "p",
    newdata = D[!trial], ...) with inc = trial samples less 15 and 23: centre 0.215, LCL 0.04070284,
    UCL 0.3892972 over the 28 + 24 samples (a frozen baseline of 28)."""
    values = without(ORANGE_JUICE_TRIAL, 15, 23) + ORANGE_JUICE_NEW
    analysis = analyse(fractions(values, 50), "p", freeze=28)
    for index in range(52):
        assert limits(analysis, index) == (printed("0.215"), printed("0.04070284"), printed("0.3892972"))


def test_p_chart_lower_limit_clipped_at_zero():
    """luca-scr/qcc docs/articles/qcc_a_quick_tour.html @ 6c0e283d: data(orangejuice2); qcc(D[trial], ...,
    type = "p", newdata = D[!trial], ...): centre 0.1108333, LCL 0, UCL 0.2440207. qicharts2 qic.p
    (R/helper.functions.R @ 03470c09) clips the same way (lcl < 0 set to 0)."""
    values = ORANGE_JUICE_2_TRIAL + ORANGE_JUICE_2_NEW
    analysis = analyse(fractions(values, 50), "p", freeze=24)
    assert len(analysis.points) == 64
    for index in range(64):
        assert limits(analysis, index) == (printed("0.1108333"), 0.0, printed("0.2440207"))


def test_p_chart_limits_vary_with_the_denominator():
    """anhoej/spc4hc 22_control_limits.Rmd @ 0e2d6b36 (P chart of 30-day bacteremia mortality, cl =
    sum(deaths) / sum(patients), limits cl -/+ 3 * sqrt(cl * (1 - cl) / patients)) with data/bacteremia.csv
    @ 4e801bc5 (deaths, cases): "The average mortality is 21%, and all data points fall within the control
    limits. [...] the control limits vary with the size of the denominator"."""
    deaths = [23, 22, 13, 14, 17, 15, 15, 25, 21, 24, 23, 26, 18, 23, 24, 25, 15, 21, 26, 16, 25, 22, 24, 18]
    cases = [100, 105, 99, 85, 98, 85, 89, 99, 103, 86, 110, 98, 93, 96, 115, 102, 94, 94, 94, 97, 114, 108, 102, 104]
    analysis = analyse(fractions(deaths, cases), "p")
    pbar = sum(deaths) / sum(cases)
    assert analysis.phases[0].centre * 100 == printed("21")
    for point, n in zip(analysis.points, cases, strict=True):
        sigma = math.sqrt(pbar * (1 - pbar) / n)
        assert (point.lower_limit, point.upper_limit) == pytest.approx((pbar - 3 * sigma, pbar + 3 * sigma), rel=1e-12)
    assert signal_points(analysis, "outside_limits") == []


def test_c_chart_circuit_boards():
    """luca-scr/qcc docs/articles/qcc_a_quick_tour.html @ 6c0e283d: qcc(x[trial], sizes = size[trial],
    type = "c"): centre 19.84615, LCL 6.481447, UCL 33.21086; the vignette then removes the out-of-control
    samples 6 and 20."""
    analysis = analyse(daily(CIRCUIT_TRIAL), "c")
    assert limits(analysis) == (printed("19.84615"), printed("6.481447"), printed("33.21086"))
    assert signal_points(analysis, "outside_limits") == [[5], [19]]


def test_c_chart_circuit_boards_revised_limits_extended_to_new_data():
    """luca-scr/qcc docs/articles/qcc_a_quick_tour.html @ 6c0e283d: qcc(x[inc], ..., type = "c",
    newdata = x[!trial], ...) with inc = trial samples less 6 and 20: centre 19.66667, LCL 6.362532,
    UCL 32.9708 (a frozen baseline of 24, extended to the 20 new samples)."""
    analysis = analyse(daily(without(CIRCUIT_TRIAL, 6, 20) + CIRCUIT_NEW), "c", freeze=24)
    for index in range(44):
        assert limits(analysis, index) == (printed("19.66667"), printed("6.362532"), printed("32.9708"))


def test_c_chart_bacteremia():
    """anhoej/spc4hc 22_control_limits.Rmd @ 0e2d6b36, C chart of monthly hospital-acquired bacteremias
    (data/bacteremia.csv @ 4e801bc5, hai_cases): "The average monthly number of infections is 22.7, and all data
    points fall within the control limits, which range from 8.4 to 36.9"."""
    counts = [24, 29, 26, 16, 28, 16, 14, 18, 27, 30, 28, 24, 16, 25, 20, 25, 22, 28, 23, 23, 17, 22, 21, 22]
    analysis = analyse(daily(counts), "c")
    assert limits(analysis) == (printed("22.7"), printed("8.4"), printed("36.9"))
    assert signal_points(analysis, "outside_limits") == []


def test_c_chart_lower_limit_clipped_at_zero():
    """anhoej/qicharts2 R/helper.functions.R @ 03470c09, qic.c: cl = mean count, limits cl -/+ 3 * sqrt(cl), the
    lower set to 0 when negative."""
    analysis = analyse(daily([0, 1, 2, 0, 1, 3, 0, 1, 2, 1, 0, 1]), "c")
    centre, lower, upper = limits(analysis)
    assert centre == 1
    assert (lower, upper) == (0.0, 4.0)


def test_xmr_viscosity_against_qcc_xbar_one():
    """luca-scr/qcc docs/articles/qcc_a_quick_tour.html @ 6c0e283d, viscosity data (Montgomery p. 242),
    qcc(x, type = "xbar.one"): centre 33.52333, standard deviation 0.4261651 (mean moving range / 1.128)."""
    values = [33.75, 33.05, 34, 33.81, 33.46, 34.02, 33.68, 33.27, 33.49, 33.20, 33.62, 33.00, 33.54, 33.12, 33.84]
    analysis = analyse(daily(values), "xmr")
    amr = analysis.phases[0].mean_moving_range
    assert amr / 1.128 == printed("0.4261651")
    centre, lower, upper = limits(analysis)
    assert centre == printed("33.52333")
    # qcc prints LCL 32.24484, UCL 34.80183 from 3 / 1.128 = 2.6596 x amr; Making Data Count rounds it to 2.66.
    assert (lower, upper) == pytest.approx((centre - 2.66 * amr, centre + 2.66 * amr), rel=1e-12)
    assert (lower, upper) == pytest.approx((32.24484, 34.80183), abs=3e-4)


# --- 5. Assurance against a target: NHSRplotthedots ---------------------------------------------------------

# NHSRplotthedots tests/testthat/test-ptd_calculate_assurance_type.R @ 47af41fd:
# three facets with (lpl, mean, upl) = a (1, 2, 3), b (5, 6, 7), c (1, 4, 5) and target 4.
# An XmR chart's limits are symmetric about its mean, so facet c is built as (1, 3, 5): the target still lies
# strictly inside its limits, which is all R/ptd_calculate_assurance_type.R @ 74654aee looks at.
FACETS = {"a": (1, 3), "b": (5, 7), "c": (1, 5)}
ASSURANCE = {"consistent_pass": "meets", "consistent_fail": "fails", "inconsistent": "may_or_may_not"}


def with_limits(lower, upper, points=12):
    """Values alternating about the midpoint whose XmR limits are lower and upper: mean -/+ 2.66 x amr."""
    mean, step = (lower + upper) / 2, (upper - lower) / 5.32
    return [mean + step / 2 if i % 2 == 0 else mean - step / 2 for i in range(points)]


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        ("up", ["consistent_fail", "consistent_pass", "inconsistent"]),
        ("down", ["consistent_pass", "consistent_fail", "inconsistent"]),
    ],
    ids=["increase", "decrease"],
)
def test_assurance_against_a_target(direction, expected):
    """NHSRplotthedots test-ptd_calculate_assurance_type.R @ 47af41fd, "it returns correct values for assurance
    when improvement_direction is increase" / "... is decrease"."""
    got = []
    for lower, upper in FACETS.values():
        analysis = analyse(daily(with_limits(lower, upper)), "xmr", better=direction, target=4)
        assert analysis.points[-1].lower_limit == pytest.approx(lower, rel=1e-12)
        assert analysis.points[-1].upper_limit == pytest.approx(upper, rel=1e-12)
        got.append(analysis.assurance)
    assert got == [ASSURANCE[name] for name in expected]


def test_assurance_needs_a_direction_and_a_target():
    """NHSRplotthedots test-ptd_calculate_assurance_type.R @ 47af41fd: NA when there is no target, and NA for
    every facet when improvement_direction is neutral."""
    values = with_limits(1, 5)
    assert analyse(daily(values), "xmr", better="up").assurance is None
    assert analyse(daily(values), "xmr", better=None, target=4).assurance is None


@pytest.mark.parametrize(
    ("order", "expected"),
    [("abc", "inconsistent"), ("bca", "consistent_pass"), ("cab", "consistent_fail")],
)
def test_assurance_after_a_rebase_uses_the_latest_limits(order, expected):
    """NHSRplotthedots test-ptd_calculate_assurance_type.R @ 47af41fd, "it returns correct values for assurance
    when rebase" (improvement_direction decrease): rows in the orders 1-2-3, 2-3-1 and 3-1-2; the last row
    decides (slice_tail in R/ptd_calculate_assurance_type.R @ 74654aee)."""
    values = [v for name in order for v in with_limits(*FACETS[name])]
    starts = [dt.date(2020, 1, 2) + dt.timedelta(days=12), dt.date(2020, 1, 2) + dt.timedelta(days=24)]
    analysis = analyse(daily(values), "xmr", better="down", target=4, phase_starts=starts)
    assert len(analysis.phases) == 3
    assert analysis.assurance == ASSURANCE[expected]


@pytest.mark.parametrize("direction", ["up", "down"])
def test_assurance_target_on_a_limit_is_inconsistent(direction):
    """NHSRplotthedots R/ptd_calculate_assurance_type.R @ 74654aee: consistent only when target > upl or
    target < lpl (strictly), so a target exactly on a process limit is "inconsistent"."""
    values = [0, 1] * 6  # mean 0.5 and mean moving range 1, both exact
    upper = analyse(daily(values), "xmr").points[-1].upper_limit
    assert upper == 0.5 + 2.66
    assert analyse(daily(values), "xmr", better=direction, target=upper).assurance == "may_or_may_not"
