"""The PostgreSQL path of an import: cleaned rows are COPied into a temporary table while Python
reads and cleans the next ones, then one transaction merges the whole file set-based, or one per
lane (`MergeLanes`): each lane takes all the rows of its people.

Python still cleans every row by the rules every other write uses (`cleaning.clean_contact_values`);
only the merge is SQL. Merging all of a person's rows at once, not chunk by chunk, is what makes the
same person on rows far apart one person (last non-empty value per column wins), lets a re-import
write nothing at all (only people whose values differ are updated), and keeps the database as it
was if the import crashes before the merge commits.

The rules are those of `services.contacts_bulk_upsert`, which the SQLite path and the API use, and
tests run both paths on the same files: matched by email, else by phone when a row has no email;
non-empty values fill and overwrite, absent ones never erase; tags are only added; an opt-in is kept
only if the importer confirmed it and the person neither opted out nor is suppressed.

`Writer` runs a `StagedImport` in a thread with its own database connection, so PostgreSQL takes in
one batch while Python cleans the next; `MergeLanes` runs one writer per lane.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import NOT_PROVIDED
from django.utils import timezone
from psycopg.types.json import Jsonb

from apps.contacts.choices import Channel, Consent, ContactSource, ImportMode
from apps.contacts.models import ConsentEvent, Contact, ContactTag, Suppression
from apps.contacts.services import tags_get_or_create
from apps.core.sequences import id_sequence
from apps.workspaces.models import Workspace

ROWS_TABLE = "pg_temp.import_rows"  # the file's cleaned rows
EXISTING_TABLE = "pg_temp.import_existing"  # person key -> the workspace's contact before the import
PEOPLE_TABLE = "pg_temp.import_people"  # one row per person of the rows being merged
TAG_MAP_TABLE = "pg_temp.import_tag_map"  # the file's tag numbers -> tag ids

# Always staged: a person is found by them. Everything else only when the file maps it.
IDENTITY = ("email", "email_normalized", "phone", "phone_e164")
CONSENT = {"email_consent": Channel.EMAIL, "sms_consent": Channel.SMS}
ADDRESS = {Channel.EMAIL: "email_normalized", Channel.SMS: "phone_e164"}
# Written by the merge itself, never taken from a file.
MANAGED = {"id", "workspace", "source", "custom", "created_at", "updated_at"} | {
    f"{prefix}_consent_{part}" for prefix in ("email", "sms") for part in ("at", "source")
}
# A person's merge lane, the same in Python and SQL: the first byte of the MD5 of the person key.
LANE_OF_KEY = "get_byte(decode(md5({key}), 'hex'), 0) %% %(lanes)s"
# Hashing and sorting a million people for the last merge needs more than the 4 MB default.
MERGE_WORK_MEM = "128MB"
MAX_RACE_RETRIES = 3


class ContactsAddedMeanwhileError(Exception):
    """Someone else added a contact with one of the file's addresses while the merge ran."""


