"""Benchmark the API's list endpoints against bare Django views of the same rows (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qi_api_bench \\
        .venv/bin/python bench/api_bench.py [--users 5000 --milestones 200000] [--requests 200] [--repeat 3] \\
        [--page-size 50] [--profile 50] [--modes as-is,lean] [--json FILE] [--regenerate]

Creates the database if missing, migrates, generates the organisation with ``bench/generate.py`` unless the
database already holds the same one (5,000 users and 200,000 milestones give 24,833 projects), then times
``GET /api/v1/projects/?page_size=50`` and ``GET /api/v1/milestones/?page_size=50`` against bare views:

- **API**: the whole stack (middleware, URL routing, DRF: knox token authentication, permission, throttle,
  filter backends, cursor pagination, serializer, JSON renderer), with a real device token
  (``Authorization: Token ...``).
- **bare**: a plain Django view that authenticates the same token with knox (same queries, same hashing),
  then returns ``JsonResponse(list(queryset.values(...)), safe=False)`` of the same rows: the API's own
  querysets (``projects_for``, ``milestones_for``: the same scoping, ``visible_to(user)``, and the same
  computed fields: the project's lead and the user's role, a milestone's ``is_overdue`` and latest review)
  read with ``values()``, the topics in one extra query, the same ordering (``-updated_at, -id``) and page
  size. No serializer, no filter backends, no pagination links.
- **bare, columns only**: the same without the computed fields (table columns and joined names), to show
  what the computed fields cost in SQL.

Requests run in this process through Django's ``WSGIHandler``, called exactly as a WSGI server calls it
(no sockets, no HTTP parsing; the test ``Client`` is not used because its own overhead would be counted on
both sides). The bare views sit first in the URL patterns (their routing is cheaper than the API's by a few
microseconds) and do not throttle (the API's throttle is a cache read and write: ``locmem`` unless
``CACHE_URL`` is set; the rate is raised so that no request is refused). DEBUG is off, as in production.

For two users: a QI lead of the whole organisation (sees every project: the worst case) and an ordinary
lead doctor (the median number of projects among doctors who lead an active project). Each case is warmed
up, then timed over ``--requests`` rounds of one request to each view in turn (API, bare, columns only,
API, ...: so load from other processes hits every view alike): requests per second (requests / the sum
of their latencies), mean and p95 latency, queries per request (an ``execute_wrapper``), time in the
database driver, rows and bytes per response, and the ratio of the API's requests per second to the bare
view's. ``--repeat N`` runs everything N times and reports the median run of each case. ``--profile N``
also profiles N requests of each list (cProfile, QI lead) and prints where the time goes. ``--json FILE``
writes every figure. ``--modes as-is,lean`` also measures a prototype, patched into this process after
checking it renders the same JSON (no file of the app changes): ``lean``, a hand-written
``to_representation`` of ``MilestoneSerializer`` like the one ``ProjectSerializer`` has.
Figures: docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import re
import statistics
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DEVICE = "api-bench"
LISTS = ("projects", "milestones")
GOAL = 0.6

# --- Bare views: the same rows with values() and JsonResponse ----------------------------------------

PROJECT_COLUMNS = (
    "id",
    "title",
    "problem",
    "aim",
    "category",
    "method",
    "status",
    "department_id",
    "department__name",
    "supervisor_id",
    "supervisor__full_name",
    "seeking_team_members",
    "starts_on",
    "ends_on",
    "completed_at",
    "abandoned_at",
    "abandon_reason",
    "outcome_summary",
    "lessons_learned",
    "sustainability_notes",
    "handover_notes",
    "created_at",
    "updated_at",
)
MILESTONE_COLUMNS = (
    "id",
    "project_id",
    "kind",
    "title",
    "description",
    "due_on",
    "required",
    "status",
    "evidence",
    "evidence_url",
    "submitted_at",
    "submitted_by_id",
    "submitted_by__full_name",
    "decided_at",
    "created_at",
    "updated_at",
)


def bare_project_rows(user, size: int, computed: bool = True) -> list[dict]:
    from api.resources.projects import projects_for
    from qi.models import Project

    if computed:  # the API's own queryset (scope and annotations), as plain values
        queryset = projects_for(user).prefetch_related(None)
        fields = (*PROJECT_COLUMNS, "lead_id", "lead_name", "my_role")
    else:
        queryset, fields = Project.objects.visible_to(user), PROJECT_COLUMNS
    rows = list(queryset.order_by("-updated_at", "-id").values(*fields)[:size])
    if computed:
        topics: dict[int, list[str]] = {row["id"]: [] for row in rows}
        pairs = Project.topics.through.objects.filter(project_id__in=topics).values_list("project_id", "topic__slug")
        for project_id, slug in pairs:
            topics[project_id].append(slug)
        for row in rows:
            row["topics"] = topics[row["id"]]
    return rows


def bare_milestone_rows(user, size: int, computed: bool = True) -> list[dict]:
    from api.resources.milestones import milestones_for
    from qi.models import Milestone

    if computed:  # the API's own queryset (scope and annotations), as plain values
        queryset = milestones_for(user)
        fields = (*MILESTONE_COLUMNS, "is_overdue", "latest_decision", "latest_comment")
    else:
        queryset, fields = Milestone.objects.visible_to(user), MILESTONE_COLUMNS
    return list(queryset.order_by("-updated_at", "-id").values(*fields)[:size])


# --- Lean milestone serializer (prototype, measured with --modes as-is,lean) --------------------------


def lean_milestone_serializer():
    """MilestoneSerializer with a hand-written to_representation, as ProjectSerializer's (same output).

    Not in the app: the milestone list meets the goal without it (docs/BENCHMARKS.md). The declared fields
    stay (the OpenAPI schema is unchanged); only reading is written out: no per-field get_attribute /
    SkipField / nested serializer calls.
    """
    from rest_framework import serializers

    from api.resources.milestones import MilestoneSerializer

    moment = serializers.DateTimeField().to_representation  # current time zone, ISO 8601, Z for UTC

    class LeanMilestoneSerializer(MilestoneSerializer):
        def to_representation(self, milestone):
            by = milestone.submitted_by
            decision = getattr(milestone, "latest_decision", None)
            return {
                "id": milestone.id,
                "project": milestone.project_id,
                "kind": milestone.kind,
                "title": milestone.title,
                "description": milestone.description,
                "due_on": None if milestone.due_on is None else milestone.due_on.isoformat(),
                "required": bool(milestone.required),
                "status": milestone.status,
                "is_overdue": bool(milestone.is_overdue),
                "evidence": milestone.evidence,
                "evidence_url": milestone.evidence_url,
                "submitted_at": moment(milestone.submitted_at),
                "submitted_by": None if by is None else {"id": by.id, "full_name": by.full_name},
                "decided_at": moment(milestone.decided_at),
                "latest_review": None
                if decision is None
                else {"decision": decision, "comment": milestone.latest_comment},
                "created_at": moment(milestone.created_at),
                "updated_at": moment(milestone.updated_at),
            }

    return LeanMilestoneSerializer


@contextlib.contextmanager
def lean_changes(users: dict[str, object], page_size: int):
    """Use the lean milestone serializer in this process, after checking it gives the same JSON; then undo."""
    from rest_framework.renderers import JSONRenderer

    import api.resources.milestones as milestones_module

    lean = lean_milestone_serializer()
    original = milestones_module.MilestoneViewSet.serializer_class
    for user in users.values():
        rows = milestones_module.milestones_for(user).order_by("-updated_at", "-id")[:page_size]
        if JSONRenderer().render(lean(rows, many=True).data) != JSONRenderer().render(original(rows, many=True).data):
            raise SystemExit(f"{lean.__name__} does not give the same JSON as {original.__name__}")
    milestones_module.MilestoneViewSet.serializer_class = lean
    try:
        yield
    finally:
        milestones_module.MilestoneViewSet.serializer_class = original


def _bare_view(rows_of, computed: bool):
    def view(request):
        from django.http import JsonResponse
        from knox.auth import TokenAuthentication
        from rest_framework.exceptions import AuthenticationFailed

        try:
            authenticated = TokenAuthentication().authenticate(request)
        except AuthenticationFailed:
            authenticated = None
        if authenticated is None:
            return JsonResponse({"detail": "Authentication credentials were not provided."}, status=401)
        size = min(int(request.GET.get("page_size", 25)), 100)
        return JsonResponse(rows_of(authenticated[0], size, computed), safe=False)

    return view


def install_urls() -> None:
    """The site's URL patterns with the bare views in front of them, as ROOT_URLCONF."""
    from django.conf import settings
    from django.urls import clear_url_caches, path

    import config.urls

    module = types.ModuleType("api_bench_urls")
    module.urlpatterns = [
        path("bench/bare/projects/", _bare_view(bare_project_rows, True)),
        path("bench/bare/milestones/", _bare_view(bare_milestone_rows, True)),
        path("bench/columns/projects/", _bare_view(bare_project_rows, False)),
        path("bench/columns/milestones/", _bare_view(bare_milestone_rows, False)),
        *config.urls.urlpatterns,
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()


MODES = {
    "as-is": "the code as it is",
    "lean": "prototype: the code + a hand-written to_representation of MilestoneSerializer",
}
VARIANTS = {  # name: URL of the list (format with the list's name)
    "API": "/api/v1/{}/",
    "bare": "/bench/bare/{}/",
    "bare, columns only": "/bench/columns/{}/",
}

# --- Requests ------------------------------------------------------------------------------------


class Client:
    """Calls Django's WSGI handler as a WSGI server would: full middleware, routing and view, no sockets."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()

    def get(self, path: str, query: str, token: str) -> tuple[int, bytes]:
        environ = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "443",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "localhost",
            "HTTP_ACCEPT": "application/json",
            "HTTP_AUTHORIZATION": f"Token {token}",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status = []
        result = self.handler(environ, lambda s, headers, exc_info=None: status.append(s))
        try:
            body = b"".join(result)
        finally:
            result.close()  # request_finished, as a server does
        return int(status[0].split()[0]), body


class QueryProbe:
    """An execute wrapper: counts queries and the time spent in the driver, whatever DEBUG is."""

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


@dataclass
class Case:
    list_name: str
    user: str
    variant: str
    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    queries: int = 0
    db_seconds: float = 0.0
    rows: int = 0
    bytes: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else 0.0

    @property
    def queries_per_request(self) -> float:
        return self.queries / self.requests if self.requests else 0.0

    @property
    def db_ms(self) -> float:
        return 1000 * self.db_seconds / self.requests if self.requests else 0.0


def ids_of(body: bytes) -> list[int]:
    data = json.loads(body)
    return [row["id"] for row in (data["results"] if isinstance(data, dict) else data)]


def run_group(
    client: Client, probe: QueryProbe, list_name: str, user: str, token: str, query: str, n: int, warmup: int
) -> list[Case]:
    """Warm every view up, then time n rounds of one request to each view in turn.

    Alternating request by request (not one block per view) means a burst of load from other processes
    slows every view alike, so the ratio holds even on a shared machine.
    """
    cases = [Case(list_name, user, variant) for variant in VARIANTS]
    paths = [VARIANTS[case.variant].format(list_name) for case in cases]
    ids_of_first: dict[str, list[int]] = {}
    for case, path in zip(cases, paths, strict=True):
        for _ in range(warmup):
            status, body = client.get(path, query, token)
            if status != 200:
                raise SystemExit(f"GET {path}?{query} answered {status}: {body[:300]!r}")
        ids = ids_of(body)
        case.rows, case.bytes = len(ids), len(body)
        if ids != ids_of_first.setdefault("ids", ids):
            raise SystemExit(
                f"{case.variant} does not return the same rows as {cases[0].variant} ({list_name}, {user})"
            )
    gc.collect()
    for _ in range(n):
        for case, path in zip(cases, paths, strict=True):
            queries, db_seconds, started = probe.queries, probe.seconds, time.perf_counter()
            status, _body = client.get(path, query, token)
            elapsed = time.perf_counter() - started
            if status != 200:
                raise SystemExit(f"GET {path}?{query} answered {status}")
            case.requests += 1
            case.seconds += elapsed
            case.latencies_ms.append(1000 * elapsed)
            case.queries += probe.queries - queries
            case.db_seconds += probe.seconds - db_seconds
    return cases


# --- Users and tokens ----------------------------------------------------------------------------


def pick_users() -> dict[str, object]:
    """The organisation's first QI lead, and the lead doctor with the median number of visible projects."""
    from django.db.models import Count

    from qi.models import Project, ProjectMembership, Role, User

    qi_lead = (
        User.objects.filter(
            is_active=True, roles__kind=Role.Kind.QI_LEAD, roles__department__isnull=True
        )  # organisation-wide
        .order_by("pk")
        .first()
    )
    leading = ProjectMembership.objects.current().filter(
        role=ProjectMembership.Role.LEAD, project__status=Project.Status.ACTIVE, user__is_active=True
    )
    doctors = (
        User.objects.filter(pk__in=leading.values("user_id"), roles__isnull=True)
        .exclude(grade__in=["CONSULTANT", "SAS", "OTHER"])
        .annotate(projects=Count("memberships__project", distinct=True))
        .order_by("projects", "pk")
        .values_list("pk", "projects")
    )
    doctors = list(doctors)
    doctor = User.objects.get(pk=doctors[len(doctors) // 2][0])
    return {"QI lead (organisation)": qi_lead, "lead doctor": doctor}


def issue_tokens(users: dict[str, object]) -> dict[str, str]:
    from api.models import DeviceToken

    DeviceToken.objects.filter(device_name=BENCH_DEVICE).delete()
    return {label: DeviceToken.objects.create(user=user, device_name=BENCH_DEVICE)[1] for label, user in users.items()}


def visible_counts(users: dict[str, object]) -> dict[str, dict[str, int]]:
    from qi.models import Milestone, Project

    return {
        label: {
            "projects": Project.objects.visible_to(user).count(),
            "milestones": Milestone.objects.visible_to(user).count(),
        }
        for label, user in users.items()
    }


def milestones_routed(client: Client, token: str, query: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/v1/milestones/")
    except Resolver404:
        return False
    status, _ = client.get("/api/v1/milestones/", query, token)
    return status == 200


# --- Profile -------------------------------------------------------------------------------------

# (label, "module:qualified.name"): cumulative time of these functions, per request
BREAKDOWN = (
    ("whole request (WSGIHandler)", "django.core.handlers.wsgi:WSGIHandler.__call__"),
    ("  DRF view dispatch (all below)", "rest_framework.views:APIView.dispatch"),
    ("    initial: auth, permission, throttle", "rest_framework.views:APIView.initial"),
    ("      knox authenticate_credentials", "knox.auth:TokenAuthentication.authenticate_credentials"),
    ("      throttle allow_request", "rest_framework.throttling:SimpleRateThrottle.allow_request"),
    ("    get_queryset (builds the queryset)", "rest_framework.generics:GenericAPIView.get_queryset"),
    ("    filter_queryset (filter backends)", "rest_framework.generics:GenericAPIView.filter_queryset"),
    ("    paginate_queryset (runs the SQL)", "rest_framework.pagination:CursorPagination.paginate_queryset"),
    ("      model instances (Model.from_db)", "django.db.models.base:Model.from_db"),
    ("      prefetch_related_objects", "django.db.models.query:prefetch_related_objects"),
    (
        "    serializing (ListSerializer.to_representation)",
        "rest_framework.serializers:ListSerializer.to_representation",
    ),
    ("    get_paginated_response (links)", "api.pagination:SyncCursorPagination.get_paginated_response"),
    ("  rendering (Response.rendered_content)", "rest_framework.response:Response.rendered_content"),
    ("  bare view: values() rows (projects)", "bench.api_bench:bare_project_rows"),
    ("  bare view: values() rows (milestones)", "bench.api_bench:bare_milestone_rows"),
    ("  bare view: JsonResponse (json.dumps)", "django.http.response:JsonResponse.__init__"),
    ("database driver (psycopg Cursor.execute)", "psycopg.cursor:Cursor.execute"),
)


def _code_key(target: str) -> tuple[str, int, str] | None:
    """The (file, line, name) key cProfile gives a function, from "module:Class.function"."""
    import importlib

    module_name, qualname = target.split(":")
    try:
        obj = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    obj = getattr(obj, "fget", obj)  # a property
    code = getattr(getattr(obj, "__wrapped__", obj), "__code__", None)
    return (code.co_filename, code.co_firstlineno, code.co_name) if code else None


def profile(client: Client, path: str, query: str, token: str, n: int, top: int) -> dict:
    for _ in range(5):
        client.get(path, query, token)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        client.get(path, query, token)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())
    breakdown = {}
    for label, target in BREAKDOWN:
        row = stats.stats.get(_code_key(target))
        if row:
            breakdown[label] = round(1000 * row[3] / n, 3)
    by_own = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    own = [
        {
            "function": f"{_short(filename)}:{line}({function})",
            "calls_per_request": round(row[1] / n, 1),
            "own_ms_per_request": round(1000 * row[2] / n, 3),
        }
        for (filename, line, function), row in by_own
    ]
    return {"requests": n, "profiled_ms_per_request": round(1000 * total / n, 2), "breakdown_ms": breakdown, "top": own}


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# --- Report --------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    import django
    import rest_framework
    from django.db import connection

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
    database = connection.display_name
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
    return {
        "CPUs (nproc)": str(len(os.sched_getaffinity(0))),
        "CPU model": models[0] if models else platform.processor() or "unknown",
        "RAM": f"{int(mem[1]) / 1024 / 1024:.1f} GiB" if mem else "unknown",
        "database": database,
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "DRF": rest_framework.__version__,
        "OS": f"{platform.system()} {platform.release()}",
    }


def median_case(cases: list[Case]) -> Case:
    return sorted(cases, key=lambda case: case.rps)[len(cases) // 2]


def report(runs: dict[tuple[str, str, str], list[Case]], lists: list[str], users: list[str]) -> list[dict]:
    print()
    print(
        f"{'list':<11} {'user':<23} {'view':<19} {'req/s':>7} {'range':>13} {'mean ms':>8} {'p95 ms':>7} "
        f"{'queries':>7} {'DB ms':>6} {'rows':>5} {'kB':>6} {'ratio':>6}"
    )
    summary = []
    for list_name in lists:
        for user in users:
            bare = median_case(runs[(list_name, user, "bare")])
            for variant in VARIANTS:
                cases = runs[(list_name, user, variant)]
                case = median_case(cases)
                low, high = min(c.rps for c in cases), max(c.rps for c in cases)
                ratio = case.rps / bare.rps if variant == "API" else None
                print(
                    f"{list_name:<11} {user:<23} {variant:<19} {case.rps:>7.1f} {f'{low:.0f}-{high:.0f}':>13} "
                    f"{case.mean_ms:>8.2f} {case.p95_ms:>7.2f} {case.queries_per_request:>7.1f} {case.db_ms:>6.2f} "
                    f"{case.rows:>5} {case.bytes / 1024:>6.1f} {f'{ratio:.2f}' if ratio else '':>6}"
                )
                summary.append(
                    {
                        "list": list_name,
                        "user": user,
                        "view": variant,
                        "requests_per_second": round(case.rps, 1),
                        "range": [round(low, 1), round(high, 1)],
                        "mean_ms": round(case.mean_ms, 2),
                        "p95_ms": round(case.p95_ms, 2),
                        "queries_per_request": round(case.queries_per_request, 2),
                        "db_ms_per_request": round(case.db_ms, 2),
                        "rows": case.rows,
                        "bytes": case.bytes,
                        "ratio_to_bare": round(ratio, 3) if ratio else None,
                    }
                )
    print()
    for row in summary:
        if row["ratio_to_bare"] is not None:
            verdict = "met" if row["ratio_to_bare"] >= GOAL else "NOT met"
            print(
                f"  {row['list']:<11} {row['user']:<23} API / bare = {row['ratio_to_bare']:.2f} "
                f"({verdict}, goal {GOAL})"
            )
    return summary


def print_profile(name: str, figures: dict) -> None:
    print(f"\nProfile of {figures['requests']} requests: {name} (ms per request, cProfile inflates Python time)")
    for label, ms in figures["breakdown_ms"].items():
        print(f"  {label:<52} {ms:>8.3f}")
    print("  most own time:")
    for row in figures["top"]:
        print(f"    {row['own_ms_per_request']:>7.3f} ms  {row['calls_per_request']:>7.1f} calls  {row['function']}")


# --- Main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the API's list endpoints against bare Django views.")
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--milestones", type=int, default=200_000)
    parser.add_argument("--departments", type=int, default=0, help="default: users / 125, from 8 to 200")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--regenerate", action="store_true", help="wipe the database and generate the data again")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests before each case")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs; each case reports the median")
    parser.add_argument("--lists", default=",".join(LISTS), help="comma-separated: projects,milestones")
    parser.add_argument("--profile", type=int, default=0, help="also profile this many requests per list (QI lead)")
    parser.add_argument("--top", type=int, default=15, help="functions shown per profile")
    parser.add_argument(
        "--modes",
        default="as-is",
        help="comma-separated, measured in turn: as-is (the code), lean (+ a lean MilestoneSerializer, patched "
        "in this process after checking it renders the same JSON)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    # Production-like settings; a throttle rate no benchmark reaches (the throttle still runs).
    os.environ.setdefault("API_THROTTLE_USER", "100000000/hour")
    from bench import generate

    generate.setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        print(f"Warning: the database is {connection.vendor}, not PostgreSQL; figures are not comparable.")
    started = time.perf_counter()
    spec = generate.ensure(
        generate.Spec(users=args.users, milestones=args.milestones, departments=args.departments, seed=args.seed),
        regenerate=args.regenerate,
    )
    print(f"Data ready in {time.perf_counter() - started:.1f} s")
    install_urls()
    users = pick_users()
    tokens = issue_tokens(users)
    counts = visible_counts(users)
    client = Client()
    query = f"page_size={args.page_size}"
    lists = [name.strip() for name in args.lists.split(",") if name.strip()]
    if "milestones" in lists and not milestones_routed(client, next(iter(tokens.values())), query):
        print("GET /api/v1/milestones/ is not there yet (or does not answer 200): milestones skipped.")
        lists.remove("milestones")
    for label, user in users.items():
        print(
            f"  {label}: user {user.pk} ({user.grade}), sees {counts[label]['projects']:,} projects and "
            f"{counts[label]['milestones']:,} milestones"
        )
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    unknown = set(modes) - set(MODES)
    if unknown:
        raise SystemExit(f"Unknown mode(s) {sorted(unknown)}: choose from {', '.join(MODES)}")
    info = machine()
    probe = QueryProbe()
    load_before = os.getloadavg()
    bench_started = time.perf_counter()
    results = {}
    with connection.execute_wrapper(probe):
        for mode in modes:
            with contextlib.ExitStack() as stack:
                if mode == "lean":
                    stack.enter_context(lean_changes(users, args.page_size))
                results[mode] = measure(args, client, probe, lists, list(users), tokens, query, mode)
    elapsed = time.perf_counter() - bench_started
    info["load average"] = f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after (1 min)"
    print(f"\n{spec.organisation_name}; page size {args.page_size}; {args.requests} requests per case")
    for key, value in info.items():
        print(f"  {key}: {value}")
    summaries = {}
    for mode, (runs, profiles) in results.items():
        print(f"\n{mode.upper()}: {MODES[mode]}")
        summaries[mode] = report(runs, lists, list(users))
        for name, figures in profiles.items():
            print_profile(f"{name} ({mode})", figures)
    print(f"\nBenchmark took {elapsed:.0f} s (after the data was ready)")
    from api.models import DeviceToken

    DeviceToken.objects.filter(device_name=BENCH_DEVICE).delete()
    if args.json:
        figures = {
            "machine": info,
            "data": spec.organisation_name,
            "page_size": args.page_size,
            "requests_per_case": args.requests,
            "runs": args.repeat,
            "users": {label: {"id": user.pk, "grade": user.grade, **counts[label]} for label, user in users.items()},
            **{
                mode: {
                    "cases": summaries[mode],
                    "all_runs": {" / ".join(key): [round(c.rps, 1) for c in cases] for key, cases in runs.items()},
                    "profiles": profiles,
                }
                for mode, (runs, profiles) in results.items()
            },
            "seconds": round(elapsed, 1),
        }
        args.json.write_text(json.dumps(figures, indent=2, default=str))
        print(f"Figures written to {args.json}")


def measure(args, client, probe, lists, users, tokens, query, mode):
    """Every case, args.repeat times; then the profiles. Returns (runs per case, profiles)."""
    runs: dict[tuple[str, str, str], list[Case]] = {}
    profiles = {}
    started = time.perf_counter()
    for run in range(args.repeat):
        for list_name in lists:
            for label in users:
                group = run_group(client, probe, list_name, label, tokens[label], query, args.requests, args.warmup)
                for case in group:
                    runs.setdefault((list_name, label, case.variant), []).append(case)
        print(f"  {mode}: run {run + 1} of {args.repeat} done ({time.perf_counter() - started:.0f} s)")
    if args.profile:
        label = "QI lead (organisation)"
        for list_name in lists:
            for variant in ("API", "bare"):
                path = VARIANTS[variant].format(list_name)
                figures = profile(client, path, query, tokens[label], args.profile, args.top)
                profiles[f"{list_name}, {variant}, {label}"] = figures
    return runs, profiles


if __name__ == "__main__":
    main()
