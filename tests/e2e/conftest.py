"""Browser tests: Debian's Chromium through Playwright, against pytest-django's live server.

Never run `playwright install` (there is no download here): the browser is /usr/bin/chromium.
Run with DJANGO_ALLOW_ASYNC_UNSAFE=true: Playwright's sync API keeps an event loop running in the
test's thread, and the tests still read and write the database with the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, ConsoleMessage, Error, Page

from apps.accounts.models import User

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options (--headed, --slowmo...), on Debian's Chromium."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server: Any) -> str:
    """Pages open on the live server: `page.goto("/w/acme/")`.

    Overriding it also keeps pytest-playwright 0.10's fallback `base_url` fixture from running: it
    is defined as an instance method, which pytest 9.2 deprecates with a warning the suite turns
    into an error.
    """
    return str(live_server.url)


class BrowserErrors:
    """Console errors and uncaught exceptions of the watched pages, CSP violations included."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def watch(self, page: Page) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.messages.append(f"{page.url}: {message.text}")

        def on_page_error(error: Error) -> None:
            self.messages.append(f"{page.url}: uncaught {error}")

        page.on("console", on_console)
        page.on("pageerror", on_page_error)
        return page


@pytest.fixture
def browser_errors(page: Page) -> BrowserErrors:
    """Watches `page` from the start; call `.watch()` for pages of other contexts."""
    errors = BrowserErrors()
    errors.watch(page)
    return errors


@pytest.fixture
def log_in(live_server: Any) -> Callable[[BrowserContext, User], None]:
    """Give a browser context the session of a logged-in user (the login form has its own test)."""

    def _log_in(context: BrowserContext, user: User) -> None:
        client = Client()
        client.force_login(user)
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session_key, "url": live_server.url}]
        )

    return _log_in
