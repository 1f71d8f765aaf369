"""Cleaning an import's rows, in this process and in helper processes at once.

Reading and cleaning a million rows is about 40 s of Python on one core, and during that phase the
database only takes in `COPY`: the second core idles. A `CleaningPool` hands batches of read rows
to helper processes (`python -m apps.contacts.importing.helper`) while this process reads the next
ones and stages cleaned rows, then gives the results back in file order, so the report, the counts
and the staged rows are exactly what cleaning everything here gives.

Helpers are separate programs fed through a pipe, not `multiprocessing` workers: Celery's prefork
children are daemonic and may not start those. A helper never touches the database; it gets a
`RowCleaner` (the job's mapping and the workspace's rules) once, then batches of rows.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import traceback
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import IO, Any

from django.conf import settings

from apps.contacts.choices import Consent
from apps.contacts.cleaning import ContactRules, clean_contact_values
from apps.contacts.importing.setup import row_parser
from apps.contacts.importing.values import RowParser
from apps.contacts.models import ImportJob

# (file row number, cells, the reader's error for the row)
RawRow = tuple[int, list[str], str | None]
# (file row number, person key: email, else "tel:" + phone, cleaned values)
StagedRow = tuple[int, str, dict[str, Any]]
# (column, value, message) for each bad cell of a row
Problem = tuple[str, str, str]
# (file row number, cells, problems)
RejectedRow = tuple[int, list[str], list[Problem]]

HELPER_EXIT_SECONDS = 10


class CleaningHelperError(Exception):
    """A helper process failed; the import fails with its reason and stores nothing."""


@dataclass
class CleanedBatch:
    staged: list[StagedRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass
class RowCleaner:
    """Everything cleaning a row needs, and nothing that needs the database, so it can travel to a
    helper process."""

    job: ImportJob
    custom_types: Mapping[str, str]
    field_columns: Mapping[str, int]
    rules: ContactRules

    @cached_property
    def parse(self) -> RowParser:
        return row_parser(self.job, self.custom_types)

    def clean(self, rows: Sequence[RawRow]) -> CleanedBatch:
        batch = CleanedBatch()
        for number, cells, error in rows:
            outcome = self.clean_row(number, cells, error)
            if isinstance(outcome[1], str):
                batch.staged.append(outcome)
            else:
                batch.rejected.append(outcome)
        return batch

    def clean_row(self, number: int, cells: list[str], error: str | None) -> StagedRow | RejectedRow:
        """A row's cleaned values and its person's key, or the row with its problems."""
        job = self.job
        if error:
            return number, cells, [("", "", error)]
        parsed, column_errors = self.parse(cells)
        if column_errors:
            return (
                number,
                cells,
                [(job.headers[i], cells[i], message) for i, message in column_errors.items()],
            )
        cleaned = clean_contact_values(parsed, rules=self.rules)
        values, errors = cleaned.values, cleaned.errors
        if not errors and not values.get("email_normalized") and not values.get("phone_e164"):
            errors = {"email": "A contact needs an email address or a phone number."}
        if errors:
            return (
                number,
                cells,
                [
                    field_problem(job.headers, self.field_columns, cells, name, message)
                    for name, message in errors.items()
                ],
            )
        if not job.consent_confirmed:  # an opt-in nobody confirmed is not recorded (ConsentPolicy)
            for name in ("email_consent", "sms_consent"):
                if values.get(name) == Consent.OPTED_IN:
                    del values[name]
        key = values.get("email_normalized") or f"tel:{values['phone_e164']}"
        return number, key, values


def field_problem(
    headers: Sequence[str], field_columns: Mapping[str, int], cells: Sequence[str], name: str, message: str
) -> Problem:
    """An error on a contact field, named by the file's column it came from."""
    index = field_columns.get(name)
    if index is None:
        return (name, "", message)
    return (headers[index], cells[index], message)


