"""Benchmark the reminder scan and the weekly digest on a generated organisation (PostgreSQL and Redis).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qi_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/notify_bench.py [--users 5000 --milestones 200000] [--regenerate]

Creates the database if missing, migrates, generates the organisation with ``bench/generate.py`` unless the
database already holds the same one, empties the notification tables and the bench's Celery queue, then
measures, in this process, exactly the code the Celery tasks run:

(a) the reminder scan: ``notifications.tasks.scan_reminders`` called directly (synchronously): the rules of
    ``notifications.scans.reminder_messages``, ``outbox.post`` in chunks of 2,000, and ``queue_sending``,
    whose on-commit ``send_emails.delay`` really publishes to Redis; then the same scan again (must create
    nothing) and the next day's scan (the steady daily volume);
(b) the weekly digest to every user whose digest is due on the as-of Monday: ``digest.recipients``, then
    ``tasks.build_digests`` per batch of ``NOTIFICATIONS_DIGEST_BATCH_SIZE`` users (``digest.build`` +
    ``outbox.post`` + ``queue_sending`` to Redis), then every digest e-mail sent with
    ``delivery.send_batch`` in batches of ``NOTIFICATIONS_EMAIL_BATCH_SIZE`` to a local SMTP sink (a minimal
    asyncio SMTP server in a child process, started by this script; ``--email file`` writes files instead).

For each: wall time, queries (counted with ``connection.execute_wrapper``, which sees every query whatever
DEBUG is, without keeping the SQL), time spent inside the database driver, the slowest statement shapes,
peak RSS of the process during the phase (VmHWM, reset before each phase via /proc/self/clear_refs),
and, in a further pass over fresh tables, the Python allocation peak (tracemalloc slows the code, so that
pass is not timed). Each function the tasks call is wrapped (by module attribute, nothing is edited) to
break the time down. ``--repeat N`` times N passes and reports, per phase, the run with the median time.
``--workers N`` (default: nproc) then runs the digest again with N worker processes, each taking one
batch at a time as Celery workers with ``--concurrency N`` would. Speed figures come from here, never from
tests. DEBUG is off (as in production), so Django keeps no query log. Nothing consumes the Redis queue:
the send tasks are counted and purged (the bench sends the e-mails itself, with ``send_batch``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024


# --- A local SMTP sink (child process) -----------------------------------------------------------


def run_smtp_sink() -> None:
    """Accept every message, count it, and answer XSTA with '250 <messages> <bytes> <connections>'."""
    stats = {"messages": 0, "bytes": 0, "connections": 0}

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats["connections"] += 1
        writer.write(b"220 bench-sink ESMTP\r\n")
        try:
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(b"250-bench-sink\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    await writer.drain()
                    data = await reader.readuntil(b"\r\n.\r\n")
                    stats["messages"] += 1
                    stats["bytes"] += len(data)
                    writer.write(b"250 OK queued\r\n")
                elif verb == b"XSTA":
                    writer.write(f"250 {stats['messages']} {stats['bytes']} {stats['connections']}\r\n".encode())
                elif verb == b"QUIT":
                    writer.write(b"221 Bye\r\n")
                    await writer.drain()
                    break
                else:  # MAIL, RCPT, RSET, NOOP
                    writer.write(b"250 OK\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(session, "127.0.0.1", 0, limit=64 * MIB)
        print(server.sockets[0].getsockname()[1], flush=True)
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
        async with server:
            await stop

    asyncio.run(serve())


class SmtpSink:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--smtp-sink"], stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        self.port = int(self.process.stdout.readline())

    def stats(self) -> dict[str, int]:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as client:
            _, reply = client.docmd("XSTA")
        messages, size, connections = (int(n) for n in reply.split())
        return {"messages": messages, "bytes": size, "connections": connections - 1}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# --- Measuring -----------------------------------------------------------------------------------


class QueryProbe:
    """An execute wrapper: counts queries and the time spent in the driver, whatever DEBUG is."""

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0
        self.shapes: dict[str, list] = {}  # statement shape -> [count, seconds]

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.seconds += elapsed
            self.queries += 1
            shape = self.shapes.setdefault(_shape(sql), [0, 0.0])
            shape[0] += 1
            shape[1] += elapsed


def _shape(sql: str) -> str:
    """A statement without its parameter lists, cut short: what kind of query it is."""
    sql = re.sub(r"\((?:%s|\(%s(?:, %s)*\))(?:, (?:%s|\(%s(?:, %s)*\)))*\)", "(...)", sql)
    sql = re.sub(r'"[a-z_]+"\.', "", sql)
    return sql[:150]


def rss_kib(field_name: str) -> int:
    match = re.search(rf"{field_name}:\s+(\d+) kB", Path("/proc/self/status").read_text())
    return int(match[1]) if match else 0


def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


@dataclass
class Part:
    """A function inside a phase: calls, time, queries, database time, and items returned."""

    calls: int = 0
    seconds: float = 0.0
    queries: int = 0
    db_seconds: float = 0.0
    items: int = 0
    per_call_queries: list[int] = field(default_factory=list)


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    queries: int = 0
    db_seconds: float = 0.0
    rss_start_mib: float = 0.0
    rss_peak_mib: float = 0.0
    python_peak_mib: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    parts: dict[str, Part] = field(default_factory=dict)
    shapes: dict[str, list] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)


class Bench:
    def __init__(self, probe: QueryProbe) -> None:
        self.probe = probe
        self.phases: list[Phase] = []
        self._patches: list[tuple[object, str, object]] = []
        self._labels: list[str] = []
        self._phase: Phase | None = None

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[Phase]:
        phase = Phase(name, parts={label: Part() for label in self._labels})  # report in the order wrapped
        gc.collect()
        reset_peak_rss()
        phase.rss_start_mib = rss_kib("VmRSS") / 1024
        if tracemalloc.is_tracing():
            tracemalloc.reset_peak()
            traced_start = tracemalloc.get_traced_memory()[0]
        queries, db_seconds, started = self.probe.queries, self.probe.seconds, time.perf_counter()
        self._phase = phase
        self.probe.shapes = phase.shapes
        try:
            yield phase
        finally:
            phase.seconds = time.perf_counter() - started
            self.probe.shapes = {}
            phase.queries = self.probe.queries - queries
            phase.db_seconds = self.probe.seconds - db_seconds
            phase.rss_peak_mib = rss_kib("VmHWM") / 1024
            if tracemalloc.is_tracing():
                phase.python_peak_mib = (tracemalloc.get_traced_memory()[1] - traced_start) / MIB
            self._phase = None
            self.phases.append(phase)

    def wrap(self, module: object, name: str, label: str | None = None, items: Callable | None = len) -> None:
        """Time every call of module.name (looked up at call time by its callers) within the current phase."""
        original = getattr(module, name)
        label = label or name

        def timed(*args, **kwargs):
            queries, db_seconds, started = self.probe.queries, self.probe.seconds, time.perf_counter()
            result = original(*args, **kwargs)
            if self._phase is not None:
                part = self._phase.parts.setdefault(label, Part())
                part.calls += 1
                part.seconds += time.perf_counter() - started
                part.queries += self.probe.queries - queries
                part.per_call_queries.append(self.probe.queries - queries)
                part.db_seconds += self.probe.seconds - db_seconds
                if items is not None:
                    part.items += items(result)
            return result

        setattr(module, name, timed)
        self._patches.append((module, name, original))
        self._labels.append(label)

    def declare(self, label: str) -> None:
        """Reserve a place in the report for a part timed with part()."""
        self._labels.append(label)

    @contextlib.contextmanager
    def part(self, label: str) -> Iterator[None]:
        """Time a block inside the current phase as one of its parts."""
        queries, db_seconds, started = self.probe.queries, self.probe.seconds, time.perf_counter()
        yield
        part = self._phase.parts.setdefault(label, Part())
        part.calls += 1
        part.seconds += time.perf_counter() - started
        part.queries += self.probe.queries - queries
        part.per_call_queries.append(self.probe.queries - queries)
        part.db_seconds += self.probe.seconds - db_seconds

    def unwrap(self) -> None:
        while self._patches:
            module, name, original = self._patches.pop()
            setattr(module, name, original)
        self._labels.clear()


# --- The benchmark -------------------------------------------------------------------------------


def machine() -> dict[str, str]:
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
    try:
        import django
        import redis
        from django.conf import settings

        redis_version = redis.Redis.from_url(settings.CELERY_BROKER_URL).info("server")["redis_version"]
    except Exception:
        redis_version = "n/a"
    return {
        "CPUs (nproc)": str(len(os.sched_getaffinity(0))),
        "CPU model": models[0] if models else platform.processor() or "unknown",
        "RAM": f"{int(mem[1]) / 1024 / 1024:.1f} GiB" if mem else "unknown",
        "database": database,
        "Redis": redis_version,
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "OS": f"{platform.system()} {platform.release()}",
    }


class Queue:
    """The Redis list(s) the send_emails tasks land in; counted, then emptied (no worker consumes them)."""

    def __init__(self) -> None:
        from django.conf import settings

        from config.celery import app

        self.name = app.conf.task_default_queue
        self.client = None
        if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            import redis

            self.client = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    def _keys(self) -> list[bytes]:
        if self.client is None:
            return []
        return [key for key in self.client.scan_iter(match=f"{self.name}*") if self.client.type(key) == b"list"]

    def length(self) -> int:
        return sum(self.client.llen(key) for key in self._keys()) if self.client else 0

    def purge(self) -> None:
        for key in self._keys():
            self.client.delete(key)


def reset_notifications() -> None:
    from django.db import connection

    from notifications.models import EmailDelivery, Notification

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE notifications_emaildelivery, notifications_notification RESTART IDENTITY")
    else:
        EmailDelivery.objects.all().delete()
        Notification.objects.all().delete()


def totals() -> dict[str, int]:
    from notifications.models import EmailDelivery, Notification

    return {"notifications": Notification.objects.count(), "e-mails": EmailDelivery.objects.count()}


def run_scan(bench: Bench, queue: Queue, name: str, on: dt.date) -> Phase:
    from notifications import outbox, scans, tasks

    before, queued_before = totals(), queue.length()
    for rule in ("due_soon", "overdue", "reviews_waiting", "handovers_due"):
        bench.wrap(scans, rule, f"rule {rule}")
    bench.wrap(outbox, "post", "outbox.post")
    bench.wrap(outbox, "render_email", "  of which render_email", items=lambda _: 1)
    bench.wrap(tasks, "queue_sending", "queue_sending (Redis)", items=lambda batches: batches)
    try:
        with bench.phase(name) as phase:
            queued = tasks.scan_reminders(on.isoformat())
    finally:
        bench.unwrap()
    after = totals()
    phase.counts = {
        "notifications": after["notifications"] - before["notifications"],
        "e-mails": after["e-mails"] - before["e-mails"],
        "e-mails queued": queued,
        "send tasks in Redis": queue.length() - queued_before,
    }
    return phase


def run_digest(bench: Bench, queue: Queue, on: dt.date) -> tuple[Phase, list[int]]:
    from django.conf import settings

    from notifications import digest, outbox, tasks

    before, queued_before = totals(), queue.length()
    delivery_ids: list[int] = []
    original_queue_sending = tasks.queue_sending

    def queue_and_remember(ids: list[int]) -> int:
        delivery_ids.extend(ids)
        return original_queue_sending(ids)

    tasks.queue_sending = queue_and_remember
    bench.declare("digest.recipients (query)")
    bench.wrap(tasks, "build_digests", "build_digests task (one per batch)", items=lambda n: n)
    bench.wrap(digest, "build", "digest.build")
    for helper in ("_load_readers", "_place_readers", "_add_projects", "_add_milestones", "_add_reviews"):
        bench.wrap(digest, helper, f"  of which {helper}", items=None)
    bench.wrap(outbox, "post", "outbox.post")
    bench.wrap(outbox, "render_email", "  of which render_email", items=lambda _: 1)
    bench.wrap(tasks, "queue_sending", "queue_sending (Redis)", items=lambda batches: batches)
    size = settings.NOTIFICATIONS_DIGEST_BATCH_SIZE
    try:
        with bench.phase("weekly digest: build + post + queue") as phase:
            with bench.part("digest.recipients (query)"):
                user_ids = list(digest.recipients(on).values_list("pk", flat=True))
            for start in range(0, len(user_ids), size):
                tasks.build_digests(user_ids[start : start + size], on.isoformat())
    finally:
        bench.unwrap()
        tasks.queue_sending = original_queue_sending
    after = totals()
    phase.counts = {
        "recipients": len(user_ids),
        "batches": -(-len(user_ids) // size),
        "notifications": after["notifications"] - before["notifications"],
        "e-mails": after["e-mails"] - before["e-mails"],
        "send tasks in Redis": queue.length() - queued_before,
    }
    return phase, delivery_ids


def run_send(bench: Bench, delivery_ids: list[int], sink: SmtpSink | None) -> Phase:
    from django.conf import settings

    from notifications import delivery

    original_get_connection = delivery.get_connection
    smtp = Part()

    def timed_connection(*args, **kwargs):
        connection = original_get_connection(*args, **kwargs)
        send_messages = connection.send_messages

        def timed_send(messages):
            started = time.perf_counter()
            try:
                return send_messages(messages)
            finally:
                smtp.calls += 1
                smtp.seconds += time.perf_counter() - started

        connection.send_messages = timed_send
        return connection

    delivery.get_connection = timed_connection
    bench.wrap(delivery, "claim", "delivery.claim", items=len)
    bench.wrap(delivery, "_finish", "delivery._finish (mark one sent)", items=None)
    size = settings.NOTIFICATIONS_EMAIL_BATCH_SIZE
    sent = failed = requeued = 0
    sink_before = sink.stats() if sink else None
    try:
        with bench.phase("weekly digest: send") as phase:
            for number, start in enumerate(range(0, len(delivery_ids), size)):
                result = delivery.send_batch(delivery_ids[start : start + size], claimant=f"bench-{number}")
                sent, failed, requeued = (
                    sent + len(result.sent),
                    failed + len(result.failed),
                    requeued + len(result.requeued),
                )
    finally:
        bench.unwrap()
        delivery.get_connection = original_get_connection
    phase.parts["backend send_messages (MIME+SMTP)"] = smtp
    phase.counts = {
        "e-mails": len(delivery_ids),
        "batches": -(-len(delivery_ids) // size),
        "sent": sent,
        "failed": failed,
        "requeued": requeued,
    }
    if sink:
        sink_after = sink.stats()
        phase.counts["accepted by sink"] = sink_after["messages"] - sink_before["messages"]
        phase.notes["mean e-mail size (bytes)"] = round(
            (sink_after["bytes"] - sink_before["bytes"]) / max(phase.counts["accepted by sink"], 1)
        )
    return phase


def all_phases(bench: Bench, queue: Queue, spec, sink: SmtpSink | None) -> None:
    scan_day = spec.as_of
    run_scan(bench, queue, "reminder scan (first run)", scan_day)
    run_scan(bench, queue, "reminder scan (re-run, same day)", scan_day)
    run_scan(bench, queue, "reminder scan (next day)", scan_day + dt.timedelta(days=1))
    _, delivery_ids = run_digest(bench, queue, digest_day(spec.as_of))
    run_send(bench, delivery_ids, sink)


def digest_day(as_of: dt.date) -> dt.date:
    from django.conf import settings

    return as_of - dt.timedelta(days=(as_of.weekday() - settings.NOTIFICATIONS_DIGEST_WEEKDAY) % 7)


# --- The digest with several worker processes, as Celery workers would run it --------------------

_WORKER_PROBE: QueryProbe | None = None


def _worker_init(on: dt.date) -> None:
    global _WORKER_PROBE
    from bench import generate

    generate.setup_django(migrate=False, verbose=False)
    from django.db import connection

    from notifications import digest, outbox
    from qi.models import User

    # Warm up like a worker that has run a task before: connection, templates, URL resolver.
    for user in User.objects.filter(is_active=True).order_by("pk")[:5]:
        for message in digest.build([user.pk], on):
            outbox.render_email(message, user)
    _WORKER_PROBE = QueryProbe()
    connection.execute_wrappers.append(_WORKER_PROBE)


def _worker_ready(_: int) -> int:
    time.sleep(0.3)
    return os.getpid()


def _worker_call(call: tuple) -> tuple[int, int, float, int]:
    """Run one task body; return (items, queries, seconds in the database, peak RSS in KiB)."""
    kind, ids, argument = call
    queries, db_seconds = _WORKER_PROBE.queries, _WORKER_PROBE.seconds
    if kind == "build":
        from notifications import tasks

        items = tasks.build_digests(ids, argument)
    else:
        from notifications import delivery

        items = len(delivery.send_batch(ids, claimant=argument).sent)
    return items, _WORKER_PROBE.queries - queries, _WORKER_PROBE.seconds - db_seconds, rss_kib("VmHWM")


def run_parallel_digest(workers: int, queue: Queue, on: dt.date) -> dict:
    """Build then send the weekly digest with `workers` processes taking one batch (task) at a time."""
    import multiprocessing

    from django.conf import settings

    from notifications import digest
    from notifications.models import EmailDelivery, Notification

    Notification.objects.filter(kind="digest").delete()
    queue.purge()
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_worker_init, initargs=(on,)) as pool:
        for _ in range(20):  # wait until every worker has set Django up
            if len(set(pool.map(_worker_ready, range(workers * 2), chunksize=1))) >= workers:
                break
        started = time.perf_counter()
        user_ids = list(digest.recipients(on).values_list("pk", flat=True))
        size = settings.NOTIFICATIONS_DIGEST_BATCH_SIZE
        builds = [("build", user_ids[i : i + size], on.isoformat()) for i in range(0, len(user_ids), size)]
        built = list(pool.imap_unordered(_worker_call, builds))
        build_seconds = time.perf_counter() - started
        delivery_ids = list(
            EmailDelivery.objects.filter(status=EmailDelivery.Status.QUEUED, notification__kind="digest")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        size = settings.NOTIFICATIONS_EMAIL_BATCH_SIZE
        sends = [("send", delivery_ids[i : i + size], f"bench-p{i}") for i in range(0, len(delivery_ids), size)]
        sent = list(pool.imap_unordered(_worker_call, sends))
        seconds = time.perf_counter() - started
    return {
        "workers": workers,
        "recipients": len(user_ids),
        "e-mails": sum(item[0] for item in built),
        "sent": sum(item[0] for item in sent),
        "build_seconds": round(build_seconds, 2),
        "send_seconds": round(seconds - build_seconds, 2),
        "seconds": round(seconds, 2),
        "queries_build": sum(item[1] for item in built),
        "queries_send": sum(item[1] for item in sent),
        "worker_peak_rss_mib": round(max(item[3] for item in built + sent) / 1024),
        "build_users_per_s": round(len(user_ids) / build_seconds),
        "users_per_s": round(len(user_ids) / seconds),
    }


# --- Reporting -----------------------------------------------------------------------------------


def median_runs(runs: list[list[Phase]]) -> tuple[list[Phase], dict[str, tuple[float, float]]]:
    """For each phase, the run with the median wall time, and the range over all runs."""
    chosen, spread = [], {}
    for position, phase in enumerate(runs[0]):
        same = sorted((run[position] for run in runs), key=lambda each: each.seconds)
        chosen.append(same[(len(same) - 1) // 2])
        spread[phase.name] = (same[0].seconds, same[-1].seconds)
    return chosen, spread


def report(
    runs: list[list[Phase]],
    traced: dict[str, Phase],
    parallel: dict | None,
    info: dict[str, str],
    data: dict[str, int],
    spec,
    top_queries: int,
) -> dict:
    from django.conf import settings

    timed, spread = median_runs(runs)
    lines = ["", "Machine"]
    lines += [f"  {key:<14} {value}" for key, value in info.items()]
    lines += ["", f"Data: {spec.organisation_name}"]
    lines += [f"  {key:<28} {value:>9,}" for key, value in data.items()]
    lines += [
        "",
        f"Settings: NOTIFICATIONS_DIGEST_BATCH_SIZE={settings.NOTIFICATIONS_DIGEST_BATCH_SIZE}, "
        f"NOTIFICATIONS_EMAIL_BATCH_SIZE={settings.NOTIFICATIONS_EMAIL_BATCH_SIZE}, "
        f"EMAIL_BACKEND={settings.EMAIL_BACKEND.rsplit('.', 2)[-2]}, DEBUG={settings.DEBUG}",
        f"Timed runs: {len(runs)} (each phase: the run with the median wall time; range over all runs)",
        "",
        f"{'phase':<38}{'wall s':>8}{'range s':>13}{'queries':>9}{'in DB s':>9}{'RSS start':>10}{'RSS peak':>10}"
        f"{'py peak':>9}  MiB",
    ]
    for phase in timed:
        py = traced.get(phase.name)
        py_peak = f"{py.python_peak_mib:9.1f}" if py and py.python_peak_mib is not None else f"{'-':>9}"
        low, high = spread[phase.name]
        lines.append(
            f"{phase.name:<38}{phase.seconds:8.2f}{f'{low:.2f}-{high:.2f}':>13}{phase.queries:9,}"
            f"{phase.db_seconds:9.2f}{phase.rss_start_mib:10.0f}{phase.rss_peak_mib:10.0f}{py_peak}"
        )
        for label, part in phase.parts.items():
            if not part.calls:
                continue
            per_call = ""
            if part.calls > 1 and part.per_call_queries and max(part.per_call_queries):
                per_call = f" (queries per call {min(part.per_call_queries)}-{max(part.per_call_queries)})"
            items = f", {part.items:,} items" if part.items else ""
            lines.append(
                f"    {label:<34}{part.seconds:8.2f}{'':>13}{part.queries:9,}{part.db_seconds:9.2f}"
                f"   {part.calls:,} calls{items}{per_call}"
            )
        counts = ", ".join(f"{key} {value:,}" for key, value in phase.counts.items())
        lines.append(f"    -> {counts}")
        for key, value in phase.notes.items():
            lines.append(f"    -> {key}: {value}")
        slowest = sorted(phase.shapes.items(), key=lambda item: -item[1][1])[:top_queries]
        for shape, (count, seconds) in slowest:
            lines.append(f"    sql {seconds:6.2f} s {count:6,}x  {shape[:100]}")
    by_name = {phase.name: phase for phase in timed}
    first = by_name["reminder scan (first run)"]
    build = by_name["weekly digest: build + post + queue"]
    send = by_name["weekly digest: send"]
    users = build.counts["recipients"]
    build_only = build.parts["digest.build"].seconds
    summary = {
        "scan_seconds": round(first.seconds, 2),
        "scan_queries": first.queries,
        "scan_messages": first.counts["notifications"],
        "rerun_seconds": round(by_name["reminder scan (re-run, same day)"].seconds, 2),
        "rerun_created": by_name["reminder scan (re-run, same day)"].counts["notifications"],
        "digest_recipients": users,
        "digest_emails": build.counts["e-mails"],
        "digest_build_users_per_s": round(users / build_only),
        "digest_build_post_users_per_s": round(users / build.seconds),
        "digest_build_send_users_per_s": round(users / (build.seconds + send.seconds)),
        "digest_send_emails_per_s": round(send.counts["e-mails"] / send.seconds) if send.seconds else 0,
        "digest_queries": build.queries,
        "digest_queries_per_batch": round(build.queries / max(build.counts["batches"], 1), 1),
        "send_queries": send.queries,
        "send_queries_per_email": round(send.queries / max(send.counts["e-mails"], 1), 2),
        "scan_peak_rss_mib": round(first.rss_peak_mib),
        "scan_python_peak_mib": round(traced[first.name].python_peak_mib, 1) if first.name in traced else None,
        "digest_peak_rss_mib": round(max(build.rss_peak_mib, send.rss_peak_mib)),
        "digest_python_peak_mib": round(traced[build.name].python_peak_mib, 1) if build.name in traced else None,
    }
    if parallel:
        summary["parallel"] = parallel
    lines += [
        "",
        "Summary",
        f"  reminder scan: {summary['scan_seconds']} s, {summary['scan_queries']} queries, "
        f"{summary['scan_messages']:,} notifications (goal < 5 s: {'met' if first.seconds < 5 else 'NOT met'}); "
        f"re-run {summary['rerun_seconds']} s, {summary['rerun_created']} created",
        f"  digest: {users:,} recipients, {summary['digest_emails']:,} e-mails; build only "
        f"{summary['digest_build_users_per_s']:,} users/s; build+post+queue "
        f"{summary['digest_build_post_users_per_s']:,} users/s; build+post+queue+send "
        f"{summary['digest_build_send_users_per_s']:,} users/s "
        f"(goal > 200: {'met' if summary['digest_build_send_users_per_s'] > 200 else 'NOT met'})",
        f"  digest queries: {summary['digest_queries']} for {build.counts['batches']} batches "
        f"({summary['digest_queries_per_batch']} per batch); send: {summary['send_queries']:,} queries "
        f"({summary['send_queries_per_email']} per e-mail)",
    ]
    if parallel:
        lines += [
            f"  with {parallel['workers']} worker processes (one batch per task, as Celery workers): "
            f"build {parallel['build_seconds']} s ({parallel['build_users_per_s']:,} users/s), build+send "
            f"{parallel['seconds']} s ({parallel['users_per_s']:,} users/s, goal > 200: "
            f"{'met' if parallel['users_per_s'] > 200 else 'NOT met'}); {parallel['sent']:,} sent; "
            f"queries build {parallel['queries_build']:,}, send {parallel['queries_send']:,}; "
            f"peak RSS per worker {parallel['worker_peak_rss_mib']} MiB",
        ]
    print("\n".join(lines))
    return summary


def to_json(phase: Phase) -> dict:
    return {
        "name": phase.name,
        "seconds": round(phase.seconds, 3),
        "queries": phase.queries,
        "db_seconds": round(phase.db_seconds, 3),
        "rss_start_mib": round(phase.rss_start_mib, 1),
        "rss_peak_mib": round(phase.rss_peak_mib, 1),
        "counts": phase.counts,
        "notes": phase.notes,
        "slowest_statements": [
            {"sql": shape, "count": count, "seconds": round(seconds, 3)}
            for shape, (count, seconds) in sorted(phase.shapes.items(), key=lambda item: -item[1][1])[:10]
        ],
        "parts": {
            label: {
                "calls": part.calls,
                "seconds": round(part.seconds, 3),
                "queries": part.queries,
                "db_seconds": round(part.db_seconds, 3),
                "items": part.items,
                "queries_per_call": sorted(set(part.per_call_queries)),
            }
            for label, part in phase.parts.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the reminder scan and the weekly digest.")
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--milestones", type=int, default=200_000)
    parser.add_argument("--departments", type=int, default=0, help="default: users / 125, from 8 to 200")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=None,
        help="the scan date, a Monday; default: the generated data's (last Monday when generating)",
    )
    parser.add_argument("--regenerate", action="store_true", help="wipe the database and generate the data again")
    parser.add_argument("--email", choices=["smtp", "file"], default="smtp", help="SMTP sink (default) or files")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs; each phase reports the median")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the memory pass (tracemalloc)")
    parser.add_argument(
        "--workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="also run the digest with this many worker processes (default: nproc; 0 or 1: skip)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--top-queries", type=int, default=3, help="slowest statement shapes shown per phase")
    parser.add_argument("--smtp-sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smtp_sink:
        run_smtp_sink()
        return

    sink = None
    mail_dir = None
    if args.email == "smtp":
        sink = SmtpSink()
        os.environ.update(EMAIL_BACKEND="smtp", EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(sink.port))
        os.environ.update(EMAIL_USE_TLS="false", EMAIL_USE_SSL="false", EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="")
    else:
        mail_dir = tempfile.mkdtemp(prefix="qi-bench-mail-")
        os.environ.update(EMAIL_BACKEND="file", EMAIL_FILE_PATH=mail_dir)
    os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", "qi-bench")  # honoured where settings read it
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    try:
        from bench import generate

        generate.setup_django()
        from django.db import connection

        if connection.vendor != "postgresql":
            print(f"Warning: the database is {connection.vendor}, not PostgreSQL; figures are not comparable.")
        spec = generate.Spec(
            users=args.users,
            milestones=args.milestones,
            departments=args.departments,
            seed=args.seed,
            as_of=args.as_of,
        )
        started = time.perf_counter()
        spec = generate.ensure(spec, regenerate=args.regenerate)
        print(f"Data ready in {time.perf_counter() - started:.1f} s")
        data = generate.describe(spec.as_of)
        info = machine()
        queue = Queue()
        probe = QueryProbe()
        load_before = os.getloadavg()
        with connection.execute_wrapper(probe):
            runs = []
            for _ in range(args.repeat):
                reset_notifications()
                queue.purge()
                timed = Bench(probe)
                all_phases(timed, queue, spec, sink)
                runs.append(timed.phases)
            traced: dict[str, Phase] = {}
            if not args.no_tracemalloc:
                reset_notifications()
                queue.purge()
                memory = Bench(probe)
                tracemalloc.start()
                try:
                    all_phases(memory, queue, spec, sink)
                finally:
                    tracemalloc.stop()
                traced = {phase.name: phase for phase in memory.phases}
            queued = queue.length()
            parallel = None
            if args.workers > 1:
                parallel = run_parallel_digest(args.workers, queue, digest_day(spec.as_of))
            queue.purge()
        info["load average"] = (
            f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after (1 min; other processes share the machine)"
        )
        summary = report(runs, traced, parallel, info, data, spec, args.top_queries)
        print(f"  ({queued:,} send_emails tasks were left in Redis queue {queue.name!r} and purged; no worker ran)")
        if args.json:
            figures = {
                "machine": info,
                "data": {"spec": spec.organisation_name, **data},
                "runs": len(runs),
                "phases": [to_json(phase) for phase in median_runs(runs)[0]],
                "python_peak_mib": {name: round(p.python_peak_mib or 0, 1) for name, p in traced.items()},
                "summary": summary,
            }
            args.json.write_text(json.dumps(figures, indent=2, default=str))
            print(f"Figures written to {args.json}")
    finally:
        if sink:
            sink.stop()
        if mail_dir:
            shutil.rmtree(mail_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
