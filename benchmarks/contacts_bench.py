"""Contacts at scale: seeding, list pages, search, tag filters, bulk tagging and CSV export.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ensemble_bench \\
        .venv/bin/python benchmarks/contacts_bench.py [--contacts N] [--workspace SLUG]

N defaults to $BENCH_CONTACTS or 1,000,000. The workspace (default `bench`) is reused when it already
holds N contacts; otherwise the missing ones are added by the `seed_contacts` generator. Use a
database of its own: the script writes. Every query slower than 150 ms is shown with EXPLAIN
ANALYZE before the figures; the figures come last. Times are wall-clock on this machine, warm (one
untimed run first), in milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.contacts import exporting, selectors, services  # noqa: E402
from apps.contacts.models import Contact  # noqa: E402
from apps.contacts.seeding import contacts_seed  # noqa: E402
from apps.core.roles import Role  # noqa: E402
from apps.workspaces import services as workspace_services  # noqa: E402
from apps.workspaces.models import Workspace  # noqa: E402

SLOW_MS = 150
RUNS = 20
figures: list[tuple[str, str]] = []
explained: list[str] = []


class SlowQueries:
    """Records SELECTs slower than SLOW_MS (execute_wrapper), to EXPLAIN ANALYZE them afterwards."""

    def __init__(self) -> None:
        self.found: dict[str, tuple[str, Any, float]] = {}
        self.step = ""

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - started) * 1000
            if ms > SLOW_MS and sql.lstrip().upper().startswith("SELECT") and sql not in self.found:
                self.found[sql] = (self.step, params, ms)

    def explain(self) -> None:
        for sql, (step, params, ms) in list(self.found.items()):
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plan = "\n".join(f"    {_short(row[0], 240)}" for row in cursor.fetchall())
            explained.append(f"-- {step}: {ms:.0f} ms\n    {_short(sql, 600)}\n{plan}")
        self.found.clear()


slow = SlowQueries()


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def figure(name: str, value: str) -> None:
    figures.append((name, value))
    print(f"  {name}: {value}", flush=True)


def timed(name: str, action: Callable[[], Any], runs: int = RUNS) -> list[float]:
    """p50/p95 of `runs` timed calls after one untimed warm-up call."""
    slow.step = name
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[max(0, math.ceil(0.95 * len(times)) - 1)]
    figure(name, f"p50 {statistics.median(times):8.1f} ms   p95 {p95:8.1f} ms   ({runs} runs)")
    return times


def _workspace(slug: str) -> tuple[Workspace, User]:
    owner, _ = User.objects.get_or_create(email=f"owner@{slug}.bench.example")
    member, _ = User.objects.get_or_create(email=f"member@{slug}.bench.example")
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        workspace = workspace_services.workspace_create(
            name=f"Benchmark {slug}", slug=slug, owner=owner, time_zone="Europe/Berlin"
        )
    workspace_services.membership_add(workspace=workspace, user=member, role=Role.EDITOR)
    return workspace, member


def seed(workspace: Workspace, wanted: int) -> None:
    have = Contact.objects.filter(workspace=workspace).count()
    if have >= wanted:
        figure("seed", f"reused {have:,} existing contacts (nothing seeded this run)")
        return

    def progress(done: int, total: int, seconds: float) -> None:
        print(
            f"    seeded {done:>10,} / {total:,}  {seconds:6.1f} s  {done / seconds:>9,.0f} rows/s",
            flush=True,
        )

    result = contacts_seed(workspace=workspace, count=wanted - have, seed=2026, progress=progress)
    figure(
        "seed (COPY, incl. tag links and ANALYZE)",
        f"{result.contacts:,} contacts + {result.links:,} tag links in {result.seconds:.1f} s = "
        f"{result.rows_per_second:,.0f} contacts/s",
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:  # what autovacuum does after a bulk load: index-only scans
        cursor.execute("VACUUM (ANALYZE) contacts_contact, contacts_contacttag")
    figure("vacuum analyze after the load", f"{time.perf_counter() - started:.1f} s")


def list_pages(workspace: Workspace, member: User, deep_after: int) -> None:
    contacts = selectors.contact_list(workspace=workspace)
    timed("list first page, selector (50)", lambda: selectors.contact_page(contacts, after=None, size=50))
    timed(
        "list deep keyset page, selector (50)",
        lambda: selectors.contact_page(contacts, after=deep_after, size=50),
    )
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(member)
    url = f"/w/{workspace.slug}/contacts/"
    status = client.get(url, {"size": 50}).status_code
    if status != 200:
        figure("list page via the view", f"not measured: {url} answered {status}")
        return
    timed("list first page, view over test Client", lambda: client.get(url, {"size": 50}))
    timed(
        "list deep keyset page, view over test Client",
        lambda: client.get(url, {"size": 50, "after": deep_after}),
    )


def searches(workspace: Workspace, sample: Contact, phone: str) -> None:
    terms = {
        "name": sample.last_name,
        "email prefix": sample.email_normalized[:8],
        "phone digits": phone[-6:],
    }
    for kind, term in terms.items():
        found = selectors.contact_list(workspace=workspace, filters=selectors.ContactFilter(search=term))
        timed(
            f"search by {kind} ({term!r}), first page",
            lambda found=found: selectors.contact_page(found, after=None, size=50),
        )


def tag_filters(workspace: Workspace) -> None:
    with_counts = selectors.tag_list(workspace=workspace, with_counts=True)
    timed("tag list with contact counts", lambda: list(with_counts.all()), runs=5)
    counts = dict(with_counts.values_list("name", "contact_count"))
    popular, rare = "Hiking", min(counts, key=lambda name: counts[name])
    cases = {
        f"tag {popular!r}": selectors.ContactFilter(tags=[popular]),
        f"tag {popular!r} + city Berlin": selectors.ContactFilter(tags=[popular], fields={"city": "Berlin"}),
        f"rare tag {rare!r}": selectors.ContactFilter(tags=[rare]),
    }
    for name, filters in cases.items():
        found = selectors.contact_list(workspace=workspace, filters=filters)
        timed(
            f"filter {name}, first page",
            lambda found=found: selectors.contact_page(found, after=None, size=50),
        )
        timed(f"filter {name}, count", found.count, runs=5)


def bulk_tagging(workspace: Workspace, low: int, high: int) -> None:
    ids = random.Random(1).sample(range(low, high + 1), min(10_000, high - low + 1))
    (tag,) = services.tags_get_or_create(workspace=workspace, names=["Benchmark bulk tag"])
    contacts = selectors.contacts_by_ids(workspace=workspace, ids=ids)
    tag_ms, untag_ms, added = [], [], 0
    slow.step = "bulk tag / untag 10,000"
    for _ in range(5):
        started = time.perf_counter()
        added = services.contacts_tag(contacts=contacts, tag=tag)
        tag_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        services.contacts_untag(contacts=contacts, tag=tag)
        untag_ms.append((time.perf_counter() - started) * 1000)
    figure(f"tag {added:,} contacts (contacts_tag)", f"p50 {statistics.median(tag_ms):8.1f} ms   (5 runs)")
    figure(
        f"untag {added:,} contacts (contacts_untag)", f"p50 {statistics.median(untag_ms):8.1f} ms   (5 runs)"
    )


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def csv_export(workspace: Workspace, rows: int) -> None:
    ordered = selectors.contact_list(workspace=workspace).order_by("-id").values_list("id", flat=True)
    threshold = ordered[rows - 1]
    contacts = selectors.contact_list(workspace=workspace).filter(id__gte=threshold)
    columns = exporting.export_columns([])
    slow.step = "CSV export"
    before = _rss_kib("VmRSS")
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) to the current RSS
    started = time.perf_counter()
    written = lines = 0
    for line in exporting.csv_lines(contacts, columns):
        written += len(line)
        lines += 1
    seconds = time.perf_counter() - started
    peak = _rss_kib("VmHWM")
    figure(
        f"CSV export of {lines - 1:,} rows",
        f"{seconds:.2f} s = {(lines - 1) / seconds:,.0f} rows/s, {written / 1e6:.0f} MB of text, "
        f"peak RSS {peak / 1024:.0f} MiB (+{max(0, peak - before) / 1024:.0f} MiB over the {before / 1024:.0f} "
        "MiB before)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=int(os.environ.get("BENCH_CONTACTS", 1_000_000)))
    parser.add_argument("--workspace", default="bench")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("contacts_bench: skipped, it measures PostgreSQL (set DATABASE_URL to a benchmark database).")
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]  # type: ignore[index]
    print(f"contacts_bench: {args.contacts:,} contacts in workspace {args.workspace!r}, PostgreSQL {version}")
    workspace, member = _workspace(args.workspace)
    seed(workspace, args.contacts)
    with connection.execute_wrapper(slow):
        ids = selectors.contact_list(workspace=workspace).order_by("id").values_list("id", flat=True)
        low, high = ids.first(), ids.last()
        if low is None or high is None:
            raise SystemExit("contacts_bench: the workspace has no contacts.")
        total = Contact.objects.filter(workspace=workspace).count()
        deep_after = low + (high - low) // 10  # 90% down a newest-first list
        sample = Contact.objects.filter(workspace=workspace, id__lte=deep_after).order_by("-id").first()
        phone_contact = Contact.objects.filter(workspace=workspace, id__lte=deep_after).exclude(phone_e164="")
        phone = phone_contact.order_by("-id").values_list("phone_e164", flat=True).first() or "+49151"
        if sample is None:
            raise SystemExit("contacts_bench: no sample contact.")
        list_pages(workspace, member, deep_after)
        searches(workspace, sample, phone)
        tag_filters(workspace)
        bulk_tagging(workspace, low, high)
        csv_export(workspace, min(100_000, total))
    slow.explain()
    if explained:
        print(f"\n== EXPLAIN ANALYZE of every query slower than {SLOW_MS} ms")
        print("\n".join(explained))
    print(f"\n== figures: contacts_bench, {total:,} contacts, PostgreSQL {version}, {os.cpu_count()} CPUs")
    width = max(len(name) for name, _ in figures)
    for name, value in figures:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
