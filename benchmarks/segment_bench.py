"""Segments at a million contacts: counts through Ensemble's rule compiler against hand-written SQL of
the same meaning (the limit), the preview endpoint over HTTP, freezing a large snapshot, the overlap.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ensemble_segbench \\
        .venv/bin/python benchmarks/segment_bench.py [--contacts N] [--workspace SLUG] [--runs 20]

N defaults to $BENCH_CONTACTS or 1,000,000 (with about 1.5 links to 50 tags each, from the
`seed_contacts` generator). The workspace (default `bench`, as in contacts_bench.py) is reused when it
already holds N contacts. Use a database of its own: the script writes (a benchmark user and token,
two segments, a snapshot). Times are wall-clock on this machine, warm (one untimed run first), in
milliseconds; the compiler and the hand-written query run alternately, so noise from other work on
the machine hits both. The figures come last.
"""

from __future__ import annotations

import argparse
import math
import os
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
from apps.contacts.models import Contact, Tag  # noqa: E402
from apps.contacts.seeding import contacts_seed  # noqa: E402
from apps.core.roles import Role  # noqa: E402
from apps.segments import selectors, services  # noqa: E402
from apps.segments.models import Segment  # noqa: E402
from apps.workspaces import services as workspace_services  # noqa: E402
from apps.workspaces import tokens  # noqa: E402
from apps.workspaces.models import Membership, Workspace  # noqa: E402

# Two tags, one text field, one number range, nested all/any/not: VIPs in Munich or aged 25-35 who
# have not lapsed.
NARROW = {
    "all": [
        {"tag": "VIP"},
        {
            "any": [
                {"field": "city", "op": "eq", "value": "München"},
                {"field": "age", "op": "between", "value": [25, 35]},
            ]
        },
        {"not": {"tag": "Lapsed customer"}},
    ]
}
NARROW_SQL = """
SELECT COUNT(*) FROM contacts_contact c
WHERE c.workspace_id = %(workspace)s
  AND EXISTS (SELECT 1 FROM contacts_contacttag t WHERE t.contact_id = c.id AND t.tag_id = %(vip)s)
  AND (c.city = 'München' OR c.age BETWEEN 25 AND 35)
  AND NOT EXISTS (SELECT 1 FROM contacts_contacttag t WHERE t.contact_id = c.id AND t.tag_id = %(lapsed)s)
"""
# About 15% of the contacts: people aged 30-43 who opted in to email, unless they lapsed.
WIDE = {
    "all": [
        {"field": "age", "op": "between", "value": [30, 43]},
        {"field": "email_consent", "op": "eq", "value": "opted_in"},
        {"not": {"tag": "Lapsed customer"}},
    ]
}
WIDE_SQL = """
SELECT COUNT(*) FROM contacts_contact c
WHERE c.workspace_id = %(workspace)s
  AND c.age BETWEEN 30 AND 43
  AND c.email_consent = 'opted_in'
  AND NOT EXISTS (SELECT 1 FROM contacts_contacttag t WHERE t.contact_id = c.id AND t.tag_id = %(lapsed)s)
"""
TARGET_RATIO = 1.3
TARGET_PREVIEW_MS = 400
TARGET_FREEZE_S = 3.0
figures: list[tuple[str, str]] = []


def figure(name: str, value: str) -> None:
    figures.append((name, value))
    print(f"  {name}: {value}", flush=True)


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def alternate(actions: dict[str, Callable[[], Any]], runs: int) -> dict[str, list[float]]:
    """Each action once untimed (warm), then `runs` timed rounds, taking turns."""
    for action in actions.values():
        action()
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def setup(slug: str, wanted: int) -> tuple[Workspace, User]:
    owner, _ = User.objects.get_or_create(email=f"owner@{slug}.bench.example")
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        workspace = workspace_services.workspace_create(
            name=f"Benchmark {slug}", slug=slug, owner=owner, time_zone="Europe/Berlin"
        )
    have = Contact.objects.filter(workspace=workspace).count()
    if have >= wanted:
        figure("contacts", f"reused {have:,} existing contacts (nothing seeded this run)")
    else:

        def progress(done: int, total: int, seconds: float) -> None:
            print(f"    seeded {done:>10,} / {total:,}  {seconds:6.1f} s", flush=True)

        result = contacts_seed(workspace=workspace, count=wanted - have, seed=2026, progress=progress)
        figure("seed", f"{result.contacts:,} contacts + {result.links:,} tag links in {result.seconds:.1f} s")
        with connection.cursor() as cursor:  # what autovacuum does after a bulk load: index-only scans
            cursor.execute("VACUUM (ANALYZE) contacts_contact, contacts_contacttag")
    return workspace, owner


def links(workspace: Workspace) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM contacts_contacttag t JOIN contacts_tag g ON g.id = t.tag_id "
            "WHERE g.workspace_id = %s",
            [workspace.id],
        )
        return int(cursor.fetchone()[0])


def hand_written(sql: str, params: dict[str, Any]) -> Callable[[], int]:
    def run() -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.fetchone()[0])

    return run


