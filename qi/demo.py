"""Demo data: a believable NHS trust, built through the services so the audit trail is real.

``seed_demo()`` creates Riverside University Hospitals NHS Foundation Trust with eight departments,
40 resident doctors on their current (and, for foundation and core trainees, previous) rotations,
eight consultant supervisors, two QI leads, an administrator and 60 projects in every status and
category: milestones approved, waiting for review, sent back with a comment, overdue and due soon;
PDSA cycles; and weekly data where a change shows on the run chart. Dates are relative to today;
the numbers come from a seeded ``random.Random``, so two runs on the same day build the same trust.

Running it again changes nothing: if the trust exists, it is left alone and the logins are
returned again. Every user shares ``DEMO_PASSWORD``.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from qi import events, services
from qi.models import (
    DataPoint,
    Department,
    Grade,
    Handover,
    Measure,
    Milestone,
    Organisation,
    PDSACycle,
    Placement,
    Project,
    ProjectMembership,
    Review,
    Role,
    Topic,
    User,
    today,
)

DEMO_PASSWORD = "demo-password-2026"
ORGANISATION_NAME = "Riverside University Hospitals NHS Foundation Trust"
ORGANISATION_CODE = "RVH"
DOMAIN = "riverside.example"
ADMIN_EMAIL = f"admin@{DOMAIN}"
RANDOM_SEED = 2026
BASELINE_WEEKS = 12  # weeks of retrospective baseline before a QI project starts

Category = Project.Category
Status = Project.Status


class DemoSeedError(Exception):
    """The demo trust cannot be built in this database (say, a demo e-mail address is taken)."""


# --- The trust and its people -----------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentSpec:
    key: str
    name: str
    specialty: str
    division: str
    ward: str  # how project texts name the place, e.g. "the Acute Medical Unit"
    supervisor: tuple[str, str]  # the consultant who supervises the trainees placed here


DEPARTMENTS = (
    DepartmentSpec(
        "amu", "Acute Medicine", "Acute internal medicine", "Medicine", "the Acute Medical Unit", ("Sam", "Okafor")
    ),
    DepartmentSpec(
        "ed",
        "Emergency Department",
        "Emergency medicine",
        "Urgent and Emergency Care",
        "the Emergency Department",
        ("Priya", "Raman"),
    ),
    DepartmentSpec(
        "surgery", "General Surgery", "General surgery", "Surgery", "the surgical wards", ("James", "Whitfield")
    ),
    DepartmentSpec(
        "coop",
        "Care of Older People",
        "Geriatric medicine",
        "Medicine",
        "the elderly care wards",
        ("Margaret", "Ellis"),
    ),
    DepartmentSpec("cardiology", "Cardiology", "Cardiology", "Medicine", "the cardiology ward", ("Daniel", "Hughes")),
    DepartmentSpec(
        "obs",
        "Obstetrics and Gynaecology",
        "Obstetrics and gynaecology",
        "Women and Children",
        "the labour ward",
        ("Fiona", "MacLeod"),
    ),
    DepartmentSpec(
        "paeds", "Paediatrics", "Paediatrics", "Women and Children", "the children's ward", ("Kwame", "Mensah")
    ),
    DepartmentSpec(
        "tando",
        "Trauma and Orthopaedics",
        "Trauma and orthopaedics",
        "Surgery",
        "the trauma ward",
        ("Rachel", "Thornton"),
    ),
)

DEPARTMENT_QI_LEAD = ("Quinn", "Adeyemi", "amu")
ORGANISATION_QI_LEAD = ("Olga", "Petrova")

# The doctors, in order: the n-th works in DEPARTMENTS[n % 8], so Alice is on the Acute Medical Unit.
DOCTORS: tuple[tuple[str, str, str], ...] = (
    *((first, last, Grade.FY1) for first, last in (
        ("Alice", "Bennett"), ("Ben", "Carter"), ("Chloe", "Davies"), ("Dev", "Patel"), ("Ella", "Foster"),
        ("Finn", "Graham"), ("Grace", "Hall"), ("Hamza", "Iqbal"), ("Isla", "Jones"), ("Jack", "Kelly"),
    )),
    *((first, last, Grade.FY2) for first, last in (
        ("Kate", "Lewis"), ("Liam", "Morgan"), ("Maya", "Nair"), ("Noah", "Owen"), ("Leah", "Rees"),
        ("Mohammed", "Saleh"), ("Nia", "Thomas"), ("Omar", "Usman"),
    )),
    ("Poppy", "Vaughan", Grade.CT1), ("Rhys", "Walker", Grade.CT1), ("Sophie", "Ward", Grade.CT1),
    ("Tom", "Young", Grade.CT2), ("Amara", "Okoye", Grade.CT2), ("Callum", "Reid", Grade.CT2),
    ("Zara", "Ahmed", Grade.CT3), ("Ewan", "Fraser", Grade.CT3),
    ("Harriet", "Cole", Grade.ST1), ("Ibrahim", "Said", Grade.ST2), ("Jasmine", "Lee", Grade.ST3),
    ("Kieran", "Doyle", Grade.ST3), ("Lucy", "Chen", Grade.ST4), ("Marcus", "Grant", Grade.ST4),
    ("Naomi", "Brooks", Grade.ST5), ("Oliver", "Parry", Grade.ST6), ("Rosa", "Martinez", Grade.ST7),
    ("Stefan", "Novak", Grade.ST8),
    ("Tariq", "Hussain", Grade.SAS), ("Uma", "Krishnan", Grade.SAS), ("Victor", "Adebayo", Grade.SAS),
    ("Wendy", "Clarke", Grade.SAS),
)  # fmt: skip

ALICE = "Alice"  # the FY1 doctor who leads several projects, named in the printed logins

FOUNDATION = {Grade.FY1, Grade.FY2}
CORE = {Grade.CT1, Grade.CT2, Grade.CT3}


@dataclass(frozen=True)
class Rotation:
    """How long this grade stays in a post: the current one started `started_days_ago`."""

    started_days_ago: int
    days: int
    has_previous: bool  # rotating trainees also have the post they came from


def rotation_for(grade: str) -> Rotation:
    if grade in FOUNDATION:
        return Rotation(91, 121, True)  # four-month foundation rotations, changing on the same day
    if grade in CORE:
        return Rotation(120, 182, True)
    if grade == Grade.SAS:
        return Rotation(730, 1826, False)
    return Rotation(250, 365, False)  # specialty trainees: a year in post


# --- Clinical themes: what the projects are about ---------------------------------------------


@dataclass(frozen=True)
class MeasureSpec:
    name: str
    definition: str
    before: float  # level at baseline: a proportion (0 to 1) when unit is "%", else a value
    after: float  # level once the changes work
    unit: str = "%"
    better: str = Measure.Direction.UP
    cases: tuple[int, int] = (15, 30)  # weekly denominator range, for a proportion
    spread: float = 0.0  # week-to-week noise, for a plain value
    target: float | None = None  # in display units (percent, or the value's unit)

    @property
    def is_proportion(self) -> bool:
        return self.unit == "%"


@dataclass(frozen=True)
class Theme:
    topics: tuple[str, ...]
    problem: str  # for a QI project; "{ward}" is filled in
    aim: str  # SMART aim of a QI project; "{ward}" and "{by}" are filled in
    population: str  # who an audit counts
    standard: str  # what an audit measures against
    service: str  # what a service evaluation looks at
    outcome: MeasureSpec
    process: MeasureSpec
    balancing: MeasureSpec
    changes: tuple[str, str]  # the change ideas of PDSA cycles 1 and 2
    method: str = Project.Method.MODEL_FOR_IMPROVEMENT

    @property
    def audited(self) -> MeasureSpec:
        """The percentage an audit of this theme measures compliance with."""
        return self.outcome if self.outcome.is_proportion else self.process


TOPICS = {
    "sepsis": "Sepsis",
    "vte": "Venous thromboembolism",
    "discharge": "Discharge",
    "deteriorating-patient": "Deteriorating patient",
    "falls": "Falls",
    "diabetes": "Diabetes and insulin",
    "prescribing": "Prescribing safety",
    "handover": "Handover",
    "antimicrobial-stewardship": "Antimicrobial stewardship",
    "delirium": "Delirium",
    "hip-fracture": "Hip fracture",
    "chest-pain": "Chest pain",
    "maternity": "Maternity",
    "paediatrics": "Paediatrics",
    "documentation": "Documentation",
}

THEMES: dict[str, Theme] = {
    "sepsis": Theme(
        topics=("sepsis", "deteriorating-patient"),
        problem="Only about half of adults with red-flag sepsis on {ward} receive all of the Sepsis Six within one "
        "hour of being recognised; antibiotics and lactate are the elements most often late.",
        aim="90% of adults with red-flag sepsis on {ward} receive the complete Sepsis Six within one hour of "
        "recognition by {by}.",
        population="adults with red-flag sepsis",
        standard="the trust sepsis pathway and NICE NG51",
        service="the nurse-led sepsis screening service",
        outcome=MeasureSpec(
            "Sepsis Six completed within 1 hour",
            "Weekly, from the electronic sepsis screening tool: patients with red-flag sepsis who received all six "
            "elements within 60 minutes of recognition / all patients with red-flag sepsis.",
            0.55, 0.87, cases=(16, 28), target=90,
        ),
        process=MeasureSpec(
            "Sepsis screening tool completed when NEWS2 is 5 or more",
            "Weekly: observation sets with NEWS2 of 5 or more followed by a completed screening tool within "
            "30 minutes / all observation sets with NEWS2 of 5 or more.",
            0.62, 0.88, cases=(25, 40),
        ),
        balancing=MeasureSpec(
            "Broad-spectrum antibiotic starts per 100 admissions",
            "Weekly: new intravenous broad-spectrum antibiotic courses / admissions, times 100, from pharmacy data.",
            18.0, 18.5, unit="per 100 admissions", better=Measure.Direction.DOWN, spread=1.6,
        ),
        changes=(
            "A sepsis grab bag in every bay: blood culture bottles, lactate syringe, fluids and the antibiotic "
            "quick guide",
            "A Sepsis Six sticker on the clerking proforma recording the time of each element",
        ),
    ),
    "vte": Theme(
        topics=("vte", "prescribing"),
        problem="Only 60% of admissions to {ward} have a VTE risk assessment recorded within 14 hours, against a "
        "national standard of 95%.",
        aim="95% of admissions to {ward} have a VTE risk assessment within 14 hours of admission by {by}.",
        population="admissions",
        standard="NICE NG89 (VTE risk assessment within 14 hours of admission)",
        service="the pharmacist-led VTE prophylaxis review",
        outcome=MeasureSpec(
            "VTE risk assessment within 14 hours",
            "Weekly, from the electronic prescribing system: admissions with a completed VTE risk assessment "
            "within 14 hours / all admissions.",
            0.60, 0.92, cases=(25, 45), target=95,
        ),
        process=MeasureSpec(
            "VTE assessment completed on the post-take ward round",
            "Weekly: assessments signed during the post-take ward round / all assessments completed.",
            0.50, 0.84, cases=(25, 45),
        ),
        balancing=MeasureSpec(
            "Bleeding events on prophylactic anticoagulation",
            "Weekly count of bleeding incidents reported in patients on prophylactic-dose anticoagulation.",
            0.8, 0.9, unit="events", better=Measure.Direction.DOWN, spread=0.5,
        ),
        changes=(
            "VTE assessment added to the post-take ward round checklist",
            "A 10 am list of unassessed patients sent to the ward doctor each day",
        ),
    ),
    "discharge": Theme(
        topics=("discharge", "documentation"),
        problem="Discharge summaries from {ward} reach GPs a median of three days after discharge; only 55% are "
        "sent within 24 hours, so medication changes are missed in primary care.",
        aim="85% of discharge summaries from {ward} are sent to the GP within 24 hours of discharge by {by}.",
        population="discharges",
        standard="the NHS Standard Contract (discharge summaries within 24 hours)",
        service="the weekend discharge summary pre-writing scheme",
        outcome=MeasureSpec(
            "Discharge summaries sent within 24 hours",
            "Weekly, from the electronic patient record: summaries sent to the GP within 24 hours of discharge "
            "/ all discharges.",
            0.55, 0.86, cases=(30, 55), target=85,
        ),
        process=MeasureSpec(
            "Discharge summaries started the day before discharge",
            "Weekly: summaries with a draft saved before the day of discharge / all discharges.",
            0.30, 0.68, cases=(30, 55),
        ),
        balancing=MeasureSpec(
            "Summaries returned by GPs as incomplete",
            "Weekly count of discharge summaries returned by GP practices as missing information.",
            2.2, 2.4, unit="summaries", better=Measure.Direction.DOWN, spread=0.9,
        ),
        changes=(
            "Protected 30 minutes after the board round to pre-write summaries of expected discharges",
            "Discharge summary status shown on the electronic ward whiteboard",
        ),
        method=Project.Method.LEAN,
    ),
    "news2": Theme(
        topics=("deteriorating-patient",),
        problem="When NEWS2 reaches 5 or more on {ward}, a doctor reviews the patient within 30 minutes only "
        "about half the time.",
        aim="90% of patients on {ward} with NEWS2 of 5 or more are reviewed by a doctor within 30 minutes by {by}.",
        population="patients with NEWS2 of 5 or more",
        standard="the Royal College of Physicians NEWS2 escalation standards",
        service="the critical care outreach team's overnight cover",
        outcome=MeasureSpec(
            "Medical review within 30 minutes of NEWS2 of 5 or more",
            "Weekly: escalations with a documented medical review within 30 minutes / all observation sets with "
            "NEWS2 of 5 or more.",
            0.52, 0.84, cases=(12, 22), target=90,
        ),
        process=MeasureSpec(
            "Escalations documented with SBAR",
            "Weekly: escalation calls documented in SBAR format in the nursing notes / all escalation calls.",
            0.40, 0.80, cases=(12, 22),
        ),
        balancing=MeasureSpec(
            "Bleeps to the ward doctor per night shift",
            "Mean number of bleeps per night shift to the ward doctor, from the switchboard log.",
            24.0, 25.0, unit="bleeps", better=Measure.Direction.DOWN, spread=2.5,
        ),
        changes=(
            "An escalation flowchart on every observation machine",
            "A 10 pm nurse-in-charge huddle reviewing every patient with NEWS2 of 5 or more",
        ),
    ),
    "falls": Theme(
        topics=("falls",),
        problem="{ward} reports 8.5 inpatient falls per 1,000 bed days, above the national average, and lying and "
        "standing blood pressure is rarely recorded.",
        aim="Reduce inpatient falls on {ward} to 5 per 1,000 bed days by {by}.",
        population="patients aged 65 and over",
        standard="NICE CG161 and the National Audit of Inpatient Falls",
        service="the enhanced supervision (bay nursing) scheme",
        outcome=MeasureSpec(
            "Inpatient falls per 1,000 bed days",
            "Weekly: falls reported on the incident system / occupied bed days, times 1,000.",
            8.5, 5.1, unit="per 1,000 bed days", better=Measure.Direction.DOWN, spread=1.2, target=5,
        ),
        process=MeasureSpec(
            "Lying and standing blood pressure within 72 hours",
            "Weekly: patients aged 65 and over with lying and standing blood pressure recorded within 72 hours of "
            "admission / all patients aged 65 and over admitted.",
            0.30, 0.74, cases=(18, 30),
        ),
        balancing=MeasureSpec(
            "Requests for one-to-one enhanced supervision",
            "Weekly count of requests for one-to-one enhanced supervision.",
            6.0, 6.5, unit="requests", better=Measure.Direction.DOWN, spread=1.5,
        ),
        changes=(
            "A lying and standing blood pressure prompt on the admission observation chart",
            "A falls safety huddle at each handover for patients flagged at risk",
        ),
    ),
    "insulin": Theme(
        topics=("diabetes", "prescribing"),
        problem="On {ward}, one insulin prescription in three has an error: 'units' abbreviated, the wrong device, "
        "or no time of administration.",
        aim="95% of insulin prescriptions on {ward} are free of errors by {by}.",
        population="insulin prescriptions",
        standard="the JBDS inpatient insulin prescribing standards",
        service="the diabetes inpatient specialist nurse referral pathway",
        outcome=MeasureSpec(
            "Insulin prescriptions without error",
            "Weekly pharmacist check: insulin prescriptions meeting all five JBDS criteria / all insulin "
            "prescriptions checked.",
            0.66, 0.93, cases=(15, 25), target=95,
        ),
        process=MeasureSpec(
            "Insulin prescriptions reviewed by a pharmacist within 24 hours",
            "Weekly: insulin prescriptions with a pharmacist review within 24 hours / all new insulin prescriptions.",
            0.50, 0.80, cases=(15, 25),
        ),
        balancing=MeasureSpec(
            "Hypoglycaemia episodes (glucose below 4 mmol/L)",
            "Weekly count of capillary glucose readings below 4 mmol/L, from the glucose meter network.",
            7.0, 6.0, unit="episodes", better=Measure.Direction.DOWN, spread=1.8,
        ),
        changes=(
            "Insulin prescribing teaching at FY1 induction, run with the diabetes nurses",
            "An insulin chart with 'units' pre-printed and the device to tick",
        ),
    ),
    "handover": Theme(
        topics=("handover", "documentation"),
        problem="Weekend handover on {ward} is verbal and unstructured: jobs are missed and the weekend team "
        "re-clerks patients to find the plan.",
        aim="90% of patients handed over for the weekend on {ward} have a structured SBAR entry with a clear plan "
        "by {by}.",
        population="weekend handovers",
        standard="the RCP and BMA safe handover guidance",
        service="the electronic handover list",
        outcome=MeasureSpec(
            "Weekend handovers with a complete SBAR entry",
            "Weekly: patients on the Friday handover list with all four SBAR fields and a plan / all patients on the "
            "list.",
            0.45, 0.88, cases=(15, 30), target=90,
        ),
        process=MeasureSpec(
            "Handover entries stating the ceiling of care",
            "Weekly: handover entries recording the ceiling of care and resuscitation status / all entries.",
            0.50, 0.86, cases=(15, 30),
        ),
        balancing=MeasureSpec(
            "Length of Friday handover (minutes)",
            "Minutes from the start to the end of the Friday afternoon handover meeting.",
            35.0, 37.0, unit="minutes", better=Measure.Direction.DOWN, spread=4.0,
        ),
        changes=(
            "A structured SBAR template in the electronic handover list",
            "A 4 pm consultant-led Friday handover huddle",
        ),
    ),
    "antimicrobial": Theme(
        topics=("antimicrobial-stewardship", "prescribing"),
        problem="Only 58% of antibiotic prescriptions on {ward} state an indication and a review date, so "
        "courses run on without review.",
        aim="90% of antibiotic prescriptions on {ward} document an indication and a 48 to 72 hour review by {by}.",
        population="antibiotic prescriptions",
        standard="UKHSA Start Smart then Focus",
        service="the weekly antimicrobial stewardship ward round",
        outcome=MeasureSpec(
            "Antibiotic prescriptions with indication and review date",
            "Weekly point prevalence: antibiotic prescriptions with an indication and a review date / all "
            "antibiotic prescriptions.",
            0.58, 0.89, cases=(20, 35), target=90,
        ),
        process=MeasureSpec(
            "Antibiotic reviews documented at 48 to 72 hours",
            "Weekly: courses with a documented review decision at 48 to 72 hours / courses running for 72 hours.",
            0.40, 0.77, cases=(15, 25),
        ),
        balancing=MeasureSpec(
            "Days of antibiotic therapy per 100 bed days",
            "Weekly: days of antibiotic therapy / occupied bed days, times 100, from pharmacy data.",
            80.0, 76.0, unit="days per 100 bed days", better=Measure.Direction.DOWN, spread=5.0,
        ),
        changes=(
            "An indication field that must be filled in on every electronic antibiotic prescription",
            "An antibiotic time-out sticker on the drug chart at 48 hours",
        ),
    ),
    "delirium": Theme(
        topics=("delirium",),
        problem="Only 35% of patients aged 65 and over admitted to {ward} are screened for delirium with the 4AT.",
        aim="80% of patients aged 65 and over admitted to {ward} have a 4AT within 24 hours by {by}.",
        population="patients aged 65 and over",
        standard="NICE CG103 (delirium: prevention, diagnosis and management)",
        service="the delirium prevention volunteer programme",
        outcome=MeasureSpec(
            "4AT delirium screen within 24 hours of admission",
            "Weekly: patients aged 65 and over with a 4AT recorded within 24 hours / all patients aged 65 and over "
            "admitted.",
            0.35, 0.79, cases=(15, 30), target=80,
        ),
        process=MeasureSpec(
            "Delirium care plan started when the 4AT is 4 or more",
            "Weekly: patients with a 4AT of 4 or more who have a delirium care plan within 24 hours / all patients "
            "with a 4AT of 4 or more.",
            0.40, 0.76, cases=(5, 12),
        ),
        balancing=MeasureSpec(
            "Clerking time per patient (minutes)",
            "Median minutes from the start to the end of the admission clerking, from a weekly sample.",
            45.0, 46.0, unit="minutes", better=Measure.Direction.DOWN, spread=3.0,
        ),
        changes=("The 4AT added to the admission clerking proforma", "A delirium champion named on each shift"),
    ),
    "hip_fracture": Theme(
        topics=("hip-fracture",),
        problem="Only 62% of patients with a hip fracture reach theatre within 36 hours of arrival, behind the "
        "national average.",
        aim="85% of patients with a hip fracture have surgery within 36 hours of arrival by {by}.",
        population="patients with a hip fracture",
        standard="the National Hip Fracture Database key performance indicators",
        service="the orthogeriatric liaison service",
        outcome=MeasureSpec(
            "Surgery within 36 hours of arrival",
            "Weekly, from the National Hip Fracture Database extract: patients operated on within 36 hours of "
            "arrival / all patients operated on for a hip fracture.",
            0.62, 0.85, cases=(6, 12), target=85,
        ),
        process=MeasureSpec(
            "Fascia iliaca block within 4 hours of arrival",
            "Weekly: patients with a hip fracture given a fascia iliaca block within 4 hours / all patients with a "
            "hip fracture.",
            0.45, 0.80, cases=(6, 12),
        ),
        balancing=MeasureSpec(
            "Cancellations on the trauma list",
            "Weekly count of patients cancelled from the trauma list on the day.",
            2.0, 2.2, unit="cancellations", better=Measure.Direction.DOWN, spread=0.8,
        ),
        changes=(
            "Hip fracture patients placed first on the next trauma list by default",
            "Anaesthetic pre-assessment in the Emergency Department for suspected hip fractures",
        ),
    ),
    "chest_pain": Theme(
        topics=("chest-pain",),
        problem="Door-to-ECG time for adults with chest pain in {ward} averages 22 minutes; the standard is 10.",
        aim="90% of adults with chest pain have an ECG within 10 minutes of arrival by {by}.",
        population="adults presenting with chest pain",
        standard="the Royal College of Emergency Medicine chest pain standards",
        service="the rapid-access chest pain clinic",
        outcome=MeasureSpec(
            "ECG within 10 minutes of arrival",
            "Weekly: adults with chest pain whose first ECG was recorded within 10 minutes of arrival / all adults "
            "presenting with chest pain.",
            0.48, 0.86, cases=(40, 70), target=90,
        ),
        process=MeasureSpec(
            "ECGs signed by a clinician within 10 minutes",
            "Weekly: first ECGs signed by a clinician within 10 minutes of being recorded / all first ECGs.",
            0.40, 0.80, cases=(40, 70),
        ),
        balancing=MeasureSpec(
            "Median wait for triage (minutes)",
            "Weekly median minutes from arrival to triage for all adult attendances.",
            15.0, 16.0, unit="minutes", better=Measure.Direction.DOWN, spread=2.0,
        ),
        changes=(
            "An ECG machine and a healthcare assistant at the front door from 8 am to midnight",
            "A chest pain card handed out at the reception desk",
        ),
    ),
    "pews": Theme(
        topics=("paediatrics", "deteriorating-patient"),
        problem="Paediatric early warning scores on {ward} are complete and on time for only 60% of observation "
        "sets.",
        aim="95% of observation sets on {ward} have a complete, on-time PEWS by {by}.",
        population="observation sets",
        standard="the national Paediatric Early Warning System (PEWS) standards",
        service="the paediatric high-dependency outreach nurse role",
        outcome=MeasureSpec(
            "Complete PEWS on time",
            "Weekly sample of observation sets: sets with every PEWS parameter recorded at the frequency the score "
            "requires / all sets sampled.",
            0.60, 0.90, cases=(30, 40), target=95,
        ),
        process=MeasureSpec(
            "High PEWS escalated within the set time",
            "Weekly: scores needing escalation that were escalated within the time the chart sets / all scores "
            "needing escalation.",
            0.55, 0.85, cases=(8, 15),
        ),
        balancing=MeasureSpec(
            "Observation sets per patient per day",
            "Weekly mean number of observation sets per patient per day.",
            8.0, 8.3, unit="sets", better=Measure.Direction.DOWN, spread=0.6,
        ),
        changes=(
            "PEWS due times written on the ward whiteboard for each child",
            "Parents invited to tell the nurse if they are worried (a 'call for concern' leaflet)",
        ),
    ),
    "pph": Theme(
        topics=("maternity",),
        problem="Blood loss after birth on {ward} is estimated by eye, so postpartum haemorrhage is under-recognised "
        "and escalated late.",
        aim="90% of births on {ward} have blood loss measured quantitatively by {by}.",
        population="births",
        standard="RCOG Green-top Guideline 52 (postpartum haemorrhage)",
        service="the maternity triage service",
        outcome=MeasureSpec(
            "Births with quantified blood loss",
            "Weekly: births with blood loss measured by weighing swabs and collection drapes / all births.",
            0.40, 0.86, cases=(45, 70), target=90,
        ),
        process=MeasureSpec(
            "Blood loss of 1,000 ml or more escalated within 15 minutes",
            "Weekly: haemorrhages of 1,000 ml or more escalated to the registrar within 15 minutes / all "
            "haemorrhages of 1,000 ml or more.",
            0.60, 0.86, cases=(4, 9),
        ),
        balancing=MeasureSpec(
            "Hours from birth to transfer to the postnatal ward",
            "Weekly median hours from birth to transfer to the postnatal ward.",
            4.0, 4.2, unit="hours", better=Measure.Direction.DOWN, spread=0.4,
        ),
        changes=(
            "Calibrated collection drapes and a swab-weighing chart in every delivery room",
            "A PPH escalation card at every delivery bed",
        ),
    ),
}  # fmt: skip


# --- The projects --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectSpec:
    title: str
    category: str
    theme: str
    department: str
    status: str
    lead: str | None = None  # first name of a doctor; otherwise picked in turn from the department
    scenario: str | None = None  # what the active project's latest milestone shows (SCENARIOS)
    handed_over: bool = False  # started by a doctor who has since rotated out, continued by a successor


QI, AUDIT, RE_AUDIT, EVALUATION = Category.QI, Category.CLINICAL_AUDIT, Category.RE_AUDIT, Category.SERVICE_EVALUATION
DRAFT, ACTIVE, COMPLETED, ABANDONED = Status.DRAFT, Status.ACTIVE, Status.COMPLETED, Status.ABANDONED

PROJECTS: tuple[ProjectSpec, ...] = (
    # Acute Medicine
    ProjectSpec(
        "Sepsis Six within one hour on the Acute Medical Unit",
        QI,
        "sepsis",
        "amu",
        ACTIVE,
        lead=ALICE,
        scenario="awaiting_review",
    ),
    ProjectSpec(
        "Audit of VTE risk assessment within 14 hours on AMU",
        AUDIT,
        "vte",
        "amu",
        ACTIVE,
        lead=ALICE,
        scenario="changes_requested",
    ),
    ProjectSpec("NEWS2 escalation to a doctor within 30 minutes on AMU", QI, "news2", "amu", DRAFT, lead=ALICE),
    ProjectSpec(
        "Discharge summaries to GPs within 24 hours from AMU", QI, "discharge", "amu", ACTIVE, scenario="resubmitted"
    ),
    ProjectSpec(
        "Re-audit of antibiotic indications and review dates on AMU", RE_AUDIT, "antimicrobial", "amu", COMPLETED
    ),
    ProjectSpec("Reducing insulin prescribing errors on AMU", QI, "insulin", "amu", COMPLETED),
    ProjectSpec(
        "Structured weekend handover on AMU", QI, "handover", "amu", ACTIVE, scenario="behind", handed_over=True
    ),
    ProjectSpec("Evaluation of the AMU nurse-led sepsis screening service", EVALUATION, "sepsis", "amu", ABANDONED),
    # Emergency Department
    ProjectSpec("Door-to-ECG within 10 minutes for chest pain in the ED", QI, "chest_pain", "ed", ACTIVE),
    ProjectSpec("Sepsis Six within one hour in ED majors", QI, "sepsis", "ed", COMPLETED),
    ProjectSpec("Audit of the ED chest pain pathway against RCEM standards", AUDIT, "chest_pain", "ed", COMPLETED),
    ProjectSpec("NEWS2 escalation in ED majors", QI, "news2", "ed", ACTIVE),
    ProjectSpec(
        "Evaluation of referrals from the ED to the rapid-access chest pain clinic",
        EVALUATION,
        "chest_pain",
        "ed",
        ACTIVE,
    ),
    ProjectSpec("Re-audit of the ED chest pain pathway", RE_AUDIT, "chest_pain", "ed", DRAFT),
    ProjectSpec("Antibiotic indication documentation in the ED", QI, "antimicrobial", "ed", ABANDONED),
    # General Surgery
    ProjectSpec("VTE risk assessment for emergency general surgery admissions", QI, "vte", "surgery", ACTIVE),
    ProjectSpec(
        "Audit of antibiotic prescribing on the surgical wards against Start Smart then Focus",
        AUDIT,
        "antimicrobial",
        "surgery",
        ACTIVE,
    ),
    ProjectSpec("Discharge summaries within 24 hours after emergency surgery", QI, "discharge", "surgery", COMPLETED),
    ProjectSpec("Re-audit of VTE risk assessment on the surgical wards", RE_AUDIT, "vte", "surgery", COMPLETED),
    ProjectSpec("SBAR handover for the surgical night team", QI, "handover", "surgery", ACTIVE),
    ProjectSpec("Sepsis screening on the surgical wards", QI, "sepsis", "surgery", DRAFT),
    ProjectSpec("Evaluation of the surgical electronic handover list", EVALUATION, "handover", "surgery", ABANDONED),
    ProjectSpec("Perioperative insulin prescribing for patients with diabetes", QI, "insulin", "surgery", ACTIVE),
    # Care of Older People
    ProjectSpec(
        "4AT delirium screening within 24 hours for patients over 65", QI, "delirium", "coop", COMPLETED, lead=ALICE
    ),
    ProjectSpec("Lying and standing blood pressure to prevent falls", QI, "falls", "coop", ACTIVE, handed_over=True),
    ProjectSpec("Audit of inpatient falls assessment against NICE CG161", AUDIT, "falls", "coop", COMPLETED),
    ProjectSpec("Re-audit of delirium screening on the elderly care wards", RE_AUDIT, "delirium", "coop", ACTIVE),
    ProjectSpec("Evaluation of the delirium prevention volunteer programme", EVALUATION, "delirium", "coop", COMPLETED),
    ProjectSpec("Falls safety huddles on the elderly care wards", QI, "falls", "coop", ABANDONED),
    ProjectSpec("Discharge summaries for patients going to care homes", QI, "discharge", "coop", DRAFT),
    ProjectSpec("Antibiotic reviews at 48 to 72 hours on the elderly care wards", QI, "antimicrobial", "coop", ACTIVE),
    # Cardiology
    ProjectSpec("Cardiology ward handover to the night team", QI, "handover", "cardiology", ACTIVE),
    ProjectSpec("Audit of VTE prophylaxis in cardiology admissions", AUDIT, "vte", "cardiology", ACTIVE),
    ProjectSpec(
        "Discharge summaries within 24 hours from the cardiology ward", QI, "discharge", "cardiology", COMPLETED
    ),
    ProjectSpec("NEWS2 escalation on the cardiology ward", QI, "news2", "cardiology", ACTIVE),
    ProjectSpec("Re-audit of insulin prescribing on the cardiology ward", RE_AUDIT, "insulin", "cardiology", ABANDONED),
    ProjectSpec("Evaluation of the rapid-access chest pain clinic", EVALUATION, "chest_pain", "cardiology", DRAFT),
    ProjectSpec("Antibiotic indications on the cardiology ward", QI, "antimicrobial", "cardiology", ACTIVE),
    # Obstetrics and Gynaecology
    ProjectSpec("Quantitative blood loss measurement after birth", QI, "pph", "obs", ACTIVE),
    ProjectSpec("Audit of postpartum haemorrhage escalation against RCOG guidance", AUDIT, "pph", "obs", COMPLETED),
    ProjectSpec("Maternal sepsis screening on the labour ward", QI, "sepsis", "obs", ACTIVE),
    ProjectSpec("Audit of VTE risk assessment after caesarean birth", AUDIT, "vte", "obs", ACTIVE),
    ProjectSpec("Re-audit of quantitative blood loss on the labour ward", RE_AUDIT, "pph", "obs", DRAFT),
    ProjectSpec("Evaluation of the maternity triage service", EVALUATION, "pph", "obs", ABANDONED),
    ProjectSpec("Structured handover on the labour ward", QI, "handover", "obs", ACTIVE),
    # Paediatrics
    ProjectSpec("Complete and timely PEWS on the children's ward", QI, "pews", "paeds", ACTIVE),
    ProjectSpec("Audit of PEWS escalation against the national standards", AUDIT, "pews", "paeds", COMPLETED),
    ProjectSpec("Antibiotic indications and review dates on the children's ward", QI, "antimicrobial", "paeds", ACTIVE),
    ProjectSpec("Re-audit of PEWS completion on the children's ward", RE_AUDIT, "pews", "paeds", ACTIVE),
    ProjectSpec(
        "Evaluation of the paediatric high-dependency outreach nurse role", EVALUATION, "pews", "paeds", ACTIVE
    ),
    ProjectSpec("Discharge letters within 24 hours from the children's ward", QI, "discharge", "paeds", DRAFT),
    ProjectSpec("Weekend handover on the children's ward", QI, "handover", "paeds", ABANDONED),
    # Trauma and Orthopaedics
    ProjectSpec(
        "Hip fracture surgery within 36 hours of arrival", QI, "hip_fracture", "tando", ACTIVE, handed_over=True
    ),
    ProjectSpec("Audit of hip fracture care against NHFD standards", AUDIT, "hip_fracture", "tando", COMPLETED),
    ProjectSpec("Falls prevention on the trauma ward", QI, "falls", "tando", ACTIVE),
    ProjectSpec("Audit of VTE prophylaxis after lower-limb immobilisation in plaster", AUDIT, "vte", "tando", DRAFT),
    ProjectSpec("Re-audit of time to theatre for hip fractures", RE_AUDIT, "hip_fracture", "tando", COMPLETED),
    ProjectSpec("Delirium screening for patients with a hip fracture", QI, "delirium", "tando", ACTIVE),
    ProjectSpec("Evaluation of the orthogeriatric liaison service", EVALUATION, "hip_fracture", "tando", COMPLETED),
    ProjectSpec("Insulin prescribing on the trauma ward", QI, "insulin", "tando", DRAFT),
)

# What an active project's latest past-due milestone shows, in turn.
SCENARIOS = (
    "on_track",  # everything due so far is approved
    "awaiting_review",  # the latest is submitted and waits for the supervisor
    "overdue",  # the latest was never submitted
    "changes_requested",  # the latest was sent back with a comment (and is now overdue)
    "on_track",
    "resubmitted",  # sent back once, resubmitted, waiting again
    "behind",  # one waits for review, the one after it is overdue
)

CHANGE_REQUESTS = (
    "The aim needs a number and a date: how many, by when? Please add the baseline figure as well.",
    "Please attach the run chart rather than a table, and annotate the week each change started.",
    "Thirty consecutive cases is the minimum for this standard; please extend the sample before we sign it off.",
    "The operational definition changed halfway through. Please state which patients are counted and re-plot.",
    "Good start, but the evidence does not say who was involved. Please add the team and the ward manager's view.",
)
APPROVAL_COMMENTS = ("", "Good, clear and well evidenced.", "", "Well done. Keep the run chart updated weekly.", "")
ABANDON_REASONS = (
    "The lead rotated to another trust and no successor could be found before the data collection window closed.",
    "A trust-wide programme started the same change; this work was merged into it so the wards were not asked twice.",
    "Data could not be extracted from the new electronic patient record without a bespoke report, which "
    "informatics could not build this year.",
    "The ward closed for refurbishment for three months, so the baseline would no longer be comparable.",
    "The supervisor left the trust and the team could not agree a new scope before the rotation ended.",
)
LESSONS = (
    "Involve the nurse in charge from the first week: the changes the ward team owned outlasted our rotation.",
    "Testing on one bay first found problems we would otherwise have rolled out to the whole ward.",
    "Weekly data on a run chart kept the team interested; a monthly audit would have hidden the shift.",
    "Register early: access to the data through the audit team took three weeks.",
    "Agree the standard, the sample and the operational definition with the supervisor before collecting data.",
    "Plan the handover from the start: rotations come round faster than the data.",
)
EVIDENCE = {
    Milestone.Kind.PROPOSAL: "Proposal agreed with {supervisor} at supervision; team: {team}.",
    Milestone.Kind.AIM_AND_MEASURES: "Aim and family of measures (outcome, process, balancing) agreed, with "
    "operational definitions in the project folder.",
    Milestone.Kind.REGISTRATION: "Registered with the clinical audit and effectiveness team, reference {reference}.",
    Milestone.Kind.BASELINE: "Baseline collected and plotted on a run chart with its median.",
    Milestone.Kind.DATA_COLLECTION: "Data collected on the audit proforma for consecutive cases; anonymised "
    "spreadsheet in the project folder.",
    Milestone.Kind.PDSA: "PDSA cycle written up (plan, do, study, act) with the run chart annotated.",
    Milestone.Kind.ANALYSIS: "Results analysed: run chart with median and annotations, interpretation agreed.",
    Milestone.Kind.PRESENTATION: "Presented at the {department} clinical governance meeting; slides in the folder.",
    Milestone.Kind.HANDOVER: "Sustainability plan agreed with the ward manager; handover note written for the "
    "next rotation.",
    Milestone.Kind.WRITE_UP: "Report written and sent to the service lead and the {division} governance group.",
    Milestone.Kind.OTHER: "Done; notes in the project folder.",
}


# --- Results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    who: str
    email: str


@dataclass(frozen=True)
class SeedResult:
    created: bool  # False when the trust was there already and nothing changed
    organisation: Organisation
    logins: list[DemoLogin]
    counts: dict[str, int]


def seed_demo() -> SeedResult:
    """Build the demo trust in one transaction, or leave an existing one alone; return the logins."""
    # The history is made up: announce none of it, or notifications would report a year of work at once.
    with transaction.atomic(), events.silenced():
        organisation = Organisation.objects.filter(Q(code=ORGANISATION_CODE) | Q(name=ORGANISATION_NAME)).first()
        created = organisation is None
        if organisation is None:
            organisation = _Builder(today()).build()
    return SeedResult(created, organisation, demo_logins(organisation), demo_counts(organisation))


def demo_logins(organisation: Organisation) -> list[DemoLogin]:
    """Describe the people to log in as, with what is waiting for each."""
    alice = _email(ALICE, Grade.FY1)
    sam = _email(*DEPARTMENTS[0].supervisor)
    quinn = _email(*DEPARTMENT_QI_LEAD[:2])
    olga = _email(*ORGANISATION_QI_LEAD)
    users = {user.email: user for user in User.objects.filter(email__in=[alice, sam, quinn, olga])}
    leads = Project.objects.led_by(users[alice]).count() if alice in users else 0
    waiting = Milestone.objects.reviewable_by(users[sam]).awaiting_review().count() if sam in users else 0
    quinn_department = organisation.departments.filter(roles__user__email=quinn).first()
    return [
        DemoLogin("Administrator (Django admin at /admin/)", ADMIN_EMAIL),
        DemoLogin(f"FY1 doctor who leads {_plural(leads, 'project')}", alice),
        DemoLogin(f"Supervisor with {_plural(waiting, 'milestone')} waiting for review", sam),
        DemoLogin(f"QI lead for {quinn_department or 'a department'}", quinn),
        DemoLogin(f"QI lead for the whole of {organisation.name}", olga),
    ]


def demo_counts(organisation: Organisation) -> dict[str, int]:
    projects = Project.objects.filter(department__organisation=organisation)
    return {
        "departments": organisation.departments.count(),
        "users": organisation.users.count(),
        "projects": projects.count(),
        "milestones": Milestone.objects.filter(project__in=projects).count(),
        "data points": DataPoint.objects.filter(measure__project__in=projects).count(),
    }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _email(first: str, suffix: str) -> str:
    return f"{first}.{suffix}@{DOMAIN}".lower().replace("'", "")


# --- The builder --------------------------------------------------------------------------------


@dataclass
class _Work:
    """One project being built: who is on it and the clock of its events (kept in order)."""

    spec: ProjectSpec
    theme: Theme
    department: Department
    department_spec: DepartmentSpec
    lead: User
    supervisor: User
    placement: Placement  # the lead's placement when the project started
    starts_on: dt.date
    ends_on: dt.date
    project: Project | None = None
    successor: User | None = None  # who takes the project over at rotation, if it is handed over
    handed_over_on: dt.date | None = None
    members: list[User] = field(default_factory=list)
    clock: dt.datetime | None = None
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # measure name -> data rows
    cycles: list[PDSACycle] = field(default_factory=list)

    @property
    def current_lead(self) -> User:
        return self.lead_on(dt.date.max)

    def lead_on(self, day: dt.date) -> User:
        """Return who led the project on a day (the successor from the handover on)."""
        if self.successor is not None and self.handed_over_on is not None and day >= self.handed_over_on:
            return self.successor
        return self.lead


class _Builder:
    """Build the trust. Each step goes through qi.services; only timestamps are set back afterwards."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.now = timezone.now()
        self.rng = random.Random(RANDOM_SEED)
        self.password = make_password(DEMO_PASSWORD)  # hashed once: hashing 50 times would take seconds
        self.departments: dict[str, Department] = {}
        self.supervisors: dict[str, User] = {}
        self.doctors: dict[str, User] = {}  # by first name
        self.current: dict[int, Placement] = {}  # by doctor id
        self.previous: dict[int, Placement] = {}
        # Doctors who could lead a project, by (when, department key): "current" posts, "rotated" (their
        # previous post was there) and "past" (rotated, or in a long post that started months ago).
        self.pools: dict[tuple[str, str], list[User]] = defaultdict(list)
        self.turns: dict[tuple[str, str], int] = defaultdict(int)
        self.topics: dict[str, Topic] = {}
        self.quinn: User
        self.olga: User
        self.active_count = 0

    # -- people --

    def build(self) -> Organisation:
        self._check_free()
        organisation = Organisation.objects.create(name=ORGANISATION_NAME, code=ORGANISATION_CODE)
        for spec in DEPARTMENTS:
            self.departments[spec.key] = Department.objects.create(
                organisation=organisation, name=spec.name, specialty=spec.specialty, division=spec.division
            )
        self.topics = {
            slug: Topic.objects.get_or_create(slug=slug, defaults={"name": name})[0] for slug, name in TOPICS.items()
        }
        self._people(organisation)
        for index, spec in enumerate(PROJECTS):
            self._project(index, spec)
        return organisation

    def _check_free(self) -> None:
        emails = [_email(first, grade) for first, _, grade in DOCTORS]
        emails += [_email(*spec.supervisor) for spec in DEPARTMENTS]
        emails += [_email(*DEPARTMENT_QI_LEAD[:2]), _email(*ORGANISATION_QI_LEAD)]
        taken = list(User.objects.filter(email__in=emails).values_list("email", flat=True))
        if taken:
            raise DemoSeedError(
                f"These demo e-mail addresses are already in use outside the demo trust: {', '.join(taken)}."
            )

    def _gmc_numbers(self, count: int) -> list[str]:
        """Return unique 7-digit GMC numbers that nobody in the database has yet."""
        taken = set(User.objects.exclude(gmc_number="").values_list("gmc_number", flat=True))
        numbers: list[str] = []
        while len(numbers) < count:
            number = str(self.rng.randint(3_000_000, 7_999_999))
            if number not in taken:
                taken.add(number)
                numbers.append(number)
        return numbers

    def _user(self, organisation: Organisation, first: str, last: str, grade: str, email: str, gmc: str) -> User:
        return User.objects.create(
            email=email,
            full_name=f"{first} {last}",
            grade=grade,
            gmc_number=gmc,
            organisation=organisation,
            password=self.password,
        )

    def _people(self, organisation: Organisation) -> None:
        gmc = iter(self._gmc_numbers(len(DOCTORS) + len(DEPARTMENTS) + 2))
        for spec in DEPARTMENTS:
            first, last = spec.supervisor
            self.supervisors[spec.key] = self._user(
                organisation, first, last, Grade.CONSULTANT, _email(first, last), next(gmc)
            )
        first, last, department = DEPARTMENT_QI_LEAD
        self.quinn = self._user(organisation, first, last, Grade.CONSULTANT, _email(first, last), next(gmc))
        Role.objects.create(user=self.quinn, organisation=organisation, department=self.departments[department])
        first, last = ORGANISATION_QI_LEAD
        self.olga = self._user(organisation, first, last, Grade.CONSULTANT, _email(first, last), next(gmc))
        Role.objects.create(user=self.olga, organisation=organisation, department=None)
        User.objects.get_or_create(
            email=ADMIN_EMAIL,
            defaults={
                "full_name": "Demo Administrator",
                "organisation": organisation,
                "is_staff": True,
                "is_superuser": True,
                "password": self.password,
            },
        )
        placements = []
        for index, (first, last, grade) in enumerate(DOCTORS):
            doctor = self._user(organisation, first, last, grade, _email(first, grade), next(gmc))
            self.doctors[first] = doctor
            placements += self._placements(index, doctor)
        for placement in Placement.objects.bulk_create(placements):
            is_current = placement.starts_on <= self.today <= placement.ends_on
            (self.current if is_current else self.previous)[placement.doctor_id] = placement
        self._pools()

    def _placements(self, index: int, doctor: User) -> list[Placement]:
        rotation = rotation_for(doctor.grade)
        here = DEPARTMENTS[index % len(DEPARTMENTS)]
        before = DEPARTMENTS[(index + 3) % len(DEPARTMENTS)]
        educational = self.supervisors[DEPARTMENTS[(index + 1) % len(DEPARTMENTS)].key]
        starts_on = self.today - dt.timedelta(days=rotation.started_days_ago)
        placements = [self._placement(doctor, here, starts_on, rotation.days, educational)]
        if rotation.has_previous:
            placements.append(
                self._placement(
                    doctor, before, starts_on - dt.timedelta(days=rotation.days), rotation.days, educational
                )
            )
        return placements

    def _placement(
        self, doctor: User, spec: DepartmentSpec, starts_on: dt.date, days: int, educational: User
    ) -> Placement:
        return Placement(
            doctor=doctor,
            department=self.departments[spec.key],
            starts_on=starts_on,
            ends_on=starts_on + dt.timedelta(days=days - 1),
            educational_supervisor=educational,
            clinical_supervisor=self.supervisors[spec.key],
        )

    def _pools(self) -> None:
        """Group doctors by who can lead what: now (current post) and in the past (previous or long post)."""
        key_of = {department.pk: key for key, department in self.departments.items()}
        for first, doctor in self.doctors.items():
            if first == ALICE:
                continue  # Alice's projects are named in PROJECTS
            current = self.current[doctor.pk]
            self.pools["current", key_of[current.department_id]].append(doctor)
            previous = self.previous.get(doctor.pk)
            if previous is not None:
                self.pools["rotated", key_of[previous.department_id]].append(doctor)
                self.pools["past", key_of[previous.department_id]].append(doctor)
            elif current.starts_on <= self.today - dt.timedelta(days=240):
                self.pools["past", key_of[current.department_id]].append(doctor)

    def _take(self, pool: str, department: str, exclude: Sequence[User] = ()) -> User:
        """Take the next doctor, in turn, from a department's pool."""
        people = [person for person in self.pools[pool, department] if person not in exclude]
        turn = self.turns[pool, department]
        self.turns[pool, department] += 1
        return people[turn % len(people)]

    # -- timestamps --

    def _at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
        return min(moment, self.now)

    def _stamp(self, work: _Work, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        """Return the time of the project's next event: on `day`, but never before its previous event."""
        moment = self._at(day, hour, minute)
        if work.clock is not None and moment <= work.clock:
            moment = min(work.clock + dt.timedelta(minutes=47), self.now)
        work.clock = moment
        return moment

    # -- one project --

    def _project(self, index: int, spec: ProjectSpec) -> None:
        work = self._plan(spec)
        project = services.project_create(
            actor=work.lead,
            department=work.department,
            title=spec.title,
            problem=self._problem(work),
            aim=self._aim(work),
            category=spec.category,
            method=work.theme.method if spec.category == QI else _method(spec.category),
            supervisor=work.supervisor,
            topics=[self.topics[slug] for slug in work.theme.topics],
            starts_on=work.starts_on,
            ends_on=work.ends_on,
        )
        work.project = project
        created_at = self._stamp(work, work.starts_on, 9, 10)
        for member in self._members(work):
            services.project_member_add(actor=work.lead, project=project, user=member)
            work.members.append(member)
        if spec.status == DRAFT:
            self._draft(work)
        else:
            self._run(index, work)
        Project.objects.filter(pk=project.pk).update(created_at=created_at, updated_at=work.clock)
        ProjectMembership.objects.filter(project=project, user=work.lead).update(joined_at=created_at)
        ProjectMembership.objects.filter(project=project, user__in=work.members).update(
            joined_at=self._at(work.starts_on + dt.timedelta(days=2), 12)
        )

    def _plan(self, spec: ProjectSpec) -> _Work:
        """Choose the lead and the dates: past projects fall in a past post, open ones in the current post."""
        past = spec.status in (COMPLETED, ABANDONED) or spec.handed_over
        if spec.lead:
            lead = self.doctors[spec.lead]
        else:
            lead = self._take("rotated" if spec.handed_over else "past" if past else "current", spec.department)
        placement = self.previous.get(lead.pk, self.current[lead.pk]) if past else self.current[lead.pk]
        offset = dt.timedelta(days=self.rng.randint(7, 21))
        if spec.status == DRAFT:
            starts_on = self.today - dt.timedelta(days=self.rng.randint(0, 10))
            ends_on = min(placement.ends_on, starts_on + dt.timedelta(days=150))
        elif spec.status == ACTIVE and not spec.handed_over:
            starts_on = max(placement.starts_on + offset, self.today - dt.timedelta(days=150))
            ends_on = max(
                min(placement.ends_on, starts_on + dt.timedelta(days=180)), self.today + dt.timedelta(days=21)
            )
        else:
            starts_on = max(placement.starts_on + offset, self.today - dt.timedelta(days=280))
            ends_on = min(placement.ends_on - dt.timedelta(days=7), starts_on + dt.timedelta(days=150))
            ends_on = min(ends_on, self.today - dt.timedelta(days=21))
        work = _Work(
            spec=spec,
            theme=THEMES[spec.theme],
            department=self.departments[spec.department],
            department_spec=next(d for d in DEPARTMENTS if d.key == spec.department),
            lead=lead,
            supervisor=self.supervisors[spec.department],
            placement=placement,
            starts_on=starts_on,
            ends_on=ends_on,
        )
        if spec.handed_over:
            work.successor = self._take("current", spec.department, exclude=[lead])
            work.ends_on = min(self.current[work.successor.pk].ends_on, self.today + dt.timedelta(days=120))
        return work

    def _members(self, work: _Work) -> list[User]:
        pool = "current" if work.spec.status in (DRAFT, ACTIVE) and not work.spec.handed_over else "past"
        wanted = self.rng.randint(0, 1) if work.spec.status == DRAFT else self.rng.randint(1, 2)
        members: list[User] = []
        for _ in range(wanted):
            candidate = self._take(pool, work.spec.department, exclude=[work.lead])
            if candidate not in members and candidate != work.successor:
                members.append(candidate)
        return members

    def _problem(self, work: _Work) -> str:
        theme, ward = work.theme, work.department_spec.ward
        return {
            QI: theme.problem.format(ward=ward),
            AUDIT: f"Care of {theme.population} on {ward} has not been audited against {theme.standard} since the "
            "guidance was last updated.",
            RE_AUDIT: f"The last audit of {theme.population} on {ward} found only about "
            f"{round(theme.audited.before * 20) * 5}% compliance with {theme.standard}; the action plan has now been "
            "in place for a year.",
            EVALUATION: f"{theme.service[0].upper()}{theme.service[1:]} started last year, but nobody has looked at "
            "whether it reaches the patients it was set up for, or how quickly.",
        }[work.spec.category]

    def _aim(self, work: _Work) -> str:
        theme, ward, by = work.theme, work.department_spec.ward, f"{work.ends_on:%B %Y}"
        return {
            QI: theme.aim.format(ward=ward, by=by),
            AUDIT: f"Audit 50 consecutive {theme.population} on {ward} against {theme.standard}, and present the "
            f"results with an action plan by {by}.",
            RE_AUDIT: f"Re-audit 50 consecutive {theme.population} on {ward} against the same standards and close "
            f"the loop by {by}.",
            EVALUATION: f"Describe who uses {theme.service}, how quickly and with what result over eight weeks, and "
            f"report to the {work.department_spec.division} governance meeting by {by}.",
        }[work.spec.category]

    def _draft(self, work: _Work) -> None:
        """A draft has its plan and, for QI, its outcome measure defined; no data yet."""
        if work.spec.category == QI:
            self._measure(work, work.theme.outcome, Measure.Kind.OUTCOME)

    def _run(self, index: int, work: _Work) -> None:
        project = work.project
        assert project is not None
        services.project_activate(actor=work.lead, project=project)
        milestones = list(project.milestones.order_by("due_on", "pk"))
        if work.successor is not None:
            rotation_day = work.placement.ends_on + dt.timedelta(days=1)
            self._approve_all(work, [m for m in milestones if m.due_on < rotation_day])
            milestones = [m for m in milestones if m.due_on >= rotation_day]
            self._hand_over(index, work, rotation_day)
        stops_on = self._stops_on(work)
        self._record_data(work, stops_on)
        due = [m for m in milestones if m.due_on < stops_on]
        if work.spec.status == COMPLETED:
            self._approve_all(work, milestones)
            self._complete(index, work)
        elif work.spec.status == ABANDONED:
            self._approve_all(work, due)
            self._abandon(index, work, stops_on)
        else:
            scenario = work.spec.scenario or SCENARIOS[self.active_count % len(SCENARIOS)]
            self.active_count += 1
            self._play(work, due, scenario)
            if self.active_count % 2 == 1 or work.spec.scenario:
                self._due_soon([m for m in milestones if m.due_on >= self.today])

    def _stops_on(self, work: _Work) -> dt.date:
        """The day work on the project stops: its end, the day it is abandoned, or today."""
        if work.spec.status == COMPLETED:
            return work.ends_on
        if work.spec.status == ABANDONED:
            return min(work.starts_on + dt.timedelta(days=70), self.today - dt.timedelta(days=7))
        return self.today

    # -- milestones and reviews --

    def _reviewer(self, work: _Work) -> User:
        # On AMU the department's QI lead shares the reviewing with the supervisor.
        if work.spec.department == DEPARTMENT_QI_LEAD[2] and self.rng.random() < 0.35:
            return self.quinn
        return work.supervisor

    def _evidence(self, work: _Work, milestone: Milestone) -> str:
        team = ", ".join(person.full_name for person in [work.current_lead, *work.members])
        return EVIDENCE[milestone.kind].format(
            supervisor=work.supervisor.full_name,
            team=team,
            reference=f"CA-{work.starts_on:%Y}-{milestone.project_id:03d}",
            department=work.department.name,
            division=work.department_spec.division,
        )

    def _submit(self, work: _Work, milestone: Milestone, day: dt.date) -> None:
        services.milestone_submit(
            actor=work.current_lead, milestone=milestone, evidence=self._evidence(work, milestone)
        )
        Milestone.objects.filter(pk=milestone.pk).update(submitted_at=self._stamp(work, day, 17, 30))

    def _decide(self, work: _Work, milestone: Milestone, day: dt.date, *, approve: bool) -> None:
        reviewer = self._reviewer(work)
        if approve:
            comment = self.rng.choice(APPROVAL_COMMENTS)
            review = services.milestone_approve(actor=reviewer, milestone=milestone, comment=comment)
        else:
            comment = self.rng.choice(CHANGE_REQUESTS)
            review = services.milestone_request_changes(actor=reviewer, milestone=milestone, comment=comment)
        decided_at = self._stamp(work, day, 9, 15)
        Review.objects.filter(pk=review.pk).update(created_at=decided_at)
        Milestone.objects.filter(pk=milestone.pk).update(decided_at=decided_at)

    def _days_before(self, day: dt.date, low: int, high: int) -> dt.date:
        return min(day - dt.timedelta(days=self.rng.randint(low, high)), self.today - dt.timedelta(days=1))

    def _approve_all(self, work: _Work, milestones: Sequence[Milestone]) -> None:
        """Submit each milestone around its due date and have it approved a few days later."""
        for number, milestone in enumerate(milestones):
            submitted_on = max(self._days_before(milestone.due_on, 0, 4), work.starts_on)
            if number == 1 and self.rng.random() < 0.4:  # the second step (often the aim) may need a second go
                self._submit(work, milestone, submitted_on)
                self._decide(work, milestone, submitted_on + dt.timedelta(days=2), approve=False)
                submitted_on += dt.timedelta(days=5)
            self._submit(work, milestone, submitted_on)
            self._decide(work, milestone, submitted_on + dt.timedelta(days=self.rng.randint(1, 5)), approve=True)

    def _play(self, work: _Work, due: list[Milestone], scenario: str) -> None:
        """Bring an active project's past-due milestones to the state the scenario describes."""
        if not due:
            return
        held = {"on_track": 0, "behind": 2}.get(scenario, 1)
        self._approve_all(work, due[: len(due) - held])
        latest = due[-1]
        recently = self.today - dt.timedelta(days=self.rng.randint(1, 5))
        if scenario == "awaiting_review":
            self._submit(work, latest, recently)
        elif scenario == "changes_requested":
            self._submit(work, latest, recently - dt.timedelta(days=3))
            self._decide(work, latest, recently, approve=False)
        elif scenario == "resubmitted":
            self._submit(work, latest, recently - dt.timedelta(days=6))
            self._decide(work, latest, recently - dt.timedelta(days=4), approve=False)
            self._submit(work, latest, recently)
        elif scenario == "behind" and len(due) >= 2:
            self._submit(work, due[-2], recently)  # waits for review; the latest stays overdue

    def _due_soon(self, upcoming: list[Milestone]) -> None:
        """Bring the next planned milestone within a week, so reminders and the dashboard have work."""
        if upcoming and upcoming[0].due_on > self.today + dt.timedelta(days=7):
            due_on = self.today + dt.timedelta(days=self.rng.randint(1, 6))
            Milestone.objects.filter(pk=upcoming[0].pk).update(due_on=due_on)

    # -- transitions --

    def _hand_over(self, index: int, work: _Work, day: dt.date) -> None:
        project, successor = work.project, work.successor
        assert project is not None and successor is not None
        # The organisation's QI lead steps in for one of them: the lead had already left the trust.
        actor = self.olga if work.spec.department == "tando" else work.lead
        handover = services.project_hand_over(
            actor=actor,
            project=project,
            successor=successor,
            notes=f"{work.lead.full_name} rotated to a new post. Data collection continues weekly from the same "
            f"source; the run chart and the PDSA log are in the project folder. Next: "
            f"{_lower_first(work.theme.changes[index % 2])}.",
        )
        work.handed_over_on = day
        handed_at = self._stamp(work, day, 10)
        Handover.objects.filter(pk=handover.pk).update(created_at=handed_at)
        ProjectMembership.objects.filter(project=project, user=work.lead).update(
            joined_at=self._at(work.starts_on, 9, 10), left_at=handed_at
        )
        ProjectMembership.objects.filter(project=project, user=successor).update(joined_at=handed_at)

    def _complete(self, index: int, work: _Work) -> None:
        project = work.project
        assert project is not None
        if work.spec.category == QI:
            services.project_update(
                actor=work.current_lead,
                project=project,
                sustainability_notes="The ward manager owns the change; the process measure stays on the monthly "
                "ward dashboard and is re-checked by the next FY1 cohort.",
            )
        services.project_complete(
            actor=work.current_lead,
            project=project,
            outcome_summary=self._outcome(work),
            lessons_learned=" ".join(LESSONS[(index + k) % len(LESSONS)] for k in (0, 2)),
        )
        completed_at = self._stamp(work, work.ends_on, 16)
        Project.objects.filter(pk=project.pk).update(completed_at=completed_at)

    def _abandon(self, index: int, work: _Work, day: dt.date) -> None:
        project = work.project
        assert project is not None
        reason = ABANDON_REASONS[index % len(ABANDON_REASONS)]
        # When the lead has left the trust, the organisation's QI lead closes the project.
        actor = self.olga if reason == ABANDON_REASONS[0] else work.current_lead
        services.project_abandon(actor=actor, project=project, reason=reason)
        Project.objects.filter(pk=project.pk).update(abandoned_at=self._stamp(work, day, 15))

    # -- measures, PDSA cycles and data --

    def _measure(self, work: _Work, spec: MeasureSpec, kind: str) -> Measure:
        assert work.project is not None
        return services.measure_create(
            actor=work.current_lead,
            project=work.project,
            name=spec.name,
            operational_definition=spec.definition,
            better=spec.better,
            kind=kind,
            unit=spec.unit,
            target=Decimal(str(spec.target)) if spec.target is not None else None,
        )

    def _add(self, work: _Work, measure: Measure, rows: list[dict[str, Any]]) -> None:
        if rows:
            services.data_points_add(actor=work.current_lead, measure=measure, rows=rows)
        work.rows[measure.name] = rows

    def _record_data(self, work: _Work, stops_on: dt.date) -> None:
        category = work.spec.category
        if category == QI:
            self._qi_data(work, stops_on)
        elif category in (AUDIT, RE_AUDIT):
            self._audit_data(work, stops_on)
        else:
            self._evaluation_data(work, stops_on)

    def _weeks(self, first: dt.date, stops_on: dt.date) -> list[dt.date]:
        """Week-commencing Mondays from the week of `first`, for weeks that ended before `stops_on`."""
        monday = first - dt.timedelta(days=first.weekday())
        weeks = []
        while monday + dt.timedelta(days=6) < stops_on:
            weeks.append(monday)
            monday += dt.timedelta(weeks=1)
        return weeks

    def _series(
        self, spec: MeasureSpec, weeks: Sequence[dt.date], level: Callable[[dt.date], float]
    ) -> list[dict[str, Any]]:
        """Generate a week's figure per week: `level` says how far (0 to 1) the change has moved it."""
        rows: list[dict[str, Any]] = []
        for week in weeks:
            expected = spec.before + level(week) * (spec.after - spec.before)
            if spec.is_proportion:
                cases = self.rng.randint(*spec.cases)
                chance = min(max(expected + self.rng.gauss(0, 0.03), 0.0), 1.0)
                met = sum(self.rng.random() < chance for _ in range(cases))
                rows.append({"date": week, "numerator": met, "denominator": cases})
            else:
                value = max(expected + self.rng.gauss(0, spec.spread), 0.0)
                rows.append({"date": week, "value": Decimal(f"{value:.1f}")})
        return rows

    def _qi_data(self, work: _Work, stops_on: dt.date) -> None:
        """Weekly outcome, process and balancing data; the change shows after each PDSA cycle."""
        theme = work.theme
        weeks = self._weeks(work.starts_on - dt.timedelta(weeks=BASELINE_WEEKS), stops_on)
        starts = []
        if work.spec.status != ABANDONED:  # abandoned projects never got past their baseline
            first = work.starts_on + dt.timedelta(days=21)
            starts = [day for day in (first, first + dt.timedelta(days=21)) if day <= stops_on - dt.timedelta(days=7)]

        def progress(week: dt.date) -> float:
            started = sum(week >= day for day in starts)
            return (0.0, 0.8, 1.0)[started]

        series = {
            Measure.Kind.OUTCOME: (theme.outcome, self._series(theme.outcome, weeks, progress)),
            Measure.Kind.PROCESS: (theme.process, self._series(theme.process, weeks, progress)),
            Measure.Kind.BALANCING: (theme.balancing, self._series(theme.balancing, weeks, progress)),
        }
        outcome_rows = series[Measure.Kind.OUTCOME][1]
        for number in range(1, len(starts) + 1):
            work.cycles.append(self._pdsa(work, number, starts, stops_on, outcome_rows))
        for kind, (spec, rows) in series.items():
            for cycle in work.cycles:
                first_week = next((row for row in rows if row["date"] >= cycle.starts_on), None)
                if first_week is not None:
                    first_week["pdsa_cycle"] = cycle
                    first_week["note"] = f"PDSA {cycle.number} started"
            self._add(work, self._measure(work, spec, kind), rows)

    def _pdsa(
        self, work: _Work, number: int, starts: Sequence[dt.date], stops_on: dt.date, rows: list[dict[str, Any]]
    ) -> PDSACycle:
        """Record PDSA cycle `number` (of the cycles starting on `starts`), studied against the outcome data."""
        assert work.project is not None
        theme, outcome, starts_on = work.theme, work.theme.outcome, starts[number - 1]
        ends_on = starts_on + dt.timedelta(days=14 if number == 1 else 21)
        change = theme.changes[number - 1]
        predicted = outcome.before + (0.8 if number == 1 else 1.0) * (outcome.after - outcome.before)
        fields: dict[str, Any] = {
            "question": f"Will this change improve '{outcome.name}' towards the aim?",
            "prediction": f"{outcome.name} will move from about {_show(outcome, outcome.before)} to "
            f"{_show(outcome, predicted)}.",
            "plan_who": f"{work.lead_on(starts_on).full_name} with the ward manager and the nurse in charge of each "
            "shift.",
            "plan_what": change,
            "plan_when": f"{starts_on.day} {starts_on:%B} to {ends_on.day} {ends_on:%B %Y}",
            "plan_where": work.department_spec.ward[0].upper() + work.department_spec.ward[1:],
            "starts_on": starts_on,
        }
        if ends_on < stops_on:  # the cycle has finished: record what happened and the decision
            baseline = [_value(outcome, row) for row in rows if row["date"] < starts[0]]
            during = [_value(outcome, row) for row in rows if starts_on <= row["date"] <= stops_on]
            fields |= {
                "ends_on": ends_on,
                "do_notes": "Tested on one bay for the first week, then across the ward. Night staff had not been "
                "briefed at first; a reminder at handover fixed that."
                if number == 1
                else "Rolled out on every shift with the ward manager's support; two agency shifts did not know about "
                "it.",
                "study": f"Median {_show(outcome, statistics.median(baseline))} at baseline and "
                f"{_show(outcome, statistics.median(during))} since the change (predicted "
                f"{_show(outcome, predicted)}).",
                "act": PDSACycle.Act.ADAPT if number == 1 else PDSACycle.Act.ADOPT,
                "act_notes": "Keep it, and test a second change for the weeks it was missed."
                if number == 1
                else "Adopted as standard practice; the ward manager has taken over the weekly check.",
            }
        return services.pdsa_cycle_create(actor=work.current_lead, project=work.project, change_idea=change, **fields)

    def _audit_data(self, work: _Work, stops_on: dt.date) -> None:
        """One figure per audit cycle: the first audit a year ago for a re-audit, then this one."""
        theme = work.theme
        assert work.project is not None
        collected = work.project.milestones.filter(kind=Milestone.Kind.DATA_COLLECTION).values_list("due_on", flat=True)
        spec = MeasureSpec(
            "Compliance with the standard",
            f"Consecutive {theme.population} meeting the standard ('{theme.audited.name}') / all "
            f"{theme.population} audited, against {theme.standard}.",
            theme.audited.before,
            theme.audited.after,
            cases=(45, 60),
            target=theme.audited.target,
        )
        cycles: list[tuple[dt.date, float]] = []
        if work.spec.category == RE_AUDIT:
            cycles.append((work.starts_on - dt.timedelta(days=self.rng.randint(330, 400)), 0.0))
        if collected and collected[0] < stops_on:
            cycles.append((collected[0], 0.85 if work.spec.category == RE_AUDIT else 0.3))
        rows = []
        for day, share in cycles:
            rows += self._series(spec, [day], lambda _, share=share: share)
        self._add(work, self._measure(work, spec, Measure.Kind.PROCESS), rows)

    def _evaluation_data(self, work: _Work, stops_on: dt.date) -> None:
        """Eight weeks describing the service, from the evaluation's start."""
        spec = work.theme.process
        weeks = self._weeks(work.starts_on, stops_on)[:8]
        self._add(work, self._measure(work, spec, Measure.Kind.PROCESS), self._series(spec, weeks, lambda _: 0.4))

    def _outcome(self, work: _Work) -> str:
        theme = work.theme
        category = work.spec.category
        if category == QI:
            outcome, rows = theme.outcome, work.rows[theme.outcome.name]
            first = work.cycles[0].starts_on
            before = [_value(outcome, row) for row in rows if row["date"] < first]
            after = [_value(outcome, row) for row in rows if row["date"] >= first]
            changes = "; ".join(_lower_first(cycle.change_idea) for cycle in work.cycles)
            cycles = "one PDSA cycle" if len(work.cycles) == 1 else f"{len(work.cycles)} PDSA cycles"
            return (
                f"{outcome.name}: the weekly median moved from {_show(outcome, statistics.median(before))} to "
                f"{_show(outcome, statistics.median(after))} and held for {len(after)} weeks, after {cycles} "
                f"({changes}). {theme.balancing.name}: no change."
            )
        rows = work.rows["Compliance with the standard"] if category != EVALUATION else work.rows[theme.process.name]
        figures = [
            f"{row['numerator']} of {row['denominator']} ({row['numerator'] / row['denominator']:.0%})" for row in rows
        ]
        if category == AUDIT:
            return (
                f"{figures[-1]} consecutive {theme.population} met {theme.standard}. Action plan agreed at the "
                f"{work.department_spec.division} governance meeting: {_lower_first(theme.changes[0])}."
            )
        if category == RE_AUDIT:
            return (
                f"Compliance with {theme.standard} rose from {figures[0]} at the first audit to {figures[-1]} at "
                "re-audit: the loop is closed, and the next re-audit is planned for a year's time."
            )
        met, total = sum(row["numerator"] for row in rows), sum(row["denominator"] for row in rows)
        return (
            f"Over {len(rows)} weeks, '{theme.process.name}' was met for {met} of {total} ({met / total:.0%}). The "
            f"report, with three recommendations, went to the team running {theme.service}."
        )


def _lower_first(text: str) -> str:
    """Lower-case the first letter of a sentence to run it on, leaving acronyms (PEWS, ECG) alone."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _method(category: str) -> str:
    if category in (AUDIT, RE_AUDIT):
        return Project.Method.AUDIT_CYCLE
    return Project.Method.OTHER


def _value(spec: MeasureSpec, row: dict[str, Any]) -> float:
    """Return a data row's figure: a proportion (0 to 1) or the plain value."""
    if spec.is_proportion:
        return row["numerator"] / row["denominator"]
    return float(row["value"])


def _show(spec: MeasureSpec, level: float) -> str:
    """Format a level for text: a proportion as a percentage, a value with its unit."""
    if spec.is_proportion:
        return f"{level:.0%}"
    return f"{level:.1f} {spec.unit}"
