"""Real processes for the delivery fault tests and the send benchmark: an SMTP sink, a private
redis-server, Celery worker subprocesses, set-based contacts and an email item ready to launch.

The sink runs in its own process (`python -m tests.delivery.faults sink LOG`), so its parsing never
takes the GIL from the process being measured; it writes one line per message received (receive
time, X-Ensemble-Delivery, Message-ID, first recipient) and flushes it, so a reader always sees
whole messages."""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from kombu import pools as kombu_pools

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


class UnavailableError(RuntimeError):
    """A helper process (the sink, redis-server) could not start on this machine."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url(name: str, base: str | None = None) -> str:
    """`base` (default: $DATABASE_URL) pointing at the database `name` instead."""
    parts = urlsplit(base or os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ensemble"))
    return parts._replace(path=f"/{name}").geturl()


# --- Process trees and their memory -----------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += _children(current)
    return tree


def peak_rss_mb(pid: int) -> float | None:
    """The process's high-water mark of resident memory (VmHWM), in MB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def tree_peak_rss(pid: int) -> dict[int, float]:
    return {p: rss for p in process_tree(pid) if (rss := peak_rss_mb(p)) is not None}


def stop_process(process: subprocess.Popen[Any] | None, *, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL it if it lingers."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _read_line(stream: IO[bytes], timeout: float) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline().decode().strip() if ready else ""


# --- The SMTP sink -------------------------------------------------------------------------------------

_HEADER = {
    name: re.compile(rb"^" + name + rb":[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
    for name in (b"X-Ensemble-Delivery", b"Message-ID")
}


def _header(head: bytes, name: bytes) -> str:
    found = _HEADER[name].search(head)
    return b" ".join(found.group(1).split()).decode("ascii", "replace") if found else ""


def run_sink(log_path: str) -> None:  # pragma: no cover - runs in the sink's own process
    """Accept every message on 127.0.0.1 (a free port, printed on stdout), discard it, log it."""
    import asyncio

    from aiosmtpd.smtp import SMTP

    log = Path(log_path).open("a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the process's life

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
            head = envelope.content.split(b"\r\n\r\n", 1)[0]
            delivery = _header(head, b"X-Ensemble-Delivery")
            message_id = _header(head, b"Message-ID")
            rcpt = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
            log.write(f"{time.time():.6f}\t{delivery}\t{message_id}\t{rcpt}\n")
            return "250 OK"

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        handler = Handler()
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="sink.localhost", enable_SMTPUTF8=True, data_size_limit=None),
            "127.0.0.1",
            0,
        )
        sys.stdout.write(f"{server.sockets[0].getsockname()[1]}\n")
        sys.stdout.flush()
        await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


@dataclass
class Received:
    at: float
    delivery: str
    message_id: str
    rcpt: str


@dataclass
class SmtpSink:
    """The sink process and what it received so far (read incrementally from its log)."""

    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    _offset: int = 0
    _lines: int = 0

    def start(self, timeout: float = 20.0) -> SmtpSink:
        self.log_path.write_text("")
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter, our module
            [PYTHON, "-m", "tests.delivery.faults", "sink", str(self.log_path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        line = _read_line(self.process.stdout, timeout)
        if not line.isdigit():
            self.stop()
            raise UnavailableError(f"the SMTP sink did not start (aiosmtpd installed?): {line!r}")
        self.port = int(line)
        return self

    @property
    def email_url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def count(self) -> int:
        """Messages received so far (counts lines only: cheap enough to poll)."""
        with self.log_path.open("rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read()
        complete = chunk.rfind(b"\n") + 1
        self._lines += chunk.count(b"\n", 0, complete)
        self._offset += complete
        return self._lines

    def received(self) -> list[Received]:
        with self.log_path.open(encoding="utf-8") as handle:
            lines = [line.rstrip("\n").split("\t") for line in handle if line.endswith("\n")]
        return [Received(float(at), delivery, mid, rcpt) for at, delivery, mid, rcpt in lines]

    def per_delivery(self) -> Counter[str]:
        return Counter(message.delivery for message in self.received())

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=5)
            if self.process.stdout is not None:
                self.process.stdout.close()


# --- A private redis-server ---------------------------------------------------------------------------


@dataclass
class RedisServer:
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.port = self.port or free_port()
        executable = shutil.which("redis-server")
        if executable is None:
            raise UnavailableError("redis-server is not installed")
        try:
            self.process = subprocess.Popen(  # noqa: S603
                [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--loglevel", "warning"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        except OSError as error:
            raise UnavailableError(f"redis-server did not start: {error}") from error
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise UnavailableError(f"redis-server did not answer on port {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart(self) -> None:
        """A crash and a fresh start on the same port: every queued task is gone."""
        self.kill()
        self.start()

    def stop(self) -> None:
        stop_process(self.process, grace=5)


@contextlib.contextmanager
def broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (what `.delay()` publishes to) at `url` for a while."""
    from config.celery import app

    def reset_pools() -> None:
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
        # kombu keeps producer pools in a registry of its own, keyed by broker URL: a later test
        # publishing to the same URL would get the closed one back ("Acquire on closed pool").
        kombu_pools.reset()

    # Celery reads $CELERY_BROKER_URL before its configuration: override both, restore both.
    previous, previous_env = app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")
    reset_pools()
    app.conf.broker_url = os.environ["CELERY_BROKER_URL"] = url
    try:
        yield
    finally:
        reset_pools()
        app.conf.broker_url = previous
        if previous_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous_env


# --- Celery workers -----------------------------------------------------------------------------------


@dataclass
class Worker:
    """`celery -A config worker -c 2` in its own process group (a kill takes its pool children)."""

    env: dict[str, str]
    log_path: Path
    concurrency: int = 2
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    peaks: dict[int, float] = field(default_factory=dict)
    _log: IO[bytes] | None = None
    _log_start: int = 0

    def start(self) -> Worker:
        self.starts += 1
        self._log = self.log_path.open("ab")
        self._log_start = self.log_path.stat().st_size
        self.process = subprocess.Popen(  # noqa: S603
            [PYTHON, "-m", "celery", "-A", "config", "worker", "-c", str(self.concurrency), "-P", "prefork",
             "-l", "info", "-n", f"w{self.starts}-{os.getpid()}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat", *self.extra_args],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.log_path.open("rb") as handle:
                handle.seek(self._log_start)
                if b" ready." in handle.read():
                    return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the worker did not start:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def record_peaks(self) -> None:
        if self.process is not None and self.process.poll() is None:
            for pid, rss in tree_peak_rss(self.process.pid).items():
                self.peaks[pid] = max(rss, self.peaks.get(pid, 0.0))

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its pool children, at once."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._close_log()

    def stop(self) -> None:
        self.record_peaks()
        stop_process(self.process)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def worker_env(*, database_url: str, broker_url: str, email_url: str, **settings: object) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "COV_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        EMAIL_URL=email_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("CACHE_URL", "locmemcache://")
    env.update({key: str(value) for key, value in settings.items()})
    return env


# --- Data: contacts set-based, an email item -------------------------------------------------------------

SUBJECT = "{{ first_name }}, spring is here"
BODY_HTML = (
    "<h1>Hello {{ first_name }} {{ last_name }}!</h1>"
    "<p>Our spring collection is in. As a customer with {{ orders_count }} orders, you get early "
    'access: <a href="https://shop.example.com/spring?src=mail">see the collection</a>.</p>'
    '<p>Or visit <a href="https://shop.example.com/stores">a store near {{ city }}</a>.</p>'
)
BODY_TEXT = (
    "Hello {{ first_name }} {{ last_name }}!\n\nOur spring collection is in. As a customer with "
    "{{ orders_count }} orders, you get early access: https://shop.example.com/spring?src=mail\n"
)
FIRST = ["Anna", "Ben", "Clara", "David", "Elif", "Finn", "Greta", "Hannes", "Ida", "Jonas", "Lea", "Mats"]
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"]
CITIES = ["Berlin", "Hamburg", "München", "Köln", "Leipzig"]


def make_contacts(*, workspace: Any, count: int, domain: str = "example.com") -> int:
    """`count` opted-in contacts in Germany, person<n>@domain, inserted in one statement by copying
    a template row (so every NOT NULL column gets the model's default without listing them here)."""
    from django.db import connection

    from apps.contacts.models import Contact

    template = Contact.objects.create(
        workspace=workspace, email="template@template.invalid", email_normalized="template@template.invalid",
        first_name="T", country="DE", city="Berlin", email_consent="opted_in", timezone="Europe/Berlin",
    )  # fmt: skip
    overrides = {
        "email": "'person' || g || '@' || %(domain)s",
        "email_normalized": "'person' || g || '@' || %(domain)s",
        "first_name": "(%(first)s::text[])[1 + g %% %(n_first)s]",
        "last_name": "(%(last)s::text[])[1 + g %% %(n_last)s]",
        "city": "(%(cities)s::text[])[1 + g %% %(n_cities)s]",
        "orders_count": "g %% 40",
    }
    columns = [f.column for f in Contact._meta.concrete_fields if f.column != "id"]
    select_list = ", ".join(overrides.get(column, f't."{column}"') for column in columns)
    table = Contact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(map(connection.ops.quote_name, columns))}) "  # noqa: S608
            f"SELECT {select_list} FROM {table} t CROSS JOIN generate_series(1, %(count)s) g "
            "WHERE t.id = %(template)s",
            {
                "domain": domain, "count": count, "template": template.id, "first": FIRST, "last": LAST,
                "cities": CITIES, "n_first": len(FIRST), "n_last": len(LAST), "n_cities": len(CITIES),
            },
        )  # fmt: skip
        inserted = cursor.rowcount
    template.delete()
    return inserted


@dataclass
class Send:
    workspace: Any
    owner: Any
    item: Any


def make_send(*, count: int, slug: str = "faults", throttle_per_minute: int = 1_000_000) -> Send:
    """A workspace with `count` opted-in contacts and a scheduled (due) email item to all of them,
    with merge tags and links (tracked clicks, the open pixel and the unsubscribe headers)."""
    from apps.accounts.models import User
    from apps.campaigns import services as campaign_services
    from apps.core.roles import Role
    from apps.segments import services as segment_services
    from apps.workspaces import services as workspace_services

    owner, _ = User.objects.get_or_create(email=f"owner@{slug}.example")
    workspace = workspace_services.workspace_create(
        name=slug.title(), slug=slug, owner=owner, with_standard_teams=False
    )
    workspace.postal_address = "Acme Outdoor GmbH, Torstraße 1, 10119 Berlin"
    workspace.save(update_fields=["postal_address"])
    make_contacts(workspace=workspace, count=count)
    segment = segment_services.segment_create(
        workspace=workspace, name="Germany", rules={"field": "country", "op": "eq", "value": "DE"}
    )
    campaign = campaign_services.campaign_create(workspace=workspace, name="Spring launch")
    item = campaign_services.item_create(
        campaign=campaign, channel="email", name="Spring email", subject=SUBJECT, body_html=BODY_HTML,
        body_text=BODY_TEXT, from_email="shop@acme.example", from_name="Acme Outdoor", segments=[segment],
        throttle_per_minute=throttle_per_minute,
    )  # fmt: skip
    item = campaign_services.item_schedule(item=item, actor=owner, actor_role=Role.ADMIN)
    return Send(workspace=workspace, owner=owner, item=item)


def open_rows(item_id: int) -> int:
    from apps.delivery.choices import OPEN
    from apps.delivery.models import Delivery

    return Delivery.objects.filter(item_id=item_id, status__in=OPEN).count()


if __name__ == "__main__" and sys.argv[1:2] == ["sink"]:
    run_sink(sys.argv[2])