@dataclass
class MergeCounts:
    """Counted per row of the file: the first row of a new person is `created`, its later rows
    `updated`; every row of a person who existed counts what happened to the person."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0

    def add(self, other: MergeCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def staged_fields(values_fields: Sequence[str]) -> list[str]:
    """The contact columns to stage, in model order: identity always, the rest as mapped."""
    wanted = set(values_fields) | set(IDENTITY)
    if "birth_date" in wanted:
        wanted.add("age")  # cleaning derives it
    return [
        field.name
        for field in Contact._meta.concrete_fields
        if field.name in wanted and field.name not in MANAGED
    ]


def _with_retries(merge: Any, *, on_race: Any) -> MergeCounts:
    """Run a merge step in a transaction. A contact someone else added meanwhile with one of the
    file's addresses rolls it back; `on_race` takes that contact in and the step runs again, so
    the contact is updated, not doubled."""
    for attempt in range(MAX_RACE_RETRIES + 1):
        try:
            with transaction.atomic():
                return merge()
        except ContactsAddedMeanwhileError:
            if attempt == MAX_RACE_RETRIES:
                raise
            on_race()
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


class StagedImport:
    """One file's import in temporary tables of this database session: `add` each batch of
    cleaned rows, then `finish`. Counts accumulate in `counts`."""

    def __init__(
        self,
        *,
        workspace: Workspace,
        fields: Sequence[str],
        mode: str,
        consent_source: str,
        actor_id: int | None,
        keep_opt_outs: bool = True,
        lane: int = 0,
        lanes: int = 1,
    ) -> None:
        self.workspace = workspace
        # This import's part of the people when several lanes merge the file (`MergeLanes`).
        self.lane, self.lanes = lane, lanes
        self.fields = list(fields)
        self.mode = mode
        self.consent_source = consent_source[:120]
        self.actor_id = actor_id
        self.keep_opt_outs = keep_opt_outs
        self.counts = MergeCounts()
        self.now = timezone.now()
        # The file's tag names by lower case: (number, first spelling). Rows stage tag numbers, so
        # the merge joins small integers.
        self.tag_numbers: dict[str, tuple[int, str]] = {}
        self.id_sequence = ""  # the contacts' id sequence, looked up when the merge starts

    def create(self) -> None:
        types = {field.name: field.db_type(connection) for field in Contact._meta.concrete_fields}
        columns = ", ".join(f"{_quote(name)} {types[name]}" for name in self.fields)
        row = f"(row_no integer NOT NULL, key text NOT NULL, {columns}, custom jsonb, tags integer[])"
        with connection.cursor() as cursor:
            self._drop(cursor)
            cursor.execute(f"CREATE TEMPORARY TABLE {ROWS_TABLE} {row}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {TAG_MAP_TABLE} (ref integer PRIMARY KEY, tag_id bigint NOT NULL)"
            )
            cursor.execute(
                f"CREATE TEMPORARY TABLE {EXISTING_TABLE} (key text PRIMARY KEY, id bigint NOT NULL, "
                "email_consent varchar, sms_consent varchar, email_normalized varchar, phone_e164 varchar)"
            )
            cursor.execute(*self._existing_sql())
            cursor.execute(f"ANALYZE {EXISTING_TABLE}")

    def _existing_sql(self, *, among: str = "") -> tuple[str, dict[str, Any]]:
        """The workspace's contacts by person key: the normalised email, and `tel:` + phone for the
        oldest contact with that phone. Read once, in one pass over the workspace: matching a batch
        against this table never depends on the planner's idea of how many contacts a workspace
        has (for a new workspace in a large table it guessed one, and looked every person up by
        scanning the workspace). `among`: only the addresses in that table (contacts someone else
        added while the import ran)."""
        contact = Contact._meta.db_table
        columns = "id, email_consent, sms_consent, email_normalized, phone_e164"
        emails = f"AND email_normalized IN (SELECT email_normalized FROM {among})" if among else ""
        phones = f"AND phone_e164 IN (SELECT phone_e164 FROM {among})" if among else ""
        sql = f"""
            INSERT INTO {EXISTING_TABLE} (key, {columns})
            SELECT * FROM (
                SELECT email_normalized AS key, {columns} FROM {contact}
                WHERE workspace_id = %(workspace)s AND NOT (email_normalized = '') {emails}
                UNION ALL
                SELECT * FROM (
                    SELECT DISTINCT ON (phone_e164) 'tel:' || phone_e164, {columns} FROM {contact}
                    WHERE workspace_id = %(workspace)s AND NOT (phone_e164 = '') {phones}
                    ORDER BY phone_e164, id
                ) phones
            ) found
            WHERE %(lanes)s = 1 OR {LANE_OF_KEY.format(key="found.key")} = %(lane)s
            ON CONFLICT (key) DO NOTHING
        """
        return sql, {"workspace": self.workspace.pk, "lanes": self.lanes, "lane": self.lane}

    def _refresh_existing(self, source: str) -> None:
        """After a race: take in the contacts someone else added with the source's addresses."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop = off")  # one pass over the workspace
            cursor.execute(*self._existing_sql(among=source))

    def drop(self) -> None:
        """Free the session's space at once. After a database error it cannot and need not: the
        transaction's rollback or the session's end removes temporary tables too."""
        if connection.needs_rollback or connection.connection is None or connection.connection.closed:
            return
        with connection.cursor() as cursor:
            self._drop(cursor)

    @staticmethod
    def _drop(cursor: Any) -> None:
        for table in (ROWS_TABLE, EXISTING_TABLE, PEOPLE_TABLE, TAG_MAP_TABLE):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def add(self, rows: Sequence[tuple[int, str, Mapping[str, Any]]]) -> None:
        """Stage cleaned rows: (row number, person key, values), absent values as NULL."""
        if not rows:
            return
        names = ", ".join(_quote(name) for name in self.fields)
        fields = self.fields
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {ROWS_TABLE} (row_no, key, {names}, custom, tags) FROM STDIN") as copy,
        ):
            for number, key, values in rows:
                custom, tags = values.get("custom"), values.get("tags")
                copy.write_row([
                    number, key, *[values.get(name) for name in fields],
                    Jsonb(custom) if custom else None, self._tag_refs(tags) if tags else None,
                ])  # fmt: skip

    def finish(self) -> MergeCounts:
        """Merge the staged rows into the workspace's contacts, in one transaction."""
        self.counts.add(_with_retries(self._merge, on_race=lambda: self._refresh_existing(ROWS_TABLE)))
        return self.counts

    def _tag_refs(self, names: Sequence[str]) -> str:
        """The tag numbers as an `integer[]` literal: text is copied by psycopg's C code, while a
        list went through its array dumper in Python (3 s of a million-row import's GIL)."""
        numbers = self.tag_numbers
        refs = []
        for name in names:
            found = numbers.get(name.lower())
            if found is None:
                found = numbers[name.lower()] = (len(numbers), name)
            refs.append(str(found[0]))
        return f"{{{','.join(refs)}}}"

    # --- One merge pass, step by step; each step is one statement --------------------------------

    def _merge(self) -> MergeCounts:
        """One time for the whole merge, so "updated in this merge" is `updated_at = self.now`."""
        self.now = timezone.now()
        with connection.cursor() as cursor:
            # The estimates of these statements pass JIT's thresholds, and compiling them cost
            # more than running them.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(f"SET LOCAL work_mem = '{MERGE_WORK_MEM}'")
            cursor.execute(f"ANALYZE {ROWS_TABLE}")
            cursor.execute(f"DROP TABLE IF EXISTS {PEOPLE_TABLE}")
            self.id_sequence = id_sequence(cursor, Contact)
            cursor.execute(*self._people_sql())
            cursor.execute(f"ANALYZE {PEOPLE_TABLE}")
            cursor.execute(*self._insert_sql())
            inserted = cursor.rowcount
            cursor.execute(f"SELECT count(*) FROM {PEOPLE_TABLE} WHERE new_id IS NOT NULL")
            if inserted != cursor.fetchone()[0]:
                raise ContactsAddedMeanwhileError
            cursor.execute(*self._update_sql())
            updated_rows = int(cursor.fetchone()[1])
            cursor.execute(*self._consent_events_sql())
            tagged_rows = self._add_tags(cursor)
            cursor.execute(
                f"SELECT coalesce(sum(rows_count) FILTER (WHERE skipped), 0), "
                f"coalesce(sum(rows_count) FILTER (WHERE new_id IS NOT NULL), 0), "
                f"coalesce(sum(rows_count), 0) FROM {PEOPLE_TABLE}"
            )
            skipped_rows, new_rows, all_rows = map(int, cursor.fetchone())  # sums come as Decimal
            cursor.execute(f"DROP TABLE {PEOPLE_TABLE}")
        return MergeCounts(
            created=inserted,
            updated=(new_rows - inserted) + updated_rows + tagged_rows,
            unchanged=all_rows - skipped_rows - new_rows - updated_rows - tagged_rows,
            skipped=skipped_rows,
        )

    def _people_sql(self) -> tuple[str, dict[str, Any]]:
        """One row per person (email, else phone): rows of a key seen once are taken as they are;
        for a key on several rows, each column takes its last non-empty value and custom values
        merge in row order. Each person is matched: with the contact this import created for the
        key (`created_id`), else with a contact that existed (`contact_id`: by email, or by phone
        for people without email); told whether the mode skips it; given the id it will be created
        with; and its consent is settled by the policy."""
        plain = self.fields
        singles = ", ".join(f"r.{_quote(name)}" for name in plain)
        merged = ", ".join(
            f"(array_agg(r.{_quote(name)} ORDER BY r.row_no DESC) "
            f"FILTER (WHERE r.{_quote(name)} IS NOT NULL))[1] AS {_quote(name)}"
            for name in plain
        )
        merged_custom = (
            "(SELECT jsonb_object_agg(item.key, item.value ORDER BY objects.n) "
            "FROM unnest(array_agg(r.custom ORDER BY r.row_no)) WITH ORDINALITY AS objects(value, n) "
            "CROSS JOIN LATERAL jsonb_each(objects.value) AS item)"
        )
        # Tag numbers of all the person's rows, each once (arrays of unequal length cannot be
        # aggregated as arrays, so they are joined as text).
        merged_tags = (
            "ARRAY(SELECT DISTINCT unnest(string_to_array("
            "string_agg(array_to_string(r.tags, ','), ','), ',')::integer[]))"
        )
        consent_columns = []
        for name, channel in CONSENT.items():
            if name not in self.fields:
                consent_columns.append(f"NULL::varchar AS final_{name}")
                continue
            address = f"coalesce(m.{ADDRESS[channel]}, m.{ADDRESS[channel]}_now)"
            blocked = (
                f"(m.{name}_now = %(opted_out)s OR EXISTS (SELECT 1 FROM {Suppression._meta.db_table} s "
                f"WHERE s.workspace_id = %(workspace)s AND s.channel = '{channel}' AND s.address_hash = "
                f"encode(sha256(convert_to('{channel}:' || {address}, 'UTF8')), 'hex')))"
            )
            keep = f"CASE WHEN m.{name} = %(opted_in)s AND {blocked} THEN NULL ELSE m.{name} END"
            consent_columns.append(f"{keep if self.keep_opt_outs else f'm.{name}'} AS final_{name}")
        known = "m.id IS NOT NULL"
        skipped = {str(ImportMode.CREATE): known, str(ImportMode.UPDATE): f"NOT {known}"}.get(
            self.mode, "false"
        )

        def now(*sources: str) -> str:
            """The matched contact's stored values, from whichever lookup found it."""
            return ", ".join(
                f"coalesce({', '.join(f'{source}.{column}' for source in sources)}) AS {column}_now"
                for column in ("email_consent", "sms_consent", "email_normalized", "phone_e164")
            )

        source = ROWS_TABLE
        sql = f"""
            CREATE TEMPORARY TABLE {PEOPLE_TABLE} AS
            WITH counted AS (
                SELECT key, count(*) AS rows_count FROM {source} GROUP BY key
            ), people AS (
                SELECT r.key, 1::bigint AS rows_count, {singles}, r.custom, r.tags
                FROM {source} r JOIN counted c ON c.key = r.key AND c.rows_count = 1
                UNION ALL
                SELECT r.key, count(*), {merged}, {merged_custom}, {merged_tags}
                FROM {source} r JOIN counted c ON c.key = r.key AND c.rows_count > 1
                GROUP BY r.key
            ), matched AS (
                SELECT p.*, x.id AS id, {now("x")}
                FROM people p
                LEFT JOIN {EXISTING_TABLE} x ON x.key = p.key
            )
            SELECT m.key, m.rows_count, {", ".join(f"m.{_quote(name)}" for name in plain)}, m.custom, m.tags,
                m.id AS contact_id, m.email_consent_now AS old_email_consent,
                m.sms_consent_now AS old_sms_consent, {", ".join(consent_columns)},
                {skipped} AS skipped,
                CASE WHEN NOT ({known}) AND NOT ({skipped})
                    THEN nextval(%(id_sequence)s::regclass) END AS new_id
            FROM (SELECT * FROM matched ORDER BY key) m
        """
        # Ids drawn in key order: the insert then fills the primary key and the email index in
        # order (a million new contacts: 24.4 s instead of 29.9 s, for 2.7 s of sorting).
        return sql, {
            "workspace": self.workspace.pk,
            "opted_in": Consent.OPTED_IN,
            "opted_out": Consent.OPTED_OUT,
            "id_sequence": self.id_sequence,
        }

    def _insert_sql(self) -> tuple[str, dict[str, Any]]:
        """Create the new people with the ids drawn for them; a conflict means a contact with the
        address appeared meanwhile, which the caller notices by the count."""
        columns: list[str] = []
        expressions: list[str] = []
        params: dict[str, Any] = {
            "now": self.now,
            "workspace": self.workspace.pk,
            "source": ContactSource.IMPORT,
            "consent_source": self.consent_source,
        }
        for field in Contact._meta.concrete_fields:
            name, column = field.name, _quote(field.column)
            columns.append(column)
            if name == "id":
                expressions.append("p.new_id")
            elif name == "workspace":
                expressions.append("%(workspace)s")
            elif name == "source":
                expressions.append("%(source)s")
            elif name in ("created_at", "updated_at"):
                expressions.append("%(now)s")
            elif name == "custom":
                expressions.append("coalesce(p.custom, '{}'::jsonb)")
            elif name in CONSENT:
                expressions.append(f"coalesce(p.final_{name}, %(default_{name})s)")
                params[f"default_{name}"] = field.get_default()
            elif name.endswith("_consent_at"):
                expressions.append(
                    f"CASE WHEN p.final_{name.removesuffix('_at')} IS NOT NULL THEN %(now)s END"
                )
            elif name.endswith("_consent_source"):
                expressions.append(
                    f"CASE WHEN p.final_{name.removesuffix('_source')} IS NOT NULL "
                    f"THEN %(consent_source)s ELSE '' END"
                )
            elif name in self.fields:
                default = _default(field)
                params[f"default_{name}"] = default
                expressions.append(
                    f"p.{_quote(name)}"
                    if default is None
                    else f"coalesce(p.{_quote(name)}, %(default_{name})s)"
                )
            else:
                params[f"default_{name}"] = _default(field)
                expressions.append(f"%(default_{name})s")
        sql = f"""
            INSERT INTO {Contact._meta.db_table} ({", ".join(columns)})
            SELECT {", ".join(expressions)} FROM {PEOPLE_TABLE} p WHERE p.new_id IS NOT NULL
            ON CONFLICT (workspace_id, email_normalized) WHERE NOT (email_normalized = '') DO NOTHING
        """
        return sql, params

    def _update_sql(self) -> tuple[str, dict[str, Any]]:
        """Write only what differs: a column given by the file and unlike the stored value, custom
        values not held yet, a consent not held yet. Joined by id alone: the ids come from this
        workspace (`import_existing`). `contact_id IS NOT NULL` says in so many words what the join
        implies, so that with few people who existed (a first import) the planner looks them up
        by id instead of scanning every workspace's contacts."""
        plain = [name for name in self.fields if name not in CONSENT]
        sets = [f"{_quote(name)} = coalesce(p.{_quote(name)}, c.{_quote(name)})" for name in plain]
        differs = [
            f"(p.{_quote(name)} IS NOT NULL AND p.{_quote(name)} IS DISTINCT FROM c.{_quote(name)})"
            for name in plain
        ]
        sets.append("custom = CASE WHEN p.custom IS NULL THEN c.custom ELSE c.custom || p.custom END")
        differs.append("(p.custom IS NOT NULL AND NOT c.custom @> p.custom)")
        for name in CONSENT:
            if name not in self.fields:
                continue
            change = f"(p.final_{name} IS NOT NULL AND p.final_{name} <> c.{name})"
            sets += [
                f"{name} = coalesce(p.final_{name}, c.{name})",
                f"{name}_at = CASE WHEN {change} THEN %(now)s ELSE c.{name}_at END",
                f"{name}_source = CASE WHEN {change} THEN %(consent_source)s ELSE c.{name}_source END",
            ]
            differs.append(change)
        sql = f"""
            WITH updated AS (
                UPDATE {Contact._meta.db_table} c SET {", ".join(sets)}, updated_at = %(now)s
                FROM {PEOPLE_TABLE} p
                WHERE p.contact_id IS NOT NULL AND c.id = p.contact_id AND NOT p.skipped
                    AND ({" OR ".join(differs)})
                RETURNING p.rows_count
            )
            SELECT count(*), coalesce(sum(rows_count), 0) FROM updated
        """
        return sql, {"now": self.now, "workspace": self.workspace.pk, "consent_source": self.consent_source}

    def _consent_events_sql(self) -> tuple[str, dict[str, Any]]:
        """The consent history: one event per person and channel whose consent the import changed."""
        person = "coalesce(p.contact_id, p.new_id)"
        selects = [
            f"""SELECT %(now)s, %(now)s, {person}, '{channel}', p.final_{name}, %(source)s, '', %(actor)s
                FROM {PEOPLE_TABLE} p
                WHERE {person} IS NOT NULL AND NOT p.skipped AND p.final_{name} IS NOT NULL
                    AND p.final_{name} <> coalesce(p.old_{name}, %(unknown)s)"""
            for name, channel in CONSENT.items()
            if name in self.fields
        ]
        if not selects:
            return "SELECT 1", {}
        sql = (
            f"INSERT INTO {ConsentEvent._meta.db_table} "
            "(created_at, updated_at, contact_id, channel, status, source, text, actor_id) "
            + " UNION ALL ".join(selects)
        )
        return sql, {
            "now": self.now,
            "source": self.consent_source,
            "actor": self.actor_id,
            "unknown": Consent.UNKNOWN,
        }

    def _map_tags(self, cursor: Any) -> None:
        """Create the file's tags and note their ids by tag number (read from the table, which a
        rolled-back merge rolls back with it)."""
        cursor.execute(f"SELECT ref FROM {TAG_MAP_TABLE}")
        mapped = {ref for (ref,) in cursor.fetchall()}
        new = sorted(found for found in self.tag_numbers.values() if found[0] not in mapped)
        if not new:
            return
        created = tags_get_or_create(workspace=self.workspace, names=[name for _, name in new])
        tags = {tag.name.lower(): tag.pk for tag in created}
        cursor.execute(
            f"INSERT INTO {TAG_MAP_TABLE} (ref, tag_id) SELECT * FROM unnest(%s::integer[], %s::bigint[])",
            [[number for number, _ in new], [tags[name.lower()] for _, name in new]],
        )

    def _add_tags(self, cursor: Any) -> int:
        """Create the file's tags and link them. Returns the rows of people who were unchanged
        until they gained a tag: they count as updated and their `updated_at` moves, so syncing
        integrations see it."""
        self._map_tags(cursor)
        if not self.tag_numbers:
            return 0
        link = ContactTag._meta.db_table

        def links(person: str) -> str:
            return f"""
                SELECT {person} AS contact_id, t.tag_id
                FROM {PEOPLE_TABLE} p
                CROSS JOIN LATERAL unnest(p.tags) AS given(ref)
                JOIN {TAG_MAP_TABLE} t ON t.ref = given.ref
                WHERE {person} IS NOT NULL AND NOT p.skipped
                ORDER BY 1, 2
            """

        # New contacts hold no links yet, and a person's tag numbers are distinct: a plain insert
        # in index order is the cheapest write.
        cursor.execute(f"INSERT INTO {link} (contact_id, tag_id) {links('p.new_id')}")
        cursor.execute(
            f"""
            WITH added AS (
                INSERT INTO {link} (contact_id, tag_id) {links("p.contact_id")}
                ON CONFLICT DO NOTHING
                RETURNING contact_id
            ), touched AS (
                UPDATE {Contact._meta.db_table} c SET updated_at = %(now)s
                FROM {PEOPLE_TABLE} p
                WHERE p.contact_id = c.id AND c.updated_at <> %(now)s
                    AND c.id IN (SELECT contact_id FROM added)
                RETURNING p.rows_count
            )
            SELECT coalesce(sum(rows_count), 0) FROM touched
            """,
            {"now": self.now},
        )
        return int(cursor.fetchone()[0])