def compare_counts(
    name: str, rules: Any, sql: str, params: dict[str, Any], workspace: Workspace, runs: int
) -> float:
    ensemble = selectors.rules_contacts(workspace=workspace, rules=rules).count()
    limit = hand_written(sql, params)()
    total = Contact.objects.filter(workspace=workspace).count()
    assert ensemble == limit, f"{name}: the compiler counts {ensemble:,}, the hand-written query {limit:,}"
    times = alternate(
        {
            "ensemble": lambda: selectors.rules_contacts(workspace=workspace, rules=rules).count(),
            "hand-written": hand_written(sql, params),
        },
        runs,
    )
    ours, theirs = percentiles(times["ensemble"]), percentiles(times["hand-written"])
    ratio = ours[1] / theirs[1]
    figure(f"{name} rule, count = {ensemble:,} ({100 * ensemble / total:.1f}% of {total:,})", "")
    figure(f"  {name}: Ensemble's compiler", f"p50 {ours[0]:7.1f} ms   p95 {ours[1]:7.1f} ms   ({runs} runs)")
    figure(
        f"  {name}: hand-written SQL", f"p50 {theirs[0]:7.1f} ms   p95 {theirs[1]:7.1f} ms   ({runs} runs)"
    )
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    figure(f"  {name}: p95 ratio", f"{ratio:.2f}x (target at most {TARGET_RATIO}x: {verdict})")
    return ratio


def preview_over_http(workspace: Workspace, owner: User, runs: int) -> None:
    membership = Membership.objects.get(workspace=workspace, user=owner)
    issued = tokens.api_token_create(
        workspace=workspace,
        name="segment bench",
        role=Role.ADMIN,
        created_by=owner,
        creator_role=Role(membership.role),
    )
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    body: dict[str, Any] = {}

    def post() -> None:
        response = client.post(
            "/api/v1/segments/preview/", {"rules": NARROW}, content_type="application/json"
        )
        assert response.status_code == 200, response.content[:300]
        body.update(response.json())

    times = alternate({"preview": post}, runs)["preview"]
    p50, p95 = percentiles(times)
    verdict = "meets" if p95 < TARGET_PREVIEW_MS else "MISSES"
    figure(
        "preview endpoint, narrow rule (count + 20-contact sample, HTTP via the test client)",
        f"p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({runs} runs; {len(body['sample'])} sampled; "
        f"target p95 under {TARGET_PREVIEW_MS} ms: {verdict})",
    )
    tokens.api_token_revoke(token=issued.token)


def freeze(workspace: Workspace, owner: User, runs: int) -> Segment:
    segment = Segment.objects.filter(workspace=workspace, name="Bench: wide snapshot").first()
    if segment is None:
        segment = services.segment_create(
            workspace=workspace, name="Bench: wide snapshot", rules=WIDE, actor=owner
        )
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        segment = services.segment_freeze(segment=segment)
        times.append(time.perf_counter() - started)
    verdict = "meets" if max(times) < TARGET_FREEZE_S else "MISSES"
    figure(
        f"freeze a {segment.frozen_count:,}-member snapshot (DELETE + INSERT ... SELECT, commit included)",
        f"median {statistics.median(times):.2f} s, slowest {max(times):.2f} s ({runs} runs; "
        f"target under {TARGET_FREEZE_S:.0f} s: {verdict})",
    )
    return segment


def overlap(workspace: Workspace, owner: User, snapshot: Segment, runs: int) -> None:
    narrow = Segment.objects.filter(workspace=workspace, name="Bench: narrow").first()
    if narrow is None:
        narrow = services.segment_create(workspace=workspace, name="Bench: narrow", rules=NARROW, actor=owner)
    newsletter = Segment.objects.filter(workspace=workspace, name="Bench: newsletter").first()
    if newsletter is None:
        newsletter = services.segment_create(
            workspace=workspace, name="Bench: newsletter", rules={"tag": "Newsletter"}, actor=owner
        )
    chosen = [narrow, newsletter, snapshot]
    times = alternate(
        {"overlap": lambda: selectors.segment_overlap(workspace=workspace, segments=chosen)}, runs
    )
    p50, p95 = percentiles(times["overlap"])
    result = selectors.segment_overlap(workspace=workspace, segments=chosen)
    figure(
        "overlap of 3 segments (narrow, a tag, the snapshot; one statement)",
        f"p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({runs} runs; counts {', '.join(f'{n:,}' for n in result.counts)})",
    )


def explain(rules: Any, workspace: Workspace) -> None:
    contacts = selectors.rules_contacts(workspace=workspace, rules=rules)
    sql, params = contacts.order_by().values_list("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(*) FROM ({sql}) counted", params)
        print("\n".join(f"    {row[0]}" for row in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=int(os.environ.get("BENCH_CONTACTS", 1_000_000)))
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="Print the plans of the compiled counts.")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("segment_bench: skipped (it measures PostgreSQL; DATABASE_URL points elsewhere).")
        return
    print(f"Segments with {args.contacts:,} contacts in workspace {args.workspace!r}:", flush=True)
    workspace, owner = setup(args.workspace, args.contacts)
    figure("tag links", f"{links(workspace):,}")
    tags = dict(Tag.objects.filter(workspace=workspace).values_list("name", "id"))
    params = {"workspace": workspace.id, "vip": tags["VIP"], "lapsed": tags["Lapsed customer"]}
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        figure("PostgreSQL jit", cursor.fetchone()[0])
    compare_counts("narrow", NARROW, NARROW_SQL, params, workspace, args.runs)
    compare_counts("wide", WIDE, WIDE_SQL, params, workspace, args.runs)
    preview_over_http(workspace, owner, args.runs)
    snapshot = freeze(workspace, owner, 5)
    overlap(workspace, owner, snapshot, 5)
    if args.explain:
        for name, rules in (("narrow", NARROW), ("wide", WIDE)):
            print(f"-- {name}: the compiled count's plan")
            explain(rules, workspace)
    print("\nFigures:")
    width = max(len(name) for name, _ in figures)
    for name, value in figures:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
