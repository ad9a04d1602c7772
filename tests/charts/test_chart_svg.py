"""The SVG of a chart (qi.chart_svg): parsed as XML and checked for what it draws, not for its text."""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET

import pytest

from qi.chart_svg import COLOURS, VARIATION_TITLES, _date_ticks, _value_ticks, render_svg
from qi.charts import Observation, analyse

NS = "{http://www.w3.org/2000/svg}"
MONDAY = dt.date(2026, 1, 5)
STEADY = [10, 12, 11, 9, 10, 13, 11, 10, 12, 9, 11, 10]
BETTER = [15, 16, 14, 15, 17, 16, 15, 14, 16, 15, 17, 16]


def weekly(values, start=MONDAY):
    return [Observation(start + dt.timedelta(weeks=i), value=v) for i, v in enumerate(values)]


def fractions(pairs, start=MONDAY):
    return [Observation(start + dt.timedelta(weeks=i), numerator=n, denominator=d) for i, (n, d) in enumerate(pairs)]


def week(n):
    return MONDAY + dt.timedelta(weeks=n)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def elements(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    found = root.iter(f"{NS}{tag}")
    return [e for e in found if cls is None or cls in (e.get("class") or "").split()]


def title_of(element: ET.Element) -> str:
    return element.find(f"{NS}title").text


def draw(analysis, **kwargs) -> ET.Element:
    return parse(render_svg(analysis, title=kwargs.pop("title", "Door-to-ECG time"), **kwargs))


def frozen(better=None, **kwargs):
    """Limits frozen on the steady weeks (5.8 to 15.5): the better weeks then signal (shift, points outside)."""
    return analyse(weekly(STEADY + BETTER), "xmr", better=better, freeze=12, **kwargs)


# --- accessibility and escaping ------------------------------------------------------------------------


def test_root_is_an_image_labelled_by_its_title_and_description():
    root = draw(analyse(weekly(STEADY), "xmr", better="up"), title="ECG within 10 minutes")
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert (title.get("id"), desc.get("id")) == (title_id, desc_id)
    assert title.text == "ECG within 10 minutes"
    assert root.get("viewBox") == "0 0 760 360"


def test_markup_in_a_title_comes_out_escaped():
    title = '<script>alert("x")</script> & <b>'
    svg = render_svg(analyse(weekly(STEADY), "xmr"), title=title, annotations=[(week(3), "<script>1</script>")])
    assert "<script" not in svg
    root = parse(svg)
    assert root.find(f"{NS}title").text == title
    assert not list(root.iter(f"{NS}script"))
    assert "<script>" in elements(root, "text", "chart-title")[0].text


def test_control_characters_are_dropped_so_the_xml_stays_well_formed():
    root = draw(analyse(weekly(STEADY), "xmr"), title="Bad\x00 title\x1b", description="line\x0bbreak")
    assert root.find(f"{NS}title").text == "Bad title"
    assert root.find(f"{NS}desc").text == "linebreak"


def test_default_description_gives_the_verdict_the_assurance_and_the_data_range():
    analysis = frozen("up", target=14)
    desc = draw(analysis, unit="minutes").find(f"{NS}desc").text
    assert desc.startswith(analysis.verdict)
    assert analysis.assurance_text in desc
    assert "24 points from 5 January 2026 to 15 June 2026; lowest 9 minutes, highest 17 minutes" in desc


def test_a_given_description_replaces_the_default():
    root = draw(analyse(weekly(STEADY), "xmr"), description="Weekly door-to-ECG times.")
    assert root.find(f"{NS}desc").text == "Weekly door-to-ECG times."


# --- points and signals -----------------------------------------------------------------------------


def test_every_highlighted_point_has_a_marker_in_its_making_data_count_colour():
    analysis = frozen("up")
    highlighted = [p for p in analysis.points if p.rules]
    assert len(highlighted) == 12
    root = draw(analysis)
    markers = elements(root, "circle", "highlighted")
    assert len(markers) == len(highlighted)
    assert {m.get("fill") for m in markers} == {COLOURS["improvement"]}
    assert len(elements(root, "circle", "point")) == len(analysis.points)
    assert "special cause (improvement): 2 of 3 points close to a process limit" in title_of(markers[0])


def test_each_marker_takes_the_colour_of_its_own_point():
    analysis = analyse(weekly(STEADY + BETTER), "xmr", better="up")  # one mean: low weeks concern, high improve
    markers = elements(draw(analysis), "circle", "highlighted")
    variations = [p.variation for p in analysis.points if p.rules]
    assert {"improvement", "concern"} <= set(variations)
    assert [m.get("fill") for m in markers] == [COLOURS[v] for v in variations]
    assert [m.get("class").split()[-1] for m in markers] == variations


def test_a_worse_shift_is_drawn_as_a_concern():
    markers = elements(draw(frozen("down")), "circle", "highlighted")
    assert len(markers) == 12 and {m.get("fill") for m in markers} == {COLOURS["concern"]}
    assert "special cause (concern)" in title_of(markers[0])


def test_without_a_better_direction_signals_are_neutral_purple():
    markers = elements(draw(frozen()), "circle", "highlighted")
    assert len(markers) == 12 and {m.get("fill") for m in markers} == {COLOURS["neutral"]}


def test_point_titles_give_the_date_and_value():
    analysis = analyse(fractions([(9, 20), (12, 20), (15, 30)]), "p")
    titles = [title_of(c) for c in elements(draw(analysis), "circle", "point")]
    assert titles == [
        "5 January 2026: 45.0% (9/20)",
        "12 January 2026: 60.0% (12/20)",
        "19 January 2026: 50.0% (15/30)",
    ]


def test_above_a_thousand_points_only_the_highlighted_points_get_a_marker():
    values = [10 + (i % 5) for i in range(3000)] + [30, 31, 32]  # three points far above the limits at the end
    analysis = analyse(
        [Observation(dt.date(2000, 1, 1) + dt.timedelta(days=i), value=v) for i, v in enumerate(values)], "xmr"
    )
    highlighted = sum(1 for p in analysis.points if p.rules)
    root = draw(analysis)
    assert 3 <= highlighted < 3003
    assert len(elements(root, "circle", "point")) == highlighted
    assert len(elements(root, "circle", "highlighted")) == highlighted
    assert len(elements(root, "path", "data")) == 1


# --- centre, limits, target, phases ---------------------------------------------------------------------


def test_a_run_chart_has_a_median_and_no_limits():
    root = draw(analyse(weekly(STEADY + BETTER), "run", better="up"))
    assert not elements(root, "g", "limits")
    assert not elements(root, "path", "limit")
    (centre,) = elements(root, "g", "centre")
    assert title_of(centre).startswith("Phase 1 median")


def test_an_spc_chart_has_a_mean_and_upper_and_lower_limits_per_phase():
    root = draw(analyse(weekly(STEADY + BETTER), "xmr", phase_starts=[week(12)]))
    assert len(elements(root, "path", "upper-limit")) == 2
    assert len(elements(root, "path", "lower-limit")) == 2
    centres = elements(root, "g", "centre")
    assert [title_of(c).split(" ")[:3] for c in centres] == [["Phase", "1", "mean"], ["Phase", "2", "mean"]]


def test_p_chart_limits_step_with_each_denominator_and_xmr_limits_are_flat():
    p_chart = draw(analyse(fractions([(10, 20), (30, 60), (12, 25), (40, 80), (9, 20), (22, 40)]), "p"))
    (upper,) = elements(p_chart, "path", "upper-limit")
    assert upper.get("d").count("V") == 5  # a step at every change of denominator
    xmr = draw(analyse(weekly(STEADY), "xmr"))
    (upper,) = elements(xmr, "path", "upper-limit")
    assert re.fullmatch(r"M[\d.]+ [\d.]+H[\d.]+", upper.get("d"))


def test_too_few_crossings_dashes_the_centre_line_of_its_phase():
    analysis = analyse(weekly([1] * 10 + [9] * 10), "run", better="up")
    assert "few_crossings" in {s.rule for s in analysis.signals}
    root = draw(analysis)
    (centre,) = elements(root, "g", "few-crossings")
    assert centre.find(f"{NS}line").get("stroke-dasharray")
    assert "too few crossings" in title_of(centre)
    normal = draw(analyse(weekly(STEADY), "run"))
    assert not elements(normal, "g", "few-crossings")
    assert not elements(normal, "g", "centre")[0].find(f"{NS}line").get("stroke-dasharray")


@pytest.mark.parametrize("phase_starts, boundaries", [((), 0), ((week(8),), 1), ((week(6), week(12), week(18)), 3)])
def test_a_vertical_line_marks_each_phase_boundary(phase_starts, boundaries):
    analysis = analyse(weekly(STEADY + BETTER), "xmr", phase_starts=phase_starts)
    root = draw(analysis)
    lines = elements(root, "g", "phase-boundary")
    assert len(lines) == boundaries == len(analysis.phases) - 1
    assert len(elements(root, "g", "centre")) == len(analysis.phases)
    for line in lines:
        x1, x2 = (line.find(f"{NS}line").get(a) for a in ("x1", "x2"))
        assert x1 == x2


def test_a_frozen_baseline_is_shaded_and_named():
    (baseline,) = elements(draw(frozen()), "g", "baseline")
    assert title_of(baseline) == "Baseline: centre and limits from the first 12 points"
    assert not elements(draw(analyse(weekly(STEADY + BETTER), "xmr")), "g", "baseline")


def test_the_target_is_a_line_labelled_in_percent_for_a_p_chart():
    analysis = analyse(fractions([(18, 20)] * 6 + [(17, 20)] * 6), "p", better="up", target=0.9)
    (target,) = elements(draw(analysis), "g", "target")
    assert title_of(target) == "target 90.0%"
    assert not elements(draw(analyse(weekly(STEADY), "xmr")), "g", "target")


# --- icons --------------------------------------------------------------------------------------------------


def test_the_variation_and_assurance_icons_have_titles_that_say_what_they_mean():
    analysis = frozen("up", target=5)
    assert (analysis.variation, analysis.assurance) == ("improvement_high", "meets")
    root = draw(analysis)
    (variation,) = elements(root, "g", "variation")
    (assurance,) = elements(root, "g", "assurance")
    assert title_of(variation) == VARIATION_TITLES["improvement_high"]
    assert variation.get("class") == "icon variation improvement_high"
    assert [t.text for t in variation.iter(f"{NS}text")] == ["H"]
    assert title_of(assurance) == "Assurance: the process will consistently meet the target"
    assert [t.text for t in assurance.iter(f"{NS}text")] == ["P"]


@pytest.mark.parametrize(
    "better, target, variation, assurance, letter, title",
    [
        ("down", 5, "concern_high", "fails", "F", "Assurance: the process will consistently miss the target"),
        ("up", 12, "improvement_high", "may_or_may_not", "?", "Assurance: the process will sometimes meet the target"),
        ("down", 20, "concern_high", "meets", "P", "Assurance: the process will consistently meet the target"),
    ],
)
def test_assurance_icons_show_pass_fail_or_question_mark(better, target, variation, assurance, letter, title):
    root = draw(frozen(better, target=target))
    (icon,) = elements(root, "g", "assurance")
    assert icon.get("class") == f"icon assurance {assurance}"
    assert title_of(icon) == title
    assert [t.text for t in icon.iter(f"{NS}text")] == [letter]
    assert elements(root, "g", "variation")[0].get("class") == f"icon variation {variation}"


def test_low_values_show_an_l():
    analysis = analyse(weekly(BETTER + STEADY), "xmr", better="down", freeze=12)
    (icon,) = elements(draw(analysis), "g", "variation")
    assert icon.get("class") == "icon variation improvement_low"
    assert [t.text for t in icon.iter(f"{NS}text")] == ["L"]
    assert title_of(icon) == "Special cause variation, improvement: unusually low values"


def test_common_cause_has_its_icon_and_no_target_means_no_assurance_icon():
    root = draw(analyse(weekly(STEADY), "xmr", better="up"))
    (icon,) = elements(root, "g", "variation")
    assert title_of(icon) == VARIATION_TITLES["common_cause"]
    assert not elements(root, "g", "assurance")
    run = draw(analyse(weekly(STEADY), "run", better="up", target=10))
    assert not elements(run, "g", "assurance")  # a run chart gives no assurance


# --- annotations ---------------------------------------------------------------------------------------------


def test_annotations_are_numbered_markers_with_their_full_text_as_tooltips():
    notes = [
        (week(8), "Note: new rota"),
        (week(2), "PDSA 1: ECG prompt on the triage form"),
        (week(3), "PDSA 2: ECG machine moved to triage"),
    ]
    root = draw(analyse(weekly(STEADY + BETTER), "xmr"), annotations=notes)
    markers = elements(root, "g", "annotation")
    assert len(markers) == 3
    assert [m.find(f"{NS}text").text for m in markers] == ["P1", "P2", "N1"]
    assert title_of(markers[0]) == "19 January 2026: PDSA 1: ECG prompt on the triage form"
    assert title_of(markers[2]) == "2 March 2026: Note: new rota"


def test_no_annotations_draw_no_markers():
    assert not elements(draw(analyse(weekly(STEADY), "xmr"), annotations=()), "g", "annotation")


def test_annotations_far_outside_the_data_are_left_out():
    notes = [(week(-2), "PDSA 1: before the data"), (dt.date(2040, 1, 1), "PDSA 9: a typo")]
    markers = elements(draw(analyse(weekly(STEADY), "xmr"), annotations=notes), "g", "annotation")
    assert [m.find(f"{NS}text").text for m in markers] == ["P1"]


# --- values and dates -------------------------------------------------------------------------------------


def tick_labels(root: ET.Element, axis: str) -> list[str]:
    (group,) = elements(root, "g", axis)
    return [t.text for t in group.iter(f"{NS}text")]


def test_a_p_chart_shows_percentages():
    root = draw(analyse(fractions([(9, 20), (12, 20), (15, 30), (11, 20)]), "p"))
    labels = tick_labels(root, "value-axis")
    assert labels and all(re.fullmatch(r"\d+%", label) for label in labels)
    centre = title_of(elements(root, "g", "centre")[0])
    assert centre == "Phase 1 mean 52.2%"  # pooled: 47 of 90


def test_percent_can_be_turned_off_and_other_charts_show_plain_numbers_with_the_unit():
    p_chart = analyse(fractions([(9, 20), (12, 20), (15, 30), (11, 20)]), "p")
    assert not any("%" in label for label in tick_labels(draw(p_chart, percent=False), "value-axis"))
    root = draw(analyse(weekly([2.5, 3.5, 3, 4]), "xmr"), unit="minutes")
    assert not any("%" in label for label in tick_labels(root, "value-axis"))
    assert elements(root, "text", "unit")[0].text == "minutes"
    assert title_of(elements(root, "circle", "point")[0]) == "5 January 2026: 2.5 minutes"
    percentages = draw(analyse(weekly([85, 90.5]), "xmr"), unit="%")  # values already in percent
    assert [title_of(c) for c in elements(percentages, "circle", "point")] == [
        "5 January 2026: 85%",
        "12 January 2026: 90.5%",
    ]


@pytest.mark.parametrize("low, high", [(0, 1), (0.013, 0.018), (-5, 5), (3, 1_000_000), (12.5, 12.75)])
def test_value_ticks_are_round_numbers_covering_the_range(low, high):
    ticks, step = _value_ticks(low, high, 5)
    assert ticks[0] <= low and ticks[-1] >= high
    assert 3 <= len(ticks) <= 8
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 9) in (1, 2, 2.5, 5)


