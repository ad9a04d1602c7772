"""Run a real Celery worker in a subprocess for integration tests, and read the e-mails it sends.

The worker uses the test database, a Redis database of its own (15), a queue of its own (so
neither its tasks nor the ones it queues itself meet anyone else's) and the file e-mail
backend writing into a temporary directory. It runs in its own process group, so a test can
kill it (pool children included) with SIGKILL the way an operating system or an orchestrator
would. ``Workers`` starts them, sends them tasks over an explicit broker connection, waits for
what they do, and removes every worker, queue and unacknowledged message when the test ends.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.db import connection

from config.celery import app

BASE_DIR = Path(settings.BASE_DIR)
WORKER_REDIS_DB = 15  # away from the suite's and the developer's own broker database
READY_SECONDS = 60
# The file e-mail backend ends each message with a line of 79 dashes.
MESSAGE_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def unavailable_reason() -> str | None:
    """Why the worker tests cannot run here, or None when PostgreSQL and Redis are configured."""
    if connection.vendor != "postgresql":
        return f"needs PostgreSQL (DATABASE_URL), the tests use {connection.vendor}"
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        return f"needs a redis:// CELERY_BROKER_URL, got {settings.CELERY_BROKER_URL.split('://')[0]}://"
    return None


def worker_broker_url() -> str:
    """The configured Redis server, but database 15."""
    parts = urlsplit(settings.CELERY_BROKER_URL)
    return urlunsplit(parts._replace(path=f"/{WORKER_REDIS_DB}"))


def worker_database_url() -> str:
    """A DATABASE_URL for the database this test session runs on (the test database, not the real one)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, *, every: float = 0.05, log=None) -> Any:
    """Poll until predicate() is truthy and return it; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = f"\n--- worker log (tail) ---\n{log()}" if log else ""
            raise AssertionError(f"Timed out after {timeout:.0f}s waiting for {what}.{tail}")
        time.sleep(every)


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log_path: Path

    def log(self, tail: int = 4000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-tail:]

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once: no warm shutdown, no acknowledgements."""
        if self.alive:  # not yet reaped, so its process group id cannot belong to anyone else
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        """Ask for a warm shutdown; kill the process group if it takes too long."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=timeout)
        self.kill()  # if the warm shutdown took too long


@dataclass
class Workers:
    """Workers of one test: one queue, one Redis database, one directory of sent e-mails."""

    tmp_path: Path
    queue: str = field(default_factory=lambda: f"qi-test-{uuid.uuid4().hex[:12]}")
    broker_url: str = field(default_factory=worker_broker_url)
    started: list[Worker] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.mail_dir = self.tmp_path / "mail"
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self.connection = app.connection_for_write(self.broker_url)
        self._eager = app.conf.task_always_eager

    # --- workers ---------------------------------------------------------------------------------

    def start(self, **env: str | int) -> Worker:
        """Start a worker on this test's queue and wait until it consumes; env overrides settings."""
        app.conf.task_always_eager = False  # from now on tasks go to the real worker, never in-process
        number = len(self.started) + 1
        name = f"{self.queue}-{number}"
        log_path = self.tmp_path / f"worker-{number}.log"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_VISIBILITY_TIMEOUT": "3",
            "EMAIL_BACKEND": "file",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "QI_VAR_DIR": str(self.tmp_path / "var"),
            "PYTHONUNBUFFERED": "1",
            **{key: str(value) for key, value in env.items()},
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency=1",
            "--prefetch-multiplier=1",
            "--pool=prefork",
            "-Q",
            self.queue,
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        ]
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so killpg reaches the pool children
            )
        worker = Worker(name=name, process=process, log_path=log_path)
        self.started.append(worker)

        def ready() -> bool:
            if not worker.alive:
                raise AssertionError(f"The worker exited with {process.returncode}:\n{worker.log()}")
            return f"{name}@" in worker.log(tail=100_000) and " ready." in worker.log()

        wait_until(ready, READY_SECONDS, f"worker {name} to be ready", every=0.1, log=worker.log)
        return worker

    def log(self) -> str:
        return "\n".join(f"=== {w.name} ===\n{w.log()}" for w in self.started)

    # --- tasks -----------------------------------------------------------------------------------

    def send(self, task, *args: Any, **kwargs: Any) -> str:
        """Publish a task to this test's queue; return its id."""
        result = task.apply_async(args, kwargs, queue=self.queue, connection=self.connection)
        return result.id

    def task_finished(self, task_id: str) -> str | None:
        """The worker's log line for this task's end ('succeeded in ...: result'), once it has one."""
        for worker in self.started:
            match = re.search(rf"\[{re.escape(task_id)}\] (succeeded|raised|retry)[^\n]*", worker.log(tail=10_000_000))
            if match:
                return match.group(0)
        return None

    def wait_for_task(self, task_id: str, timeout: float = 30) -> str:
        line = wait_until(lambda: self.task_finished(task_id), timeout, f"task {task_id} to finish", log=self.log)
        assert " succeeded " in line, f"task {task_id} did not succeed: {line}\n{self.log()}"
        return line

    def _settled(self) -> bool:
        channel = self.connection.default_channel
        client = channel.client
        if client.llen(self.queue):
            return False
        if any(self.queue.encode() in payload for payload in client.hvals(channel.unacked_key)):
            return False
        received, finished = set(), set()
        for worker in self.started:
            text = worker.log(tail=10_000_000)
            received |= set(re.findall(r"\[([0-9a-f-]{36})\] received", text))
            finished |= set(re.findall(r"\[([0-9a-f-]{36})\] (?:succeeded|raised)", text))
        # A task a killed worker had received comes back (same id) and finishes on the next worker.
        return received <= finished

    def idle(self) -> bool:
        """True when the queue is empty and nothing is being worked on (checked twice, 0.2 s apart)."""
        if not self._settled():
            return False
        time.sleep(0.2)
        return self._settled()

    def wait(self, predicate: Callable[[], Any], what: str, timeout: float = 30, every: float = 0.05) -> Any:
        return wait_until(predicate, timeout, what, every=every, log=self.log)

    # --- e-mails ---------------------------------------------------------------------------------

    def emails(self) -> list[EmailMessage]:
        """Every e-mail the workers wrote, in no particular order (a message cut off by a kill included)."""
        messages = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_bytes().split(MESSAGE_SEPARATOR):
                if chunk.strip():
                    messages.append(email.message_from_bytes(chunk, policy=email.policy.default))
        return messages

    def deliveries(self) -> Counter:
        """How many times each notification id was e-mailed (from the X-QI-Notification header)."""
        return Counter(int(message["X-QI-Notification"]) for message in self.emails())

    # --- clean-up --------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every worker, then remove this test's queue, bindings and unacknowledged messages."""
        errors = []
        for worker in self.started:
            try:
                worker.stop()
            except Exception as exc:  # stop the others all the same
                errors.append(exc)
        app.conf.task_always_eager = self._eager
        try:
            self._purge()
        finally:
            self.connection.release()
        if errors:
            raise errors[0]

    def _purge(self) -> None:
        channel = self.connection.default_channel
        channel.queue_purge(self.queue)
        client = channel.client
        # Messages a killed worker never acknowledged wait in a hash shared by the whole database.
        for tag, payload in client.hgetall(channel.unacked_key).items():
            if self.queue.encode() in payload:
                client.zrem(channel.unacked_index_key, tag)
                client.hdel(channel.unacked_key, tag)
        client.delete(f"_kombu.binding.{self.queue}", f"_kombu.binding_permanent.{self.queue}")
        pidbox = "_kombu.binding.celery.pidbox"
        for member in client.smembers(pidbox):
            if self.queue.encode() in member:
                client.srem(pidbox, member)
