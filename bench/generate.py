"""Generate a large, believable NHS trust for benchmarks: fast, deterministic, not through the services.

One organisation with N departments (specialties shared between sites), users across every grade, each
with a current placement (trainees also a previous one, and some a next one, a few in the same
department), consultant supervisors, department and organisation QI leads, notification preferences for
one user in five, and projects in every status whose milestones follow the category's plan
(``qi.milestone_plans``) over the project's window. Relative to the "as of" date, active projects have
approved, submitted (``submitted_at`` spread over the last 30 days), changes-requested, overdue and
due-soon milestones; completed projects have outcomes and lessons, ``completed_at`` spread over four
years (so about 1/200 of them completed in the last week); some draft and active projects are seeking
team members; some active projects were handed over. Each decided milestone has its ``Review``.

Rows are built in plain Python from ``random.Random(seed)`` and loaded with PostgreSQL ``COPY`` (or
``bulk_create`` in large batches on other databases) in one transaction, with explicit primary keys, then
sequences are reset and the tables analysed. No domain events fire. The same seed, sizes and as-of date
give the same rows. The parameters are written into the organisation's name, so a benchmark can tell
whether the database already holds the data it wants (``existing()``).

Standalone:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qi_bench .venv/bin/python bench/generate.py \\
        --users 5000 --milestones 200000 [--departments 40] [--seed 42] [--as-of 2026-11-23] [--regenerate]

From a benchmark (after ``setup_django()``): ``generate.ensure(generate.Spec(users=5000, milestones=200_000))``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ORGANISATION_CODE = "BENCH"
DOMAIN = "qi-bench.example"
MARKER = re.compile(
    r"\(seed (?P<seed>\d+), (?P<users>\d+) users, (?P<departments>\d+) departments, "
    r"(?P<milestones>\d+) milestones, as of (?P<as_of>\d{4}-\d{2}-\d{2})\)"
)
FLUSH_ROWS = 20_000  # rows buffered per table before a COPY / bulk_create

# --- Setting up Django for a bench script --------------------------------------------------------


def setup_django(*, migrate: bool = True, verbose: bool = True) -> None:
    """Configure like production (DEBUG off, so no query log), create the database if missing, migrate."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-QI")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    create_database_if_missing(os.environ.get("DATABASE_URL", ""), verbose=verbose)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def create_database_if_missing(url: str, *, verbose: bool = True) -> None:
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        return
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    params = {
        "dbname": "postgres",
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')
            if verbose:
                print(f"Created database {config['NAME']}")


# --- What to generate ----------------------------------------------------------------------------


def last_monday(on: dt.date | None = None) -> dt.date:
    on = on or dt.date.today()
    return on - dt.timedelta(days=on.weekday())


@dataclass(frozen=True)
class Spec:
    users: int = 5000
    milestones: int = 200_000
    departments: int = 0  # 0: one per 125 users, between 8 and 200
    seed: int = 42
    as_of: dt.date | None = None  # None: the data already generated, whatever its date, or else last Monday

    def __post_init__(self) -> None:
        if self.users < 50:
            raise ValueError("Generate at least 50 users.")
        if self.milestones < 10:
            raise ValueError("Generate at least 10 milestones.")
        if not self.departments:
            object.__setattr__(self, "departments", min(max(self.users // 125, 8), 200))

    def dated(self) -> Spec:
        return self if self.as_of else replace(self, as_of=last_monday())

    @property
    def organisation_name(self) -> str:
        return (
            f"Benchmark NHS Trust (seed {self.seed}, {self.users} users, {self.departments} departments, "
            f"{self.milestones} milestones, as of {self.as_of.isoformat()})"
        )

    def matches(self, found: Spec) -> bool:
        """True if the data generated for `found` is what this spec asks for (any date when none is asked)."""
        return replace(self, as_of=self.as_of or found.as_of) == found


def existing(using: str = "default") -> Spec | None:
    """The spec of the generated organisation in the database, if there is one."""
    from qi.models import Organisation

    name = Organisation.objects.using(using).filter(code=ORGANISATION_CODE).values_list("name", flat=True).first()
    match = MARKER.search(name or "")
    if not match:
        return None
    return Spec(
        users=int(match["users"]),
        milestones=int(match["milestones"]),
        departments=int(match["departments"]),
        seed=int(match["seed"]),
        as_of=dt.date.fromisoformat(match["as_of"]),
    )


def ensure(spec: Spec, *, regenerate: bool = False, using: str = "default", verbose: bool = True) -> Spec:
    """Generate unless the database already holds exactly this spec's data; return the spec in use."""
    from qi.models import Organisation, User

    found = existing(using)
    if found is not None and spec.matches(found) and not regenerate:
        if verbose:
            print(f"Using the generated data already in the database: {found.organisation_name}")
        return found
    occupied = User.objects.using(using).exists() or Organisation.objects.using(using).exists()
    if not regenerate and (found is not None or occupied):
        raise SystemExit(
            f"The database holds other data ({found.organisation_name if found else 'not generated by bench'}); "
            "run with --regenerate to wipe it and generate again."
        )
    spec = spec.dated()
    generate(spec, using=using, verbose=verbose)
    return spec


def wipe(using: str = "default") -> None:
    """Empty every table (Django's flush), keeping the schema.

    With CASCADE: tables of swapped-out models (knox's own ``knox_authtoken``, replaced by
    ``api.DeviceToken``) are not in Django's list but still reference the user table.
    """
    from django.core.management import call_command

    call_command("flush", database=using, interactive=False, verbosity=0, allow_cascade=True)


# --- Fixed vocabularies --------------------------------------------------------------------------

BASE_DEPARTMENTS = (
    ("Acute Medicine", "Acute internal medicine", "Medicine"),
    ("Emergency Department", "Emergency medicine", "Urgent and Emergency Care"),
    ("General Surgery", "General surgery", "Surgery"),
    ("Care of Older People", "Geriatric medicine", "Medicine"),
    ("Cardiology", "Cardiology", "Medicine"),
    ("Obstetrics and Gynaecology", "Obstetrics and gynaecology", "Women and Children"),
    ("Paediatrics", "Paediatrics", "Women and Children"),
    ("Trauma and Orthopaedics", "Trauma and orthopaedic surgery", "Surgery"),
    ("Respiratory Medicine", "Respiratory medicine", "Medicine"),
    ("Gastroenterology", "Gastroenterology", "Medicine"),
    ("Renal Medicine", "Renal medicine", "Medicine"),
    ("Diabetes and Endocrinology", "Endocrinology and diabetes", "Medicine"),
    ("Neurology", "Neurology", "Medicine"),
    ("Stroke Unit", "Stroke medicine", "Medicine"),
    ("Haematology", "Haematology", "Cancer and Clinical Support"),
    ("Oncology", "Medical oncology", "Cancer and Clinical Support"),
    ("Anaesthetics", "Anaesthetics", "Surgery"),
    ("Intensive Care Unit", "Intensive care medicine", "Surgery"),
    ("Urology", "Urology", "Surgery"),
    ("Vascular Surgery", "Vascular surgery", "Surgery"),
    ("Ear, Nose and Throat", "Otolaryngology", "Surgery"),
    ("Ophthalmology", "Ophthalmology", "Surgery"),
    ("Liaison Psychiatry", "Liaison psychiatry", "Medicine"),
    ("Radiology", "Clinical radiology", "Cancer and Clinical Support"),
    ("Neonatal Unit", "Neonatal medicine", "Women and Children"),
)
SITES = ("", " (North site)", " (South site)", " (Riverside site)", " (Community)")

FIRST_NAMES = (  # noqa: SIM905
    "Aisha Alice Amir Ben Chloe Chen Daniel Deepa Eleanor Emeka Fatima Finn Grace Hamza Hannah Isaac Imogen "
    "Jack Jasmine Kofi Laura Liam Maya Mohammed Niamh Nikhil Olivia Oliver Priya Rhys Ruth Sam Sara Tom "
    "Uma Victor Wei Yasmin Zara Zoe"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Adams Ahmed Ali Baker Bennett Brown Campbell Chowdhury Clarke Davies Edwards Evans Fraser Green Hall "
    "Hughes Hussain Jones Kaur Khan Lewis Martin Mensah Murphy Nguyen Okafor Patel Roberts Robinson Shah "
    "Singh Smith Taylor Thomas Walker Watson Williams Wilson Wright Young"
).split()

# Everyone but the consultants; consultants are CONSULTANT_SHARE of users (at least one per department).
CONSULTANT_SHARE = 0.16
OTHER_GRADES = {
    "FY1": 16, "FY2": 16, "CT1": 8, "CT2": 8, "CT3": 4,
    "ST1": 5, "ST2": 5, "ST3": 5, "ST4": 5, "ST5": 5, "ST6": 4, "ST7": 4, "ST8": 3,
    "SAS": 6, "OTHER": 2,
}  # fmt: skip
ROTATION_DAYS = {"FY1": 122, "FY2": 122, "CT1": 182, "CT2": 182, "CT3": 182}  # ST: 182 or 365
NON_ROTATING = {"CONSULTANT", "SAS", "OTHER"}

PROJECT_STATUS_WEIGHTS = {"draft": 6, "active": 20, "completed": 50, "abandoned": 24}
CATEGORY_WEIGHTS = {"qi": 45, "clinical_audit": 30, "re_audit": 10, "service_evaluation": 15}
HISTORY_DAYS = 4 * 365  # completed and abandoned projects are spread over this many days
SUBJECTS = {
    "sepsis": "Sepsis Six within one hour",
    "vte": "VTE risk assessment within 14 hours",
    "discharge": "Discharge summaries to GPs within 24 hours",
    "news2": "NEWS2 escalation to a doctor",
    "falls": "Falls prevention bundle",
    "insulin": "Safe insulin prescribing",
    "handover": "Structured handover",
    "antimicrobial": "Antibiotic review at 48 hours",
    "delirium": "Delirium screening with the 4AT",
    "hip_fracture": "Hip fracture surgery within 36 hours",
    "chest_pain": "High-sensitivity troponin pathway",
    "pews": "PEWS escalation",
    "pph": "Post-partum haemorrhage risk assessment",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "-"


# --- Loading -------------------------------------------------------------------------------------


class Loader:
    """Buffer rows per model and write them with COPY (PostgreSQL) or bulk_create, in big chunks.

    bulk_create (other databases) stamps auto_now fields with the current time; COPY keeps the generated ones,
    and fills an ``auto_now`` / ``auto_now_add`` field a row leaves out (``updated_at`` of departments,
    placements, memberships...) with ``stamp``, the generated history's "now", so the rows stay deterministic.
    """

    def __init__(self, using: str, stamp: dt.datetime | None = None) -> None:
        from django.db import connections

        self.stamp = stamp
        self.connection = connections[using]
        self.using = using
        self.copy = self.connection.vendor == "postgresql"
        self.buffers: dict[type, list[dict]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, model: type, **row) -> None:
        buffer = self.buffers[model]
        buffer.append(row)
        if len(buffer) >= FLUSH_ROWS:
            self.flush(model)

    def flush(self, model: type | None = None) -> None:
        for each in [model] if model else list(self.buffers):
            rows, self.buffers[each] = self.buffers[each], []
            if rows:
                self._write(each, rows)
                self.counts[each._meta.label] += len(rows)

    def _write(self, model: type, rows: list[dict]) -> None:
        fields = model._meta.concrete_fields
        defaults = {f.attname: f.get_default() for f in fields}
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                defaults[f.attname] = self.stamp
        unknown = set(rows[0]) - set(defaults)
        if unknown:
            raise ValueError(f"{model._meta.label} has no field(s) {sorted(unknown)}")
        if not self.copy:
            model.objects.using(self.using).bulk_create([model(**{**defaults, **row}) for row in rows], batch_size=2000)
            return
        columns = ", ".join(self.connection.ops.quote_name(f.column) for f in fields)
        attnames = [f.attname for f in fields]
        sql = f"COPY {self.connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        with self.connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row([row[a] if a in row else defaults[a] for a in attnames])

    def finish(self) -> None:
        from django.core.management.color import no_style

        self.flush()
        models = list(self.buffers)
        with self.connection.cursor() as cursor:
            for statement in self.connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)


# --- The generator -------------------------------------------------------------------------------


def generate(spec: Spec, *, using: str = "default", verbose: bool = True) -> dict[str, int]:
    """Wipe the database and fill it with the spec's organisation; return rows written per model."""
    from django.db import connections, transaction

    spec = spec.dated()
    started = time.perf_counter()
    wipe(using)
    loader = Loader(using)
    with transaction.atomic(using=using):
        builder = _Builder(spec, loader)
        loader.stamp = builder.now
        builder.build()
        loader.finish()
    loaded = time.perf_counter()
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    if verbose:
        total = sum(loader.counts.values())
        print(
            f"Generated {spec.organisation_name}: {total:,} rows in {loaded - started:.1f} s "
            f"(+ {time.perf_counter() - loaded:.1f} s VACUUM ANALYZE)"
        )
        for label, count in sorted(loader.counts.items()):
            print(f"  {label:<28} {count:>9,}")
    return dict(loader.counts)


class _Builder:
    def __init__(self, spec: Spec, loader: Loader) -> None:
        from zoneinfo import ZoneInfo

        from django.conf import settings

        self.spec = spec
        self.load = loader
        self.rng = random.Random(spec.seed)
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.today = spec.as_of
        self.now = self.moment(spec.as_of, 6, 0)  # generated history stops at 06:00 on the as-of date
        self.ids: dict[str, int] = defaultdict(int)

    # helpers
    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def moment(self, day: dt.date, hour: int | None = None, minute: int | None = None) -> dt.datetime:
        hour = self.rng.randint(8, 19) if hour is None else hour
        minute = self.rng.randint(0, 59) if minute is None else minute
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)

    def days(self, n: int) -> dt.date:
        return self.today + dt.timedelta(days=n)

    def pick(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def build(self) -> None:
        self.organisation()
        self.people()
        self.topics()
        self.projects()

    # organisation, departments, topics
    def organisation(self) -> None:
        from qi.models import Department, Organisation

        self.org_id = self.next_id("org")
        self.load.add(Organisation, id=self.org_id, name=self.spec.organisation_name, code=ORGANISATION_CODE)
        self.load.flush(Organisation)
        self.departments: list[tuple[int, str, str, str]] = []
        for index in range(self.spec.departments):
            name, specialty, division = BASE_DEPARTMENTS[index % len(BASE_DEPARTMENTS)]
            site = index // len(BASE_DEPARTMENTS)
            name += SITES[site] if site < len(SITES) else f" (site {site + 1})"
            pk = self.next_id("department")
            self.departments.append((pk, name, specialty, division))
            self.load.add(
                Department, id=pk, organisation_id=self.org_id, name=name, specialty=specialty, division=division
            )
        self.department_by_id = {d[0]: d for d in self.departments}

    def topics(self) -> None:
        from django.utils.text import slugify

        from qi.demo.themes import THEMES, TOPICS
        from qi.models import Topic

        self.topic_ids = {}
        for slug, name in TOPICS.items():
            self.topic_ids[slug] = self.next_id("topic")
            self.load.add(Topic, id=self.topic_ids[slug], name=name, slug=slugify(slug))
        self.themes = THEMES

    # people
    def people(self) -> None:
        from notifications.models import Preference
        from qi.models import Placement, Role, User

        rng, spec = self.rng, self.spec
        consultants = max(spec.departments, round(spec.users * CONSULTANT_SHARE))
        grades = ["CONSULTANT"] * consultants
        others = spec.users - consultants
        grade_names, grade_weights = list(OTHER_GRADES), list(OTHER_GRADES.values())
        grades += rng.choices(grade_names, weights=grade_weights, k=others)
        rng.shuffle(grades)
        self.consultants_in: dict[int, list[int]] = defaultdict(list)
        self.trainees: list[int] = []
        self.trainees_in: dict[int, list[int]] = defaultdict(list)  # by current placement
        self.current_placement: dict[int, tuple[int, int, int | None]] = {}  # user: (placement, dept, cs)
        self.names: dict[int, str] = {}
        users = []
        consultant_department: dict[int, int] = {}
        consultant_number = 0
        for index, grade in enumerate(grades):
            pk = self.next_id("user")
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            self.names[pk] = f"{first} {last}"
            joined = self.moment(self.days(-rng.randint(30, 6 * 365)))
            self.load.add(
                User,
                id=pk,
                password="!bench-unusable-password",
                email=f"{first}.{last}.{pk}@{DOMAIN}".lower(),
                full_name=self.names[pk],
                grade=grade,
                gmc_number=f"{2_000_000 + index:07d}",
                organisation_id=self.org_id,
                is_active=rng.random() > 0.01,
                date_joined=joined,
            )
            users.append((pk, grade))
            if grade == "CONSULTANT":
                # Round-robin first, so every department has at least one consultant.
                department = self.departments[consultant_number % len(self.departments)][0]
                consultant_number += 1
                self.consultants_in[department].append(pk)
                consultant_department[pk] = department
        for pk, grade in users:
            if grade in NON_ROTATING:
                department = consultant_department.get(pk) or rng.choice(self.departments)[0]
                placement = self.next_id("placement")
                self.load.add(
                    Placement,
                    id=placement,
                    doctor_id=pk,
                    department_id=department,
                    starts_on=self.days(-rng.randint(365, 8 * 365)),
                    ends_on=self.days(rng.randint(365, 5 * 365)),
                )
                self.current_placement[pk] = (placement, department, None)
                continue
            self.trainees.append(pk)
            length = ROTATION_DAYS.get(grade) or (182 if rng.random() < 0.7 else 365)
            starts = self.days(-rng.randint(0, length - 1))
            ends = starts + dt.timedelta(days=length - 1)
            department = rng.choice(self.departments)[0]
            placement = self._placement(pk, department, starts, ends)
            self.trainees_in[department].append(pk)
            self.current_placement[pk] = placement
            previous_department = rng.choice(self.departments)[0]
            self._placement(pk, previous_department, starts - dt.timedelta(days=length), starts - dt.timedelta(days=1))
            if (ends - self.today).days <= 42 and rng.random() < 0.6:
                # The next rotation is known; sometimes it keeps the doctor in the same department.
                next_department = department if rng.random() < 0.15 else rng.choice(self.departments)[0]
                self._placement(pk, next_department, ends + dt.timedelta(days=1), ends + dt.timedelta(days=length))
        # QI leads: most departments have one; two for the whole organisation.
        for department, _, _, _ in self.departments:
            if rng.random() < 0.85:
                self.load.add(
                    Role,
                    id=self.next_id("role"),
                    user_id=rng.choice(self.consultants_in[department]),
                    kind="qi_lead",
                    organisation_id=self.org_id,
                    department_id=department,
                )
        all_consultants = sorted(pk for people in self.consultants_in.values() for pk in people)
        for lead in rng.sample(all_consultants, 2):
            self.load.add(Role, id=self.next_id("role"), user_id=lead, kind="qi_lead", organisation_id=self.org_id)
        # One user in five changed their notification preferences.
        day_choices = [0, 1, 2, 3, 5, 7, 14]
        for pk, _ in users:
            if rng.random() >= 0.2:
                continue
            first = rng.choice([7, 7, 14, 5, 3, None])
            self.load.add(
                Preference,
                id=self.next_id("preference"),
                user_id=pk,
                email_activity=rng.random() > 0.05,
                email_reminders=rng.random() > 0.1,
                first_reminder_days=first,
                second_reminder_days=rng.choice([1, 1, 0, 2, None, *day_choices[:2]]),
                digest=rng.choices(["weekly", "monthly", "off"], weights=[60, 25, 15])[0],
                updated_at=self.moment(self.days(-rng.randint(1, 400))),
            )

    def _placement(self, doctor: int, department: int, starts: dt.date, ends: dt.date) -> tuple[int, int, int]:
        from qi.models import Placement

        consultants = self.consultants_in[department]
        clinical = self.rng.choice(consultants)
        pk = self.next_id("placement")
        self.load.add(
            Placement,
            id=pk,
            doctor_id=doctor,
            department_id=department,
            starts_on=starts,
            ends_on=ends,
            educational_supervisor_id=self.rng.choice(consultants),
            clinical_supervisor_id=clinical,
        )
        return pk, department, clinical

    # projects
    def projects(self) -> None:
        budget = self.spec.milestones
        while budget > 0:
            budget -= self.project(budget)

    def project(self, budget: int) -> int:
        """Write one project with its team and milestones; return the number of milestones written."""
        from qi.models import Handover, Project, ProjectMembership

        rng = self.rng
        status = self.pick(PROJECT_STATUS_WEIGHTS)
        category = self.pick(CATEGORY_WEIGHTS)
        theme_key = rng.choice(sorted(self.themes))
        theme = self.themes[theme_key]
        pk = self.next_id("project")
        lead = rng.choice(self.trainees)
        completed_at = abandoned_at = None
        if status in ("draft", "active"):
            _, department, clinical = self.current_placement[lead]
            supervisor = clinical if rng.random() < 0.8 else rng.choice(self.consultants_in[department])
            if status == "draft":
                starts = self.days(rng.randint(-30, 45))
                created = min(self.now - dt.timedelta(hours=rng.randint(1, 24 * 30)), self.moment(starts))
                supervisor = supervisor if rng.random() < 0.8 else None
            else:
                starts = self.days(-rng.randint(14, 300))
                created = self.moment(starts - dt.timedelta(days=rng.randint(0, 20)))
            ends = starts + dt.timedelta(days=rng.randint(120, 365))
        else:
            department = rng.choice(self.departments)[0]
            supervisor = rng.choice(self.consultants_in[department])
            closed_on = self.days(-rng.randint(0, HISTORY_DAYS))
            closed_at = min(self.moment(closed_on), self.now - dt.timedelta(minutes=rng.randint(5, 600)))
            if status == "completed":
                completed_at = closed_at
                ends = closed_at.date() + dt.timedelta(days=rng.randint(-20, 20))
                starts = ends - dt.timedelta(days=rng.randint(120, 300))
            else:
                abandoned_at = closed_at
                starts = closed_at.date() - dt.timedelta(days=rng.randint(30, 250))
                ends = starts + dt.timedelta(days=rng.randint(120, 300))
            created = self.moment(starts - dt.timedelta(days=rng.randint(0, 20)))
        _, department_name, _, division = self.department_by_id[department]
        by = f"{ends:%B %Y}"
        subject = SUBJECTS.get(theme_key, theme_key.replace("_", " ").capitalize())
        if category == "qi":
            title = f"{subject}: {department_name}"
            problem = theme.problem.format(ward=department_name)
            aim = theme.aim.format(ward=department_name, by=by)
            method = theme.method
        elif category in ("clinical_audit", "re_audit"):
            title = f"{'Re-audit' if category == 're_audit' else 'Audit'} of {subject[0].lower()}{subject[1:]}"
            title += f" in {department_name}"
            problem = f"Care of {theme.population} in {department_name} has not been measured against {theme.standard}."
            aim = f"Measure care of {theme.population} in {department_name} against {theme.standard} by {by}."
            method = "audit_cycle"
        else:
            title = f"Evaluation of {theme.service}: {department_name}"
            problem = f"Nobody knows whether {theme.service} in {department_name} does what it was set up to do."
            aim = f"Describe the uptake, outcomes and costs of {theme.service} in {department_name} by {by}."
            method = "other"
        team = self._team(department, lead)
        handed_over_at = None
        former_lead = None
        if status == "active" and (self.today - starts).days > 120 and rng.random() < 0.25:
            former_lead = rng.choice(self.trainees)
            if former_lead == lead or former_lead in team:
                former_lead = None
            else:
                handed_over_at = self.moment(starts + dt.timedelta(days=rng.randint(90, (self.today - starts).days)))
                handed_over_at = max(min(handed_over_at, self.now - dt.timedelta(hours=1)), created)
        milestones = self._milestones(
            pk,
            category,
            status,
            starts,
            ends,
            created,
            completed_at or abandoned_at,
            lead,
            supervisor,
            budget,
            department_name,
            division,
        )
        updated = max([created, *(m for m in (completed_at, abandoned_at, handed_over_at) if m)], default=created)
        from qi.demo.data import ABANDON_REASONS, LESSONS

        outcome = theme.outcome
        if outcome.is_proportion:
            before = round(outcome.before * 100 + rng.uniform(-8, 8))
            after = round(outcome.after * 100 + rng.uniform(-8, 5))
            result = f"{outcome.name}: from {before}% to {after}% over {rng.randint(8, 26)} weeks."
        else:
            result = f"{outcome.name}: from {outcome.before:g} to {outcome.after:g} {outcome.unit} per week."
        self.load.add(
            Project,
            id=pk,
            title=title[:200],
            problem=problem,
            aim=aim,
            category=category,
            method=method,
            department_id=department,
            supervisor_id=supervisor,
            status=status,
            seeking_team_members=rng.random() < {"draft": 0.3, "active": 0.06}.get(status, 0),
            starts_on=starts,
            ends_on=max(ends, starts),
            completed_at=completed_at,
            abandoned_at=abandoned_at,
            abandon_reason=rng.choice(ABANDON_REASONS) if abandoned_at else "",
            outcome_summary=result + " The change was adopted." if completed_at else "",
            lessons_learned=rng.choice(LESSONS) if completed_at else "",
            sustainability_notes="Owned by the ward manager; data reviewed monthly at governance."
            if completed_at
            else "",
            handover_notes="Data folder, contacts and next PDSA cycle written up for the new lead."
            if handed_over_at
            else "",
            created_at=created,
            updated_at=max(updated, milestones),
        )
        for slug in theme.topics[: rng.randint(1, len(theme.topics))]:
            self.load.add(
                Project.topics.through, id=self.next_id("project_topic"), project_id=pk, topic_id=self.topic_ids[slug]
            )
        lead_joined = handed_over_at or created
        self.load.add(
            ProjectMembership,
            id=self.next_id("membership"),
            project_id=pk,
            user_id=lead,
            role="lead",
            joined_at=lead_joined,
        )
        if former_lead:
            self.load.add(
                ProjectMembership,
                id=self.next_id("membership"),
                project_id=pk,
                user_id=former_lead,
                role="lead",
                joined_at=created,
                left_at=handed_over_at,
            )
            self.load.add(
                Handover,
                id=self.next_id("handover"),
                project_id=pk,
                from_lead_id=former_lead,
                to_lead_id=lead,
                handed_over_by_id=former_lead,
                notes="Handed over at rotation; data collection continues weekly.",
                created_at=handed_over_at,
            )
        for member in team:
            self.load.add(
                ProjectMembership,
                id=self.next_id("membership"),
                project_id=pk,
                user_id=member,
                role="member",
                joined_at=created + dt.timedelta(days=rng.randint(0, 14)),
            )
        return self._written

    def _team(self, department: int, lead: int) -> list[int]:
        size = self.rng.choices([0, 1, 2, 3], weights=[30, 35, 25, 10])[0]
        pool = self.trainees_in.get(department) or self.trainees
        team = set()
        for _ in range(size * 3):
            if len(team) >= size:
                break
            candidate = self.rng.choice(pool)
            if candidate != lead:
                team.add(candidate)
        return sorted(team)

    def _milestones(
        self,
        project: int,
        category: str,
        status: str,
        starts: dt.date,
        ends: dt.date,
        created: dt.datetime,
        closed_at: dt.datetime | None,
        lead: int,
        supervisor: int | None,
        budget: int,
        department_name: str,
        division: str,
    ) -> dt.datetime:
        """Write the project's milestones and their reviews; return the latest change among them."""
        from qi.demo.data import APPROVAL_COMMENTS, CHANGE_REQUESTS, EVIDENCE
        from qi.milestone_plans import PLANS, PlanStep
        from qi.models import Milestone, Review

        rng = self.rng
        steps = list(PLANS[category])
        extra = rng.choice([0, 1, 1, 2, 2, 3, 4] if category == "qi" else [0, 0, 1, 1, 2])
        for n in range(extra):
            if category == "qi":
                steps.append(PlanStep("pdsa", f"PDSA cycle {n + 3} completed", rng.uniform(0.55, 0.85), False))
            else:
                steps.append(PlanStep("data_collection", f"Data collection round {n + 2}", rng.uniform(0.4, 0.7)))
        steps.sort(key=lambda step: step.at)
        steps = steps[:budget]
        self._written = len(steps)
        window = max((ends - starts).days, 0)
        latest = created
        horizon = self.now - dt.timedelta(minutes=5)
        last_moment = min(closed_at or horizon, horizon)
        for step in steps:
            due = starts + dt.timedelta(days=round(step.at * window))
            state = self._state(status, due, step.required, closed_at)
            submitted_at = decided_at = None
            if state != "planned":
                if status == "active" and state == "submitted":  # waiting for review since 0 to 30 days
                    submitted_at = self.now - dt.timedelta(minutes=rng.randint(30, 30 * 24 * 60))
                elif status == "active" and due >= self.today:  # done early, in the last 10 days
                    submitted_at = self.now - dt.timedelta(minutes=rng.randint(2 * 60, 10 * 24 * 60))
                else:
                    submitted_at = self.moment(due + dt.timedelta(days=rng.randint(-10, 3)))
                submitted_at = min(max(submitted_at, created + dt.timedelta(hours=1)), last_moment)
                if state in ("approved", "changes_requested"):
                    decided_at = submitted_at + dt.timedelta(minutes=rng.randint(60, 8 * 24 * 60))
                    decided_at = max(min(decided_at, last_moment), submitted_at)
                latest = max(latest, decided_at or submitted_at)
            pk = self.next_id("milestone")
            self.load.add(
                Milestone,
                id=pk,
                project_id=project,
                kind=step.kind,
                title=step.title,
                due_on=due,
                required=step.required,
                status=state,
                evidence=EVIDENCE.get(step.kind, "Done.").format_map(
                    _Blank(
                        supervisor=self.names.get(supervisor, "the supervisor"),
                        team="the project team",
                        reference=f"QI-{project:06d}",
                        department=department_name,
                        division=division,
                    )
                )
                if submitted_at
                else "",
                submitted_at=submitted_at,
                submitted_by_id=lead if submitted_at else None,
                decided_at=decided_at,
                created_at=created,
                updated_at=decided_at or submitted_at or created,
            )
            if decided_at and supervisor:
                self.load.add(
                    Review,
                    id=self.next_id("review"),
                    milestone_id=pk,
                    reviewer_id=supervisor,
                    decision=state,
                    comment=rng.choice(CHANGE_REQUESTS if state == "changes_requested" else APPROVAL_COMMENTS),
                    created_at=decided_at,
                )
        return latest

    def _state(self, status: str, due: dt.date, required: bool, closed_at: dt.datetime | None) -> str:
        roll = self.rng.random()
        if status == "draft":
            return "planned"
        if status == "completed":
            return "approved" if required or roll < 0.7 else "planned"
        if status == "abandoned":
            if closed_at and due < closed_at.date():
                return "approved" if roll < 0.65 else ("submitted" if roll < 0.75 else "planned")
            return "planned"
        days = (due - self.today).days
        if days < 0:  # past due: most done, some waiting for review, some overdue
            if roll < 0.68:
                return "approved"
            if roll < 0.78:
                return "submitted"
            if roll < 0.82:
                return "changes_requested"
            return "planned"
        if days <= 14:
            if roll < 0.78:
                return "planned"
            if roll < 0.92:
                return "submitted"
            return "approved" if roll < 0.96 else "changes_requested"
        if roll < 0.95:
            return "planned"
        return "submitted" if roll < 0.98 else "approved"


# --- What the data looks like --------------------------------------------------------------------


def describe(as_of: dt.date, using: str = "default") -> dict[str, int]:
    """Counts that matter to the notification benchmarks, on the as-of date."""
    from notifications.models import Preference
    from qi.models import Milestone, Placement, Project, ProjectMembership, Role, User

    week_ago = as_of - dt.timedelta(days=7)
    return {
        "users": User.objects.using(using).count(),
        "active users": User.objects.using(using).filter(is_active=True).count(),
        "saved preferences": Preference.objects.using(using).count(),
        "QI lead roles": Role.objects.using(using).count(),
        "placements (current)": Placement.objects.using(using).current(as_of).count(),
        "projects": Project.objects.using(using).count(),
        "active projects": Project.objects.using(using).filter(status="active").count(),
        "completed in the last week": Project.objects.using(using)
        .filter(status="completed", completed_at__date__gte=week_ago)
        .count(),
        "seeking team members": Project.objects.using(using).filter(seeking_team_members=True).count(),
        "current memberships": ProjectMembership.objects.using(using).current().count(),
        "milestones": Milestone.objects.using(using).count(),
        "overdue milestones": Milestone.objects.using(using).overdue(as_of).count(),
        "due within 14 days": Milestone.objects.using(using).due_within(14, as_of).count(),
        "awaiting review": Milestone.objects.using(using).awaiting_review().count(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--milestones", type=int, default=200_000)
    parser.add_argument("--departments", type=int, default=0, help="default: users / 125, from 8 to 200")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--as-of", type=dt.date.fromisoformat, default=None, help="default: the data's, or last Monday if generating"
    )
    parser.add_argument("--regenerate", action="store_true", help="wipe the database and generate again")
    args = parser.parse_args(argv)
    setup_django()
    spec = Spec(
        users=args.users,
        milestones=args.milestones,
        departments=args.departments,
        seed=args.seed,
        as_of=args.as_of,
    )
    spec = ensure(spec, regenerate=args.regenerate)
    for name, count in describe(spec.as_of).items():
        print(f"  {name:<28} {count:>9,}")


if __name__ == "__main__":
    main()
