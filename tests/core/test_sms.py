"""Specifications of the SMS backends: console, file, in-memory outbox, and choosing one by setting."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.core import sms
from apps.core.sms import (
    BaseSmsBackend,
    ConsoleSmsBackend,
    FileSmsBackend,
    LocmemSmsBackend,
    SmsError,
    SmsMessage,
    SmsResult,
    get_backend,
)

HELLO = SmsMessage(to="+4915123456789", body="Spring sale: 20% off today.", sender="Acme", reference="item-7")


@pytest.fixture(autouse=True)
def _empty_outbox() -> Iterator[None]:
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def _is_provider_id(value: str) -> bool:
    return len(value) == 32 and all(char in "0123456789abcdef" for char in value)


# --- Messages and errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["015123456789", "+49 151 23456789", "+0123456", "4915123456789", ""])
def test_message_rejects_a_number_not_in_e164(number: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        SmsMessage(to=number, body="Hi")


def test_message_sender_and_reference_are_optional() -> None:
    message = SmsMessage(to="+14155550100", body="Hi")

    assert (message.sender, message.reference) == ("", "")


@pytest.mark.parametrize(("status", "transient"), [(429, True), (500, True), (503, True), (408, True)])
def test_rate_limits_outages_and_timeouts_are_transient(status: int, transient: bool) -> None:
    error = SmsError.from_status(status)

    assert error.transient is transient
    assert error.status == status


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_client_errors_are_permanent(status: int) -> None:
    assert SmsError.from_status(status, "Number blocked").transient is False


def test_a_timeout_is_transient() -> None:
    error = SmsError.timeout()

    assert error.transient is True
    assert error.status is None
    assert "in time" in str(error)


# --- Console -----------------------------------------------------------------------------------------


def test_console_backend_writes_a_readable_block() -> None:
    stream = io.StringIO()

    result = ConsoleSmsBackend(stream=stream).send(HELLO)

    output = stream.getvalue()
    assert f"SMS {result.provider_id}" in output
    assert "To: +4915123456789" in output
    assert "From: Acme" in output
    assert "Reference: item-7" in output
    assert "Spring sale: 20% off today.\n" in output


def test_console_backend_writes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleSmsBackend().send(HELLO)

    assert "Spring sale: 20% off today." in capsys.readouterr().out


def test_console_backend_gives_each_message_a_provider_id() -> None:
    backend = ConsoleSmsBackend(stream=io.StringIO())

    first, second = backend.send(HELLO), backend.send(HELLO)

    assert _is_provider_id(first.provider_id)
    assert first.provider_id != second.provider_id


# --- File --------------------------------------------------------------------------------------------


def _lines(folder: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in (folder / "sms.jsonl").read_text(encoding="utf-8").splitlines()]


def test_file_backend_appends_one_json_line_per_message(settings: Any, tmp_path: Path) -> None:
    settings.SMS_FILE_PATH = tmp_path / "sms"

    first = FileSmsBackend().send(HELLO)
    second = FileSmsBackend().send(SmsMessage(to="+14155550100", body="Grüße 👋"))

    records = _lines(tmp_path / "sms")
    assert [record["provider_id"] for record in records] == [first.provider_id, second.provider_id]
    assert records[0]["to"] == "+4915123456789"
    assert records[0]["body"] == "Spring sale: 20% off today."
    assert records[0]["sender"] == "Acme"
    assert records[0]["reference"] == "item-7"
    assert records[0]["sent_at"].endswith("+00:00")
    assert records[1]["body"] == "Grüße 👋"


def test_file_backend_reuses_one_open_file_inside_a_with_block(settings: Any, tmp_path: Path) -> None:
    settings.SMS_FILE_PATH = tmp_path
    backend = FileSmsBackend()

    with backend:
        stream = backend._stream
        backend.send(HELLO)
        backend.send(HELLO)
        assert backend._stream is stream is not None

    assert backend._stream is None
    assert len(_lines(tmp_path)) == 2


def test_file_backend_takes_a_folder_of_its_own(tmp_path: Path) -> None:
    FileSmsBackend(file_path=tmp_path / "elsewhere").send(HELLO)

    assert len(_lines(tmp_path / "elsewhere")) == 1


def test_file_backend_needs_a_folder(settings: Any) -> None:
    settings.SMS_FILE_PATH = ""

    with pytest.raises(ImproperlyConfigured, match="SMS_FILE_PATH"):
        FileSmsBackend()


# --- Locmem ------------------------------------------------------------------------------------------


def test_locmem_backend_keeps_messages_in_the_outbox() -> None:
    backend = LocmemSmsBackend()

    result = backend.send(HELLO)
    with backend:
        backend.send(SmsMessage(to="+14155550100", body="Second"))

    assert sms.outbox == [HELLO, SmsMessage(to="+14155550100", body="Second")]
    assert _is_provider_id(result.provider_id)


# --- Choosing a backend ------------------------------------------------------------------------------


def test_get_backend_uses_the_setting(settings: Any) -> None:
    settings.SMS_BACKEND = "apps.core.sms.LocmemSmsBackend"

    backend = get_backend()
    backend.send(HELLO)

    assert isinstance(backend, LocmemSmsBackend)
    assert sms.outbox == [HELLO]


def test_get_backend_defaults_to_the_console_without_a_setting(settings: Any) -> None:
    del settings.SMS_BACKEND

    assert isinstance(get_backend(), ConsoleSmsBackend)


def test_get_backend_takes_a_path_and_constructor_arguments(tmp_path: Path) -> None:
    backend = get_backend("apps.core.sms.FileSmsBackend", file_path=tmp_path)

    assert isinstance(backend, FileSmsBackend)
    assert backend.path == tmp_path / "sms.jsonl"


def test_get_backend_refuses_something_that_is_not_a_backend(settings: Any) -> None:
    settings.SMS_BACKEND = "apps.core.sms.SmsMessage"

    with pytest.raises(ImproperlyConfigured, match="not an SMS backend"):
        get_backend()


def test_get_backend_reports_a_missing_backend(settings: Any) -> None:
    settings.SMS_BACKEND = "apps.core.sms.CarrierPigeonBackend"

    with pytest.raises(ImportError):
        get_backend()


def test_the_base_backend_leaves_sending_to_subclasses() -> None:
    with pytest.raises(NotImplementedError):
        BaseSmsBackend().send(HELLO)


def test_a_result_carries_the_provider_id() -> None:
    assert SmsResult(provider_id="abc").provider_id == "abc"