class Writer:
    """Feeds batches to a `StagedImport`: in a thread with its own database connection
    (`background`), so the database takes in one batch while the caller cleans the next, or in the
    caller's thread and transaction (tests, whose data the test transaction holds). The merge in
    `finish` is one transaction; a dry run's is rolled back after counting. `before_merge` runs in
    the thread once everything is staged (`MergeLanes` waits there for the other lanes), and
    `on_error` when the thread fails."""

    STOP = object()

    def __init__(
        self,
        stage: StagedImport,
        *,
        dry_run: bool,
        background: bool,
        before_merge: Callable[[], None] | None = None,
        on_error: Callable[[], None] | None = None,
    ) -> None:
        self.stage = stage
        self.dry_run = dry_run
        self.background = background
        self.before_merge = before_merge
        self.on_error = on_error
        self.batches: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.merged = False  # this lane committed its merge (read by `MergeLanes`)
        self.thread: threading.Thread | None = None
        self.stack = ExitStack()

    @property
    def counts(self) -> MergeCounts:
        return self.stage.counts

    def start(self) -> None:
        if self.background:
            self.thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
            self.thread.start()
        else:
            self._open()

    def submit(self, rows: Sequence[tuple[int, str, Mapping[str, Any]]]) -> None:
        if not self.background:
            self.stage.add(rows)
            return
        while True:  # wait for room, but notice a writer that died meanwhile
            self._raise_error()
            try:
                self.batches.put(rows, timeout=1)
                return
            except queue.Full:
                continue

    def finish(self) -> MergeCounts:
        """Merge what is staged and return the counts (rolled back after counting for a dry run)."""
        if not self.background:
            try:
                return self.stage.finish()
            finally:
                self._close()
        self.stop()
        return self.wait()

    def stop(self) -> None:
        """Nothing more to stage: merge (in the thread)."""
        if self.thread is None:
            raise RuntimeError("Start the writer first.")
        self.batches.put(self.STOP)

    def wait(self) -> MergeCounts:
        """Wait for the merge of a stopped writer; raise what failed it."""
        if self.thread is not None:
            self.thread.join()
        self._raise_error()
        return self.stage.counts

    def abandon(self) -> None:
        """Stop without merging what waits (a crash of the caller)."""
        if not self.background:
            self._close()
            return
        if self.thread is not None and self.thread.is_alive():
            self.error = self.error or RuntimeError("abandoned")
            with_room = False
            while not with_room and self.thread.is_alive():
                try:
                    self.batches.put(self.STOP, timeout=1)
                    with_room = True
                except queue.Full:
                    continue
            self.thread.join()

    def _open(self) -> None:
        if self.dry_run:
            self.stack.enter_context(transaction.atomic())
        self.stage.create()

    def _close(self) -> None:
        try:
            self.stage.drop()
        finally:
            if self.dry_run:  # however it ends, a dry run stores nothing
                transaction.set_rollback(True)
            self.stack.close()

    def _run(self) -> None:
        stopped = False
        try:
            with ExitStack() as stack:
                if self.dry_run:
                    stack.enter_context(transaction.atomic())
                self.stage.create()
                while (rows := self.batches.get()) is not self.STOP:
                    if self.error is None:
                        self.stage.add(rows)
                stopped = True
                if self.error is None:
                    if self.before_merge is not None:
                        self.before_merge()
                    self.stage.finish()
                    self.merged = not self.dry_run
                if self.dry_run:
                    transaction.set_rollback(True)
        except Exception as error:  # noqa: BLE001 - handed to the caller's thread, which raises it
            self.error = self.error or error
            if self.on_error is not None:
                self.on_error()
            while not stopped:  # let a caller blocked on a full queue go on, until it sends STOP
                stopped = self.batches.get() is self.STOP
        finally:
            connection.close()

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error


