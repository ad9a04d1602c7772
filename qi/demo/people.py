"""The demo trust's departments and people: eight departments with their consultant supervisors, two QI
leads and 40 resident doctors, with how long each grade stays in a post. The n-th doctor in ``DOCTORS`` works
in ``DEPARTMENTS[n % 8]``, and foundation and core trainees also have the post they rotated from; the builder
turns these tables into users, roles and placements.
"""

from __future__ import annotations

from dataclasses import dataclass

from qi.models import Grade


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
