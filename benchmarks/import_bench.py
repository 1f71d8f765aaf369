"""CSV import at scale, against the limits of the machine and against django-import-export.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ensemble_import_bench \\
        .venv/bin/python benchmarks/import_bench.py [--rows N] [--keep-database]

The database is dropped, created and migrated at the start of each run, so figures compare across
runs (a table grown by earlier runs past the server's buffers makes every insert slower); to guard
against mistakes it must have "bench" in its name. `--keep-database` measures the database as it is.

N defaults to $BENCH_IMPORT_ROWS or 1,000,000. The generated file is realistic: 2% duplicates that
differ in case and white space, 1% invalid emails, 30% with phone numbers, 0-3 of 50 tags per row.
In one run it measures, on PostgreSQL:
  (a) raw COPY of the file into a bare table: the ingest limit;
  (b) a bare set-based merge of the same file (COPY to staging, lower-case dedupe,
      INSERT ... ON CONFLICT, tag links), no validation: the merge limit;
  (c) Ensemble's full import (upsert mode, tags, validation, phones, progress, error report),
      in a child process so its peak RSS is its own;
  (d) django-import-export's default admin path on 10,000 rows;
  (e) a second run of (c) on the same file.
Each step gets a fresh workspace; the figures come last.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def reset_database() -> None:
    """Drop and create the benchmark's database (before Django connects to it)."""
    from urllib.parse import urlsplit

    import psycopg

    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    name = url.path.lstrip("/")
    if url.scheme not in ("postgres", "postgresql", "pgsql") or not name:
        return  # not PostgreSQL: main() says it is skipped
    if "bench" not in name:
        raise SystemExit(f"import_bench: refusing to reset the database {name!r}: its name lacks 'bench'.")
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


if "--keep-database" not in sys.argv:
    reset_database()

import django  # noqa: E402 - after sys.path and the settings module are set

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.workspaces import services as workspace_services  # noqa: E402
from apps.workspaces.models import Workspace  # noqa: E402

TAGS = [f"Tag {n:02d}" for n in range(50)]
FIRST = ["Anna", "Ben", "Clara", "David", "Elif", "Finn", "Greta", "Hannes", "Ida", "Jonas", "Lea", "Mats"]
LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
]
CITIES = ["Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Leipzig", "Dresden"]
HEADER = ["email", "first_name", "last_name", "phone", "city", "country", "orders_count", "tags"]
figures: list[str] = []


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            if n and rng.random() < 0.02:  # a duplicate of an earlier row, in other case and spacing
                m = rng.randrange(n)
                email = f"  Person{m}@Example.COM "
            elif rng.random() < 0.01:
                email = f"person{n}-at-example.com"
            else:
                email = f"person{n}@example.com"
            phone = f"+49 151 {rng.randrange(10_000_000, 99_999_999)}" if rng.random() < 0.3 else ""
            tags = ",".join(rng.sample(TAGS, rng.randint(0, 3)))
            writer.writerow([
                email, rng.choice(FIRST), rng.choice(LAST), phone, rng.choice(CITIES), "DE",
                rng.randint(0, 40), tags,
            ])  # fmt: skip


def fresh_workspace(prefix: str) -> Workspace:
    """A new, empty workspace per step. Earlier ones stay: deleting a million contacts through the
    ORM's cascade would cost more time and memory than the step being measured."""
    slug = f"{prefix}-{int(time.time())}"
    owner, _ = User.objects.get_or_create(email="bench@ensemble.example")
    return workspace_services.workspace_create(name=slug, slug=slug, owner=owner, with_standard_teams=False)


