"""Sending email: Ensemble's whole pipeline against plain Django, a bare Celery fan-out and the wire.

    .venv/bin/python benchmarks/send_bench.py [--recipients N] [--single-process-messages M]
    .venv/bin/python benchmarks/send_bench.py --freeze-only 1000000

Needs PostgreSQL and Redis. The database (default postgres://postgres@127.0.0.1:5432/ensemble_send_bench;
$SEND_BENCH_DATABASE_URL, or $DATABASE_URL when its name contains "bench") is dropped, created and
migrated at the start of each run; to guard against mistakes its name must contain "bench". The
broker is $SEND_BENCH_BROKER_URL (default redis://127.0.0.1:6379/11, a spare database, flushed).

N (default 100,000) opted-in contacts get the same personalised email (merge tags, two links, the
open pixel, footer, List-Unsubscribe headers) through a local SMTP sink (aiosmtpd in its own
process, counting and discarding):
  (a0) the ceiling: raw smtplib sending pre-built bytes over one connection (build time excluded);
  (a)  Django's SMTP backend, one process, one reused connection, building each message
       (EmailMultiAlternatives: Python's email package builds the MIME tree);
  (b)  a bare Celery fan-out: `celery -A config worker -c 2 -P prefork`, batches of 500, no ledger
       (benchmarks/sendkit.py's task renders and sends through Django's SMTP backend);
  (c)  Ensemble: launch (compare-and-set + freeze into the ledger), then 2 worker processes run
       `delivery.deliver_item` (claims, re-checks, render, tracking, headers, the ledger) until no
       row is open. Its rate counts the freeze too. Each process hands over in
       DELIVERY_SEND_LANES threads (default 3; set it to 1 to measure one lane per process).
(a0) and (a) are single-process steady states: they send min(N, M) messages (M default 20,000;
0 for all N). `--freeze-only N` only times the freeze of N recipients. The figures come last.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import smtplib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from tests.delivery.faults import SmtpSink, Worker, database_url, worker_env  # noqa: E402

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/ensemble_send_bench"
BATCH = 500
figures: list[str] = []


def bench_database_url() -> str:
    chosen = os.environ.get("SEND_BENCH_DATABASE_URL")
    if not chosen:
        current = os.environ.get("DATABASE_URL", "")
        chosen = current if "bench" in urlsplit(current).path else ""
    if not chosen:
        chosen = database_url("ensemble_send_bench", os.environ.get("DATABASE_URL") or DEFAULT_DATABASE)
    return chosen


def reset_database(url: str) -> None:
    """Drop and create the benchmark's database (before Django connects to it)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql", "pgsql") or "bench" not in name:
        raise SystemExit(f"send_bench: refusing to reset {name!r}: it must be PostgreSQL, named *bench*.")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def self_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_line(label: str, peaks: dict[int, float]) -> str:
    """Peak RSS per process; for a worker its main process (lowest pid) first, then its pool."""
    parts = ", ".join(f"{rss:.0f}" for _pid, rss in sorted(peaks.items()))
    return f"  peak RSS {label}: {parts} MB"


def chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- The measurements -------------------------------------------------------------------------------


def raw_smtp(sink: SmtpSink, ids: list[int]) -> tuple[int, float]:
    """(a0): bytes built beforehand (a chunk at a time, not timed), sent over one connection."""
    from sendkit import FROM, Templates, contacts_by_id

    templates = Templates()
    sent, elapsed = 0, 0.0
    client = smtplib.SMTP("127.0.0.1", sink.port)
    try:
        for chunk in chunks(ids, 2000):
            built = [
                (contact["email_normalized"], templates.build(contact).message().as_bytes(linesep="\r\n"))
                for contact in contacts_by_id(chunk)
            ]
            start = time.perf_counter()
            for to, data in built:
                client.sendmail(FROM, [to], data)
            elapsed += time.perf_counter() - start
            sent += len(built)
    finally:
        client.quit()
    return sent, elapsed


def django_smtp(ids: list[int]) -> tuple[int, float]:
    """(a): render, build and send each message through Django's SMTP backend, one connection."""
    from sendkit import Templates, contacts_by_id, smtp_connection

    templates = Templates()
    sent = 0
    start = time.perf_counter()
    with smtp_connection() as connection:
        for chunk in chunks(ids, 2000):
            sent += connection.send_messages([templates.build(c) for c in contacts_by_id(chunk)]) or 0
    return sent, time.perf_counter() - start


