"""The patient-data guard (NHS numbers and trust patterns in free text) and the environment readers.

NHS numbers here are generated with their own Modulus 11 check digit, computed in this file
independently of qi.patient_data, and include the published test numbers 943 476 5919 and
401 023 2137.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.text import capfirst

from config.env import env_bool, env_choice, env_int, env_list, env_str
from qi.models import DataPoint, Handover, Measure, Milestone, PDSACycle, Project, Review
from qi.patient_data import find_nhs_numbers, free_text_errors, is_valid_nhs_number, patient_identifier_problem
from tests.factories import (
    DepartmentFactory,
    MeasureFactory,
    MilestoneFactory,
    PDSACycleFactory,
    ProjectFactory,
    UserFactory,
)


def check_digit(first_nine: str) -> int:
    """Modulus 11: weights 10 down to 2, 11 minus the remainder; 11 becomes 0, 10 means no valid number."""
    remainder = sum(int(digit) * (10 - position) for position, digit in enumerate(first_nine)) % 11
    return {0: 0}.get(remainder, 11 - remainder)


def nhs_number(first_nine: str) -> str:
    digit = check_digit(first_nine)
    assert digit != 10, f"{first_nine} has no valid check digit"
    return first_nine + str(digit)


KNOWN_VALID = ["9434765919", "4010232137"]
GENERATED = [nhs_number(prefix) for prefix in ("987654321", "450557710", "123456780", "600000001")]
VALID = KNOWN_VALID + GENERATED
SAMPLE = "9434765919"


def spaced(number: str) -> str:
    return f"{number[:3]} {number[3:6]} {number[6:]}"


def dashed(number: str) -> str:
    return f"{number[:3]}-{number[3:6]}-{number[6:]}"


def dotted(number: str) -> str:
    return f"{number[:3]}.{number[3:6]}.{number[6:]}"


def wide(number: str) -> str:
    return f"{number[:3]}  {number[3:6]}  {number[6:]}"


# --- The check digit ----------------------------------------------------------------------------


def test_own_check_digit_agrees_with_the_published_test_numbers():
    assert [nhs_number(number[:9]) for number in KNOWN_VALID] == KNOWN_VALID


def test_generated_numbers_include_a_check_digit_of_zero():
    assert "9876543210" in GENERATED


@pytest.mark.parametrize("number", VALID)
def test_valid_nhs_numbers_pass_the_check(number):
    assert is_valid_nhs_number(number)


@pytest.mark.parametrize("number", VALID)
def test_a_wrong_check_digit_fails_the_check(number):
    for wrong in set("0123456789") - {number[9]}:
        assert not is_valid_nhs_number(number[:9] + wrong)


def test_numbers_whose_check_digit_would_be_ten_are_never_valid():
    prefix = "123456789"
    assert check_digit(prefix) == 10
    for last in "0123456789":
        assert not is_valid_nhs_number(prefix + last)
        assert find_nhs_numbers(f"Ref {prefix}{last}") == []


@pytest.mark.parametrize("value", ["", "943476591", "94347659190", "943476591X", "943 476 5919"])
def test_only_ten_bare_digits_are_checked(value):
    assert not is_valid_nhs_number(value)


# --- Finding numbers in text --------------------------------------------------------------------


@pytest.mark.parametrize("number", VALID)
@pytest.mark.parametrize(
    "layout", [str, spaced, dashed, dotted, wide], ids=["bare", "spaced", "dashed", "dotted", "double-spaced"]
)
def test_valid_nhs_number_is_found_in_text(number, layout):
    text = f"Patient {layout(number)} waited 40 minutes for an ECG."
    assert find_nhs_numbers(text) == [number]
    assert patient_identifier_problem(text) is not None


@pytest.mark.parametrize(
    "text",
    [SAMPLE, f"({SAMPLE})", f"NHS no:{SAMPLE}.", f"ID{SAMPLE}", f"{spaced(SAMPLE)}\n", f"nhs={dashed(SAMPLE)};"],
)
def test_valid_nhs_number_is_found_whatever_surrounds_it(text):
    assert find_nhs_numbers(text) == [SAMPLE]


def test_every_nhs_number_in_the_text_is_found():
    second = "4010232137"
    assert find_nhs_numbers(f"{SAMPLE} then {spaced(second)}") == [SAMPLE, second]


@pytest.mark.parametrize(
    "text", ["943 476 5918", "9434765918", "943-476-5910", "Bleep 4010232138"], ids=["spaced", "bare", "dash", "text"]
)
def test_number_with_a_wrong_check_digit_is_not_refused(text):
    assert find_nhs_numbers(text) == []
    assert patient_identifier_problem(text) is None


@pytest.mark.parametrize(
    "text",
    [
        f"0{SAMPLE}",  # eleven digits: a UK mobile or landline written without spaces
        f"{SAMPLE}0",
        f"44{SAMPLE}",  # a phone number with its country code
        f"+44{SAMPLE}",
        f"Order 12{SAMPLE}34 shipped",
        f"1-{dashed(SAMPLE)}",  # part of a longer dashed number
        f"{dashed(SAMPLE)}-2",
    ],
)
def test_nhs_number_inside_a_longer_run_of_digits_is_not_matched(text):
    assert find_nhs_numbers(text) == []
    assert patient_identifier_problem(text) is None


@pytest.mark.parametrize("text", ["", "Door-to-ECG 22 minutes, 14 of 60 patients", "Audit of 2024-2025: 943 cases"])
def test_ordinary_qi_text_has_no_problem(text):
    assert patient_identifier_problem(text) is None


def test_problem_message_masks_the_number_and_names_nothing_identifiable():
    text = f"Mrs Jane Doe, {spaced(SAMPLE)}, DOB 01/02/1950, waited 40 minutes."
    message = patient_identifier_problem(text)
    assert message is not None
    assert "NHS number" in message
    assert "919" in message  # the last three digits, enough to find it in the text
    for leak in (SAMPLE, spaced(SAMPLE), "9434765", "943 476", "Jane", "Doe", "1950", "40 minutes"):
        assert leak not in message


def test_free_text_errors_name_each_field_with_a_problem():
    errors = free_text_errors(
        [("aim", "SMART aim", "Fine text."), ("problem", "Problem", f"Seen: {SAMPLE}"), ("title", "Title", "")]
    )
    assert list(errors) == ["problem"]
    assert errors["problem"].startswith("Problem contains")


# --- A trust's own patterns ---------------------------------------------------------------------


@pytest.fixture
def hospital_numbers(settings):
    settings.QI_PATIENT_IDENTIFIER_PATTERNS = {"hospital number": r"\bRX\d{7}\b", "A&E number": r"\bAE-\d{6}\b"}


@pytest.mark.parametrize(
    ("text", "name", "hidden"),
    [
        ("Patient RX1234567 waited", "hospital number", "RX1234567"),
        ("Attendance AE-654321 in resus", "A&E number", "AE-654321"),
    ],
)
def test_trust_patterns_from_settings_are_refused(hospital_numbers, text, name, hidden):
    message = patient_identifier_problem(text)
    assert message is not None
    assert f"a {name}" in message
    assert hidden not in message
    assert hidden[-3:] in message


def test_text_matching_no_trust_pattern_passes(hospital_numbers):
    assert patient_identifier_problem("RX12345 is a ward code, not a hospital number") is None


def test_trust_patterns_apply_only_when_configured(settings):
    settings.QI_PATIENT_IDENTIFIER_PATTERNS = {}
    assert patient_identifier_problem("Patient RX1234567 waited") is None


# --- Models refuse patient identifiers on full_clean() ------------------------------------------


def _project(**fields) -> Project:
    return ProjectFactory.build(department=DepartmentFactory(), **fields)


def _milestone(**fields) -> Milestone:
    return MilestoneFactory.build(project=ProjectFactory(), **fields)


def _pdsa_cycle(**fields) -> PDSACycle:
    return PDSACycleFactory.build(project=ProjectFactory(), number=1, **fields)


def _data_point(**fields) -> DataPoint:
    return DataPoint(measure=MeasureFactory(), date=dt.date(2025, 1, 6), value=12, **fields)


def _measure(**fields) -> Measure:
    return MeasureFactory.build(project=ProjectFactory(), **fields)


def _handover(**fields) -> Handover:
    lead, successor = UserFactory(), UserFactory()
    return Handover(project=ProjectFactory(), from_lead=lead, to_lead=successor, handed_over_by=lead, **fields)


def _review(**fields) -> Review:
    milestone = MilestoneFactory(status="submitted", evidence="Chart.", submitted_at=dt.datetime.now(dt.UTC))
    return Review(milestone=milestone, reviewer=UserFactory(), decision="changes_requested", **fields)


FREE_TEXT_FIELDS = [
    (_project, "title"),
    (_project, "problem"),
    (_project, "outcome_summary"),
    (_project, "lessons_learned"),
    (_project, "handover_notes"),
    (_milestone, "title"),
    (_milestone, "description"),
    (_milestone, "evidence"),
    (_pdsa_cycle, "change_idea"),
    (_pdsa_cycle, "prediction"),
    (_pdsa_cycle, "plan_who"),
    (_pdsa_cycle, "study"),
    (_pdsa_cycle, "act_notes"),
    (_data_point, "note"),
    (_measure, "operational_definition"),
    (_handover, "notes"),
    (_review, "comment"),
]


def _label(instance, field: str) -> str:
    return capfirst(instance._meta.get_field(field).verbose_name)


@pytest.mark.django_db
@pytest.mark.parametrize(("make", "field"), FREE_TEXT_FIELDS, ids=lambda v: getattr(v, "__name__", v).strip("_"))
def test_full_clean_refuses_an_nhs_number_naming_the_field(make, field):
    instance = make(**{field: f"Case {spaced(SAMPLE)} seen"})
    with pytest.raises(ValidationError) as refused:
        instance.full_clean()
    errors = refused.value.message_dict
    assert list(errors) == [field]
    [message] = errors[field]
    assert message.startswith(f"{_label(instance, field)} contains")
    assert "NHS number" in message
    assert SAMPLE not in message and spaced(SAMPLE) not in message


@pytest.mark.django_db
def test_full_clean_keeps_the_label_of_the_aim_as_written():
    project = _project(aim=f"Reach {SAMPLE} by March")
    with pytest.raises(ValidationError) as refused:
        project.full_clean()
    assert refused.value.message_dict["aim"][0].startswith("SMART aim contains")


@pytest.mark.django_db
def test_full_clean_names_every_field_holding_an_identifier():
    project = _project(problem=f"Patient {SAMPLE}", lessons_learned=f"Patient {dashed('4010232137')}")
    with pytest.raises(ValidationError) as refused:
        project.full_clean()
    assert set(refused.value.message_dict) == {"problem", "lessons_learned"}


@pytest.mark.django_db
def test_full_clean_refuses_a_trust_pattern_in_free_text(hospital_numbers):
    milestone = _milestone(evidence="Audit sheet for RX1234567 attached")
    with pytest.raises(ValidationError) as refused:
        milestone.full_clean()
    assert refused.value.message_dict["evidence"][0].startswith("Evidence contains what looks like a hospital number")


@pytest.mark.django_db
@pytest.mark.parametrize("make", [_project, _milestone, _pdsa_cycle, _data_point, _measure, _handover, _review])
def test_full_clean_accepts_aggregated_free_text(make):
    instance = make()
    if isinstance(instance, Review):
        instance.comment = "Please add the run chart for weeks 1 to 12."
    instance.full_clean()


# --- Environment readers ------------------------------------------------------------------------

VAR = "QI_TEST_SETTING"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), (" YES ", True), ("on", True), ("0", False), ("False", False), ("", False)],
)
def test_env_bool_reads_clear_yes_and_no(monkeypatch, raw, expected):
    monkeypatch.setenv(VAR, raw)
    assert env_bool(VAR, not expected) is expected


def test_env_bool_uses_the_default_when_unset(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    assert env_bool(VAR, True) is True
    assert env_bool(VAR, False) is False


def test_env_bool_refuses_maybe_naming_the_variable(monkeypatch):
    monkeypatch.setenv(VAR, "maybe")
    with pytest.raises(ImproperlyConfigured, match=rf"{VAR}='maybe' is not a boolean"):
        env_bool(VAR, False)


def test_env_int_reads_a_whole_number(monkeypatch):
    monkeypatch.setenv(VAR, " 42 ")
    assert env_int(VAR, 10) == 42
    monkeypatch.delenv(VAR)
    assert env_int(VAR, 10) == 10


def test_env_int_refuses_ten_in_words_naming_the_variable(monkeypatch):
    monkeypatch.setenv(VAR, "ten")
    with pytest.raises(ImproperlyConfigured, match=rf"{VAR}='ten' is not a whole number"):
        env_int(VAR, 10)


def test_env_int_refuses_a_number_below_the_minimum(monkeypatch):
    monkeypatch.setenv(VAR, "0")
    with pytest.raises(ImproperlyConfigured, match=rf"{VAR}=0 must be at least 1"):
        env_int(VAR, 10, minimum=1)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv(VAR, " example.nhs.uk, qi.example.nhs.uk ,,localhost ")
    assert env_list(VAR, []) == ["example.nhs.uk", "qi.example.nhs.uk", "localhost"]
    monkeypatch.setenv(VAR, "")
    assert env_list(VAR, ["default"]) == []


def test_env_list_returns_a_copy_of_the_default(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    default = ["localhost"]
    value = env_list(VAR, default)
    value.append("changed")
    assert default == ["localhost"]


def test_env_choice_accepts_an_allowed_value(monkeypatch):
    monkeypatch.setenv(VAR, " smtp ")
    assert env_choice(VAR, "file", {"file", "smtp"}) == "smtp"
    monkeypatch.delenv(VAR)
    assert env_choice(VAR, "file", {"file", "smtp"}) == "file"


def test_env_choice_refuses_others_naming_the_variable_and_the_choices(monkeypatch):
    monkeypatch.setenv(VAR, "pigeon")
    with pytest.raises(ImproperlyConfigured, match=rf"{VAR}='pigeon' must be one of: file, smtp"):
        env_choice(VAR, "file", {"smtp", "file"})


def test_env_str_without_a_default_must_be_set(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    with pytest.raises(ImproperlyConfigured, match=rf"{VAR} must be set"):
        env_str(VAR)
    monkeypatch.setenv(VAR, "value")
    assert env_str(VAR) == "value"


@pytest.mark.parametrize("text", [f"MRN-{SAMPLE}", f"NHS no.-{spaced(SAMPLE)}", f"ref -{dashed(SAMPLE)}"])
def test_nhs_number_after_a_dash_that_follows_no_digit_is_found(text):
    assert find_nhs_numbers(text) == [SAMPLE]