@pytest.mark.parametrize(
    "days, unit",
    [
        (6, "day"),
        (16, "day"),
        (20, "week"),
        (60, "week"),
        (200, "month"),
        (900, "month"),
        (3650, "year"),
        (36500, "year"),
    ],
)
def test_date_ticks_suit_the_span_and_never_crowd(days, unit):
    first = dt.date(2024, 3, 15).toordinal()
    chosen, ticks = _date_ticks(first, first + days, 10)
    assert chosen == unit
    assert 2 <= len(ticks) <= 10
    assert all(first <= t.toordinal() <= first + days for t in ticks)


def test_weekly_data_over_a_year_has_month_labels_with_the_year_where_it_changes():
    analysis = analyse(
        [Observation(dt.date(2025, 6, 2) + dt.timedelta(weeks=i), value=i % 4) for i in range(52)], "xmr"
    )
    labels = tick_labels(draw(analysis), "date-axis")
    assert labels[:2] == ["Jul", "2025"]
    assert set(labels) <= {
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
        "2025",
        "2026",
    }
    assert "Jan" in labels and labels[labels.index("Jan") + 1] == "2026"


# --- awkward data --------------------------------------------------------------------------------------------


def numbers_in(root: ET.Element) -> list[float]:
    found = []
    for element in root.iter():
        for name in ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy"):
            if element.get(name) is not None:
                found.append(float(element.get(name)))
        if element.get("d"):
            found += [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", element.get("d"))]
    return found


def assert_inside_the_picture(svg: str, width=760, height=360):
    assert "nan" not in svg.lower() and "inf" not in svg.lower()
    root = parse(svg)
    coordinates = numbers_in(root)
    assert coordinates and all(-20 <= n <= max(width, height) + 20 for n in coordinates)
    return root


@pytest.mark.parametrize(
    "kind, observations",
    [
        ("run", weekly([5])),
        ("c", weekly([0])),
        ("p", fractions([(3, 10)])),
        ("xmr", weekly([4, 4])),
    ],
)
def test_a_single_point_or_two_equal_points_draw(kind, observations):
    analysis = analyse(observations, kind)
    root = assert_inside_the_picture(render_svg(analysis, title="Early days"))
    assert len(elements(root, "circle", "point")) == len(observations)
    assert len(tick_labels(root, "value-axis")) >= 2


@pytest.mark.parametrize(
    "kind, observations",
    [
        ("xmr", weekly([7] * 15)),
        ("xmr", weekly([0] * 15)),
        ("run", weekly([-3_000_000] * 15)),
        ("c", weekly([0] * 15)),
        ("p", fractions([(0, 10)] * 15)),
        ("p", fractions([(10, 10)] * 15)),
    ],
)
def test_flat_data_draw_with_a_value_axis_around_them(kind, observations):
    root = assert_inside_the_picture(render_svg(analyse(observations, kind), title="Flat"))
    labels = tick_labels(root, "value-axis")
    assert len(labels) >= 2 and len(set(labels)) == len(labels)


def test_limits_far_from_the_data_stay_on_the_scale():
    # a noisy baseline frozen, then a steady process: wide limits around tightly grouped later points
    values = [0, 100, 0, 100, 0, 100] + [50.1, 50.2] * 20
    analysis = analyse(weekly(values), "xmr", freeze=6, target=1000)
    root = assert_inside_the_picture(render_svg(analysis, title="Wide limits"))
    assert len(elements(root, "path", "upper-limit")) == 1


def test_no_data_draws_an_empty_frame_that_says_so():
    analysis = analyse([], "xmr", better="up", target=5)
    root = parse(render_svg(analysis, title="Nothing yet", annotations=[(MONDAY, "PDSA 1: early")]))
    assert root.find(f"{NS}desc").text == analysis.verdict
    assert elements(root, "rect", "empty")
    assert not elements(root, "path", "data") and not elements(root, "g", "annotation")


def test_ten_thousand_points_draw_one_line():
    observations = [Observation(dt.date(1990, 1, 1) + dt.timedelta(days=i), value=i % 7) for i in range(10_000)]
    root = assert_inside_the_picture(render_svg(analyse(observations, "c"), title="Daily"))
    (line,) = elements(root, "path", "data")
    assert line.get("d").count(" ") == 2 * 10_000 - 1
    assert len(tick_labels(root, "date-axis")) <= 12


def test_dates_at_the_ends_of_the_calendar_still_draw():
    rows = [Observation(dt.date(1, 1, 1), value=1), Observation(dt.date(9999, 12, 31), value=2)]
    root = ET.fromstring(render_svg(analyse(rows, "run"), title="Slips"))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Slips" in texts and any(text and text.isdigit() and len(text) == 4 for text in texts)  # year ticks