class _Helper:
    """One helper process and the batch it holds, if any."""

    def __init__(self, cleaner: RowCleaner) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "apps.contacts.importing.helper"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=settings.BASE_DIR,  # the settings module comes with the environment
        )
        self.busy = False
        self._send(cleaner, rows=False)

    def start(self, rows: Sequence[RawRow]) -> None:
        self._send(list(rows))
        self.busy = True

    def result(self) -> CleanedBatch:
        try:
            status, payload = pickle.load(self._pipe(self.process.stdout))  # noqa: S301 - our own child
        except (EOFError, pickle.UnpicklingError, OSError) as error:
            raise CleaningHelperError(f"A cleaning helper stopped ({self._exit_note()}).") from error
        self.busy = False
        if status != "ok":
            raise CleaningHelperError(f"A cleaning helper failed:\n{payload}")
        batch: CleanedBatch = payload
        return batch

    def close(self, *, kill: bool = False) -> None:
        process = self.process
        if kill:
            process.kill()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
        try:
            process.wait(timeout=HELPER_EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _send(self, item: Any, *, rows: bool = True) -> None:
        stdin = self._pipe(self.process.stdin)
        try:
            dump(item, stdin, rows=rows)
        except OSError as error:  # the pipe broke: the helper is gone
            raise CleaningHelperError(f"A cleaning helper stopped ({self._exit_note()}).") from error

    def _exit_note(self) -> str:
        code = self.process.poll()
        return "still running" if code is None else f"exit code {code}"

    @staticmethod
    def _pipe(pipe: IO[bytes] | None) -> IO[bytes]:
        if pipe is None:  # pragma: no cover - Popen was given PIPE
            raise CleaningHelperError("A cleaning helper has no pipe.")
        return pipe


class CleaningPool:
    """Cleans the first batch here and the next ones in turn in `helpers` helper processes (all of
    them here with none), and gives the cleaned batches back in the order they came. This process
    reads the file and stages rows meanwhile: with two helpers, two cores stay busy. A file of one
    batch never starts a helper.

    Each helper holds at most one batch, and its result is read before it gets the next one, so
    neither side can block the other on a full pipe."""

    def __init__(self, cleaner: RowCleaner, *, helpers: int) -> None:
        self.cleaner = cleaner
        self.wanted = max(helpers, 0)
        self.helpers: list[_Helper] = []
        self.turn = 0
        # In file order: a cleaned batch, or the helper that cleans it.
        self.waiting: deque[CleanedBatch | _Helper] = deque()

    def submit(self, rows: Sequence[RawRow], *, last: bool = False) -> Iterator[CleanedBatch]:
        """Start cleaning `rows`; yield the batches that are ready, oldest first. The helpers start
        with the first batch unless it is the `last` (it is cleaned here while they boot)."""
        turn = self.turn
        self.turn += 1
        if turn == 0 and not last:
            self.helpers = [_Helper(self.cleaner) for _ in range(self.wanted)]
        if turn == 0 or not self.helpers or not rows:
            self.waiting.append(self.cleaner.clean(rows))
        else:
            helper = self.helpers[(turn - 1) % len(self.helpers)]
            if helper.busy:  # its last batch first: everything before it comes out too
                yield from self._take_until(helper)
            helper.start(rows)
            self.waiting.append(helper)
        while self.waiting and isinstance(self.waiting[0], CleanedBatch):
            yield self._take()

    def drain(self) -> Iterator[CleanedBatch]:
        """Every batch still being cleaned, in order."""
        while self.waiting:
            yield self._take()

    def close(self, *, kill: bool = False) -> None:
        for helper in self.helpers:
            helper.close(kill=kill)
        self.helpers = []

    def _take_until(self, helper: _Helper) -> Iterator[CleanedBatch]:
        while helper.busy:
            yield self._take()

    def _take(self) -> CleanedBatch:
        head = self.waiting.popleft()
        return head.result() if isinstance(head, _Helper) else head


def dump(item: Any, stream: IO[bytes], *, rows: bool = True) -> None:
    """Pickle `rows` without the memo: they hold no shared or cyclic objects, and remembering each of
    their strings cost more than the pickling itself (`fast` mode: 4 ms for 20,000 rows, not 24)."""
    pickler = pickle.Pickler(stream, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = rows
    pickler.dump(item)
    stream.flush()


def serve(batches: IO[bytes], results: IO[bytes]) -> None:
    """A helper's loop: a `RowCleaner`, then batches of rows in and cleaned batches out, until the
    importing process closes the pipe."""
    cleaner: RowCleaner = pickle.load(batches)  # noqa: S301 - sent by the importing process
    while True:
        try:
            rows = pickle.load(batches)  # noqa: S301 - sent by the importing process
        except EOFError:
            return
        try:
            reply: tuple[str, Any] = ("ok", cleaner.clean(rows))
        except Exception:  # noqa: BLE001 - handed to the importing process, which fails the import
            reply = ("error", traceback.format_exc())
        dump(reply, results)