def wait_for(condition: Any, worker: Worker, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        worker.record_peaks()
        if worker.process is not None and worker.process.poll() is not None:
            raise RuntimeError(f"the worker died during {what}:\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not finish in {timeout:.0f} s:\n{worker.log_tail()}")
        time.sleep(0.2)


def celery_fanout(
    sink: SmtpSink, ids: list[int], env: dict[str, str], log: Path
) -> tuple[int, float, Worker]:
    """(b): 2 prefork processes, tasks of 500 contacts each, counted at the sink."""
    from config.celery import app

    worker_env_b = {**env, "PYTHONPATH": os.pathsep.join([str(ROOT / "benchmarks"), str(ROOT)])}
    worker = Worker(env=worker_env_b, log_path=log, extra_args=("-I", "sendkit"))
    try:
        worker.start().wait_ready()
        before = sink.count()
        start = time.perf_counter()
        for chunk in chunks(ids, BATCH):
            app.send_task("bench.send_batch", args=[chunk[0], chunk[-1]])
        wait_for(lambda: sink.count() - before >= len(ids), worker, 3600, "the Celery fan-out")
        elapsed = time.perf_counter() - start
    finally:
        worker.stop()
    return sink.count() - before, elapsed, worker


def pipeline(sink: SmtpSink, item_id: int, env: dict[str, str], log: Path) -> tuple[dict[str, float], Worker]:
    """(c): launch (timed, the freeze separately), then workers until no ledger row is open."""
    from apps.delivery import engine
    from apps.delivery.choices import DeliveryStatus
    from apps.delivery.models import Delivery
    from tests.delivery.faults import open_rows

    timings: dict[str, float] = {}
    freeze = engine.freeze

    def timed_freeze(**kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return freeze(**kwargs)
        finally:
            timings["freeze"] = time.perf_counter() - start

    worker = Worker(env=env, log_path=log)
    try:
        worker.start().wait_ready()
        before = sink.count()
        engine.freeze = timed_freeze
        start = time.perf_counter()
        launched = engine.launch_due_items()
        timings["launch"] = time.perf_counter() - start
        engine.freeze = freeze
        if launched != [item_id]:
            raise RuntimeError(f"expected to launch item {item_id}, launched {launched}")
        wait_for(lambda: open_rows(item_id) == 0, worker, 3600, "Ensemble's pipeline")
        timings["total"] = time.perf_counter() - start
    finally:
        engine.freeze = freeze
        worker.stop()
    rows = Delivery.objects.filter(item_id=item_id)
    timings["sent"] = rows.filter(status=DeliveryStatus.SENT).count()
    timings["not_sent"] = rows.exclude(status=DeliveryStatus.SENT).count()
    timings["received"] = sink.count() - before
    return timings, worker


# --- Orchestration ---------------------------------------------------------------------------------------


def setup_django(url: str, broker: str, email_url: str) -> None:
    os.environ.update(DATABASE_URL=url, CELERY_BROKER_URL=broker, EMAIL_URL=email_url)
    os.environ.setdefault("CACHE_URL", "locmemcache://")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def flush_broker(broker: str) -> None:
    import redis

    client = redis.Redis.from_url(broker)
    try:
        client.flushdb()
    finally:
        client.close()


def freeze_only(count: int, url: str, broker: str) -> None:
    setup_django(url, broker, "consolemail://")
    from apps.delivery import engine
    from tests.delivery.faults import make_send

    start = time.perf_counter()
    send = make_send(count=count, slug="freeze-bench")
    figures.append(f"setup: {count:,} contacts, segment and item in {time.perf_counter() - start:.1f} s")
    engine.enqueue_workers = lambda _item_id: None  # nobody sends: only the launch is measured
    freeze = engine.freeze
    timings: dict[str, float] = {}

    def timed_freeze(**kwargs: Any) -> Any:
        begin = time.perf_counter()
        try:
            return freeze(**kwargs)
        finally:
            timings["freeze"] = time.perf_counter() - begin

    engine.freeze = timed_freeze
    start = time.perf_counter()
    launched = engine.launch_due_items()
    launch = time.perf_counter() - start
    from apps.delivery.models import Launch

    counts = Launch.objects.get(item=send.item).counts
    figures.append(f"launched {launched}: ledger {counts}")
    figures.append(
        f"freeze of {count:,} recipients: {timings['freeze']:.2f} s "
        f"({rate(count, timings['freeze']):,.0f} rows/s); whole launch {launch:.2f} s (target: 1,000,000 < 20 s)"
    )
    figures.append(f"peak RSS of this process: {self_peak_mb():.0f} MB")


def full(count: int, single: int, url: str, broker: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="send_bench-"))
    sink = SmtpSink(log_path=work / "sink.log")
    try:
        sink.start()
        setup_django(url, broker, sink.email_url)
        flush_broker(broker)
        from apps.contacts.models import Contact
        from tests.delivery.faults import make_send

        start = time.perf_counter()
        send = make_send(count=count, slug="send-bench", throttle_per_minute=100_000_000)
        ids = list(
            Contact.objects.filter(workspace=send.workspace).order_by("id").values_list("id", flat=True)
        )
        figures.append(
            f"setup: {len(ids):,} contacts, segment and item in {time.perf_counter() - start:.1f} s"
        )
        sample = ids[: single or len(ids)]

        sent_a0, seconds_a0 = raw_smtp(sink, sample)
        figures.append(f"(a0) raw smtplib, pre-built bytes: {sent_a0:,} in {seconds_a0:.1f} s")
        sent_a, seconds_a = django_smtp(sample)
        figures.append(f"(a)  Django SMTP backend, 1 process: {sent_a:,} in {seconds_a:.1f} s")

        env = worker_env(database_url=url, broker_url=broker, email_url=sink.email_url)
        sent_b, seconds_b, worker_b = celery_fanout(sink, ids, env, work / "worker-b.log")
        figures.append(f"(b)  bare Celery fan-out, 2 processes: {sent_b:,} in {seconds_b:.1f} s")
        flush_broker(broker)
        timings, worker_c = pipeline(sink, send.item.id, env, work / "worker-c.log")
        sent_c = int(timings["sent"])
        from django.conf import settings

        figures.append(
            f"(c)  Ensemble, 2 processes of {settings.DELIVERY_SEND_LANES} lanes: {sent_c:,} sent ({int(timings['not_sent'])} not), "
            f"{int(timings['received']):,} received, in {timings['total']:.1f} s "
            f"(launch {timings['launch']:.2f} s, of which freeze {timings['freeze']:.2f} s; "
            f"sending alone {rate(sent_c, timings['total'] - timings['launch']):,.0f} messages/s)"
        )
        r_a0, r_a, r_b = rate(sent_a0, seconds_a0), rate(sent_a, seconds_a), rate(sent_b, seconds_b)
        r_c = rate(sent_c, timings["total"])
        figures.append("")
        figures.append(f"messages/s: (a0) {r_a0:,.0f}  (a) {r_a:,.0f}  (b) {r_b:,.0f}  (c) {r_c:,.0f}")
        figures.append(
            f"ratios: (c)/(a) {r_c / r_a:.2f} (target >= 1.3)  (c)/(b) {r_c / r_b:.2f} (target >= 0.8)  "
            f"(c)/(a0) {r_c / r_a0:.2f}"
        )
        figures.append(f"freeze of {count:,} recipients: {timings['freeze']:.2f} s")
        figures.append(f"  peak RSS bench process ((a0), (a), launch): {self_peak_mb():.0f} MB")
        if sink.process is not None:
            figures.append(rss_line("SMTP sink", {sink.process.pid: _peak(sink.process.pid)}))
        figures.append(rss_line("(b) worker (main, pool, pool)", worker_b.peaks))
        figures.append(rss_line("(c) worker (main, pool, pool)", worker_c.peaks))
    finally:
        sink.stop()
        with contextlib.suppress(Exception):
            flush_broker(broker)


def _peak(pid: int) -> float:
    from tests.delivery.faults import peak_rss_mb

    return peak_rss_mb(pid) or 0.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--recipients", type=int, default=int(os.environ.get("BENCH_SEND_RECIPIENTS", 100_000))
    )
    parser.add_argument("--single-process-messages", type=int, default=20_000)
    parser.add_argument("--freeze-only", type=int, default=0, metavar="N")
    args = parser.parse_args()
    url = bench_database_url()
    broker = os.environ.get("SEND_BENCH_BROKER_URL", "redis://127.0.0.1:6379/11")
    reset_database(url)
    if args.freeze_only:
        freeze_only(args.freeze_only, url, broker)
    else:
        single = min(args.recipients, args.single_process_messages) if args.single_process_messages else 0
        full(args.recipients, single, url, broker)
    print(f"\nsend_bench ({urlsplit(url).path.lstrip('/')})")
    for line in figures:
        print(line)


if __name__ == "__main__":
    main()