class PartlyMergedError(Exception):
    """A merge lane failed after another one had committed its part of the people."""


def lane_of(key: str, lanes: int) -> int:
    """A person's merge lane: `LANE_OF_KEY` in Python."""
    return hashlib.md5(key.encode(), usedforsecurity=False).digest()[0] % lanes


class MergeLanes:
    """Stages and merges a file in `len(stages)` lanes at once, each a `Writer` with its own
    connection and transaction, which takes the people whose key `lane_of` gives it (all rows of a
    person go to one lane, so each lane's merge is the whole-file merge of its people).

    One transaction keeps a database core busy for the whole merge of a million rows (a minute
    here) while the other core idles: two lanes use both. The price: the lanes commit one by one,
    so a crash between two commits leaves the people of the lanes that committed, which the error
    names (importing the file again in upsert mode stores the rest and counts them unchanged).
    The lanes wait for each other once everything is staged, so a failure while staging still
    stores nothing, and the file's new tags are created then, in a transaction of their own (two
    merges creating the same tag would wait for each other's commit)."""

    def __init__(self, stages: Sequence[StagedImport], *, dry_run: bool, background: bool) -> None:
        if len(stages) > 1 and (dry_run or not background):
            raise ValueError("Several lanes need background writers and a run that commits.")
        self.stages = list(stages)
        self.lanes = len(stages)
        self.barrier = threading.Barrier(self.lanes, action=self._create_tags)
        self.released = False  # every lane passed the barrier: a failure now is one lane's own
        self.writers = [
            Writer(
                stage,
                dry_run=dry_run,
                background=background,
                before_merge=self._wait_for_lanes if self.lanes > 1 else None,
                on_error=self._on_lane_error,
            )
            for stage in self.stages
        ]

    @property
    def counts(self) -> MergeCounts:
        total = MergeCounts()
        for writer in self.writers:
            total.add(writer.counts)
        return total

    def start(self) -> None:
        for writer in self.writers:
            writer.start()

    def submit(self, rows: Sequence[tuple[int, str, Mapping[str, Any]]]) -> None:
        if self.lanes == 1:
            self.writers[0].submit(rows)
            return
        parts: list[list[tuple[int, str, Mapping[str, Any]]]] = [[] for _ in self.writers]
        for row in rows:
            parts[lane_of(row[1], self.lanes)].append(row)
        for writer, part in zip(self.writers, parts, strict=True):
            writer.submit(part)

    def finish(self) -> MergeCounts:
        if self.lanes == 1:
            return self.writers[0].finish()
        for writer in self.writers:
            writer.stop()
        failed: BaseException | None = None
        for writer in self.writers:
            try:
                writer.wait()
            except Exception as error:  # noqa: BLE001 - the first real one is raised below
                if failed is None or isinstance(failed, threading.BrokenBarrierError):
                    failed = error
        if failed is None:
            return self.counts
        merged = [writer for writer in self.writers if writer.merged]
        if merged:
            stored = MergeCounts()
            for writer in merged:
                stored.add(writer.counts)
            raise PartlyMergedError(
                f"{str(failed).rstrip('.')}. The people of {len(merged)} of the file's {self.lanes} parts were stored "
                f"before that ({stored.created:,} rows created, {stored.updated:,} updated): import the "
                "file again in upsert mode to store the rest."
            ) from failed
        raise failed

    def abandon(self) -> None:
        self.barrier.abort()
        for writer in self.writers:
            writer.abandon()

    def _wait_for_lanes(self) -> None:
        self.barrier.wait()

    def _on_lane_error(self) -> None:
        """A lane failed: the others must not merge, unless they already are. (Aborting a barrier
        that released its threads can still break it for a thread that has not woken yet.)"""
        if not self.released:
            self.barrier.abort()

    def _create_tags(self) -> None:
        """In the last lane to arrive, before any merge: the file's tags, committed at once."""
        names = {name.lower(): name for stage in self.stages for _, name in stage.tag_numbers.values()}
        if names:
            tags_get_or_create(workspace=self.stages[0].workspace, names=sorted(names.values()))
        self.released = True


def _default(field: Any) -> Any:
    """What a new contact holds in a column the file does not give."""
    if field.default is not NOT_PROVIDED:
        return field.get_default()
    return None if field.null else ""


def is_available() -> bool:
    """The staged merge needs PostgreSQL (COPY, temporary tables, sha256)."""
    return connection.vendor == "postgresql"