def raw_copy(path: Path) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_raw (email text, first_name text, last_name text, phone text, "
            "city text, country text, orders_count text, tags text)"
        )
        with (
            path.open("rb") as handle,
            cursor.cursor.copy("COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while data := handle.read(1 << 20):
                copy.write(data)
        cursor.execute("DROP TABLE bench_raw")
    return time.perf_counter() - started


def bare_merge(path: Path, workspace: Workspace) -> float:
    """The merge limit: the same file, staged by COPY and merged set-based, no validation."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_staging")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_staging (email text, first_name text, last_name text, phone text, "
            "city text, country text, orders_count text, tags text)"
        )
        with (
            path.open("rb") as handle,
            cursor.cursor.copy("COPY bench_staging FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while data := handle.read(1 << 20):
                copy.write(data)
        # One row per lower-cased email, with the id it will get, so links need no second lookup. The
        # id sequence is named once: looked up in the statement, it costs a catalog lookup per row.
        cursor.execute("SELECT pg_get_serial_sequence('contacts_contact', 'id')")
        sequence = cursor.fetchone()[0]
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE bench_people AS
            SELECT nextval('{sequence}'::regclass) AS id, d.*
            FROM (
                SELECT DISTINCT ON (lower(trim(email))) lower(trim(email)) AS key, trim(email) AS email,
                    first_name, last_name, phone, city, country, orders_count
                FROM bench_staging WHERE email LIKE '%%@%%' ORDER BY lower(trim(email))
            ) d
            """
        )
        cursor.execute(
            """
            INSERT INTO contacts_contact (id, workspace_id, email, email_normalized, phone, phone_e164,
                first_name, last_name, city, region, country, postal_code, orders_count, total_spent,
                email_consent, sms_consent, source, custom, gender, marital_status, household_income_band,
                education_level, language, timezone, email_consent_source, sms_consent_source, address_line1,
                address_line2, created_at, updated_at)
            SELECT id, %s, email, key, coalesce(phone, ''),
                regexp_replace(coalesce(phone, ''), '[^0-9+]', '', 'g'), coalesce(first_name, ''),
                coalesce(last_name, ''), coalesce(city, ''), '', coalesce(country, ''), '',
                coalesce(orders_count, '0')::int, 0, 'unknown', 'unknown', 'import', '{}', '', '', '', '', '',
                '', '', '', '', '', now(), now()
            FROM bench_people ORDER BY id
            ON CONFLICT DO NOTHING
            """,
            [workspace.id],
        )
        cursor.execute(
            """
            INSERT INTO contacts_tag (workspace_id, name, colour, description, created_at, updated_at)
            SELECT DISTINCT %s, trim(t), '#1f6f5c', '', now(), now()
            FROM bench_staging, unnest(string_to_array(tags, ',')) t WHERE trim(t) <> ''
            ON CONFLICT DO NOTHING
            """,
            [workspace.id],
        )
        cursor.execute(
            """
            INSERT INTO contacts_contacttag (contact_id, tag_id)
            SELECT DISTINCT p.id, g.id FROM bench_staging s
            CROSS JOIN LATERAL unnest(string_to_array(s.tags, ',')) t
            JOIN bench_people p ON p.key = lower(trim(s.email))
            JOIN contacts_tag g ON g.workspace_id = %s AND g.name = trim(t)
            ORDER BY 1, 2
            ON CONFLICT DO NOTHING
            """,
            [workspace.id],
        )
        cursor.execute("DROP TABLE bench_people")
        cursor.execute("DROP TABLE bench_staging")
    return time.perf_counter() - started


CHILD = """
import json, os, resource, sys, time


def peak_rss_mb():
    # VmHWM restarts at exec; ru_maxrss would carry the parent's peak over from the fork.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
sys.path.insert(0, {root!r})
import django  # noqa: E402 - after sys.path and the settings module are set
django.setup()
from django.core.files import File
from apps.contacts.importing import pipeline
from apps.workspaces.models import Workspace
workspace = Workspace.objects.get(slug={slug!r})
started = time.perf_counter()
with open({path!r}, "rb") as handle:
    job = pipeline.import_create(workspace=workspace, upload=File(handle, name="bench.csv"), actor=None,
                                 options=pipeline.ImportSettings(mode="upsert"))
job = pipeline.import_execute(job=job)
elapsed = time.perf_counter() - started
summary = pipeline.import_summary(job)
print(json.dumps({{"seconds": elapsed, "status": job.status, "created": summary["created"],
    "updated": summary["updated"], "unchanged": summary["unchanged"], "skipped": summary["skipped"],
    "errors": job.error_count, "peak_rss_mb": peak_rss_mb(),
    # The cleaning helpers have ended and been waited for: the largest of them.
    "helper_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}}))
"""


def ensemble_import(path: Path, slug: str) -> dict[str, float]:
    code = CHILD.format(root=str(ROOT), slug=slug, path=str(path))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"The import failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def import_export_default(path: Path, workspace: Workspace, rows: int) -> float:
    """django-import-export's admin path (the ContactResource, validation included) on `rows` rows."""
    import tablib

    from apps.contacts.resources import ContactResource

    with path.open(encoding="utf-8") as handle:
        lines = [next(handle) for _ in range(rows + 1)]
    dataset = tablib.Dataset().load("".join(lines), format="csv")
    dataset.append_col([workspace.slug] * len(dataset), header="workspace")
    started = time.perf_counter()
    ContactResource().import_data(dataset, dry_run=False, raise_errors=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_IMPORT_ROWS", "1000000")))
    parser.add_argument("--keep-database", action="store_true", help="do not drop and create the database")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("import_bench: skipped, it measures PostgreSQL (set DATABASE_URL to a PostgreSQL database).")
        return
    call_command("migrate", verbosity=0)
    rows = args.rows
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contacts.csv"
        started = time.perf_counter()
        generate(path, rows)
        print(
            f"generated {rows:,} rows ({path.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
        a = raw_copy(path)
        b = bare_merge(path, fresh_workspace("bench-merge"))
        target = fresh_workspace("bench-import").slug
        c = ensemble_import(path, target)
        d_rows = min(10_000, rows)
        d = import_export_default(path, fresh_workspace("bench-iex"), d_rows)
        e = ensemble_import(path, target)
    figures.extend([
        f"(a) raw COPY into a bare table        {rows / a:>12,.0f} rows/s   ({a:.1f} s)",
        f"(b) bare set-based merge              {rows / b:>12,.0f} rows/s   ({b:.1f} s)",
        f"(c) Ensemble import, upsert           {rows / c['seconds']:>12,.0f} rows/s   ({c['seconds']:.1f} s; "
        f"created {c['created']:,}, updated {c['updated']:,}, unchanged {c['unchanged']:,}, "
        f"skipped {c['skipped']:,}; peak RSS {c['peak_rss_mb']:.0f} MB, cleaning helpers "
        f"{c['helper_peak_rss_mb']:.0f} MB each at most)",
        f"(d) django-import-export, {d_rows:,} rows {d_rows / d:>9,.0f} rows/s   ({d:.1f} s)",
        f"(e) second run of (c)                 {rows / e['seconds']:>12,.0f} rows/s   ({e['seconds']:.1f} s; "
        f"unchanged {e['unchanged']:,}, created {e['created']:,}, updated {e['updated']:,}; "
        f"peak RSS {e['peak_rss_mb']:.0f} MB)",
        f"ratios: (c)/(b) time {c['seconds'] / b:.2f}x (target <= 1.5x); "
        f"(c)/(d) speed {(rows / c['seconds']) / (d_rows / d):.1f}x (target >= 40x); "
        f"(e) faster than (c): {e['seconds'] < c['seconds']}",
        f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
    ])  # fmt: skip
    print("\n".join(figures))


if __name__ == "__main__":
    main()
