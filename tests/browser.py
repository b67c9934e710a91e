"""Headless Chromium for the admin tests: Debian's /usr/bin/chromium driven by Playwright."""

import os
from contextlib import contextmanager

from playwright.sync_api import sync_playwright

# Playwright's sync API runs an event loop in this thread; Django refuses DB access from a
# thread with a running loop unless told it is safe (it is: the loop is Playwright's, not ours).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling out, and this network refuses it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium_page(*, width: int = 1400, height: int = 900):
    """A fresh browser page. Start it after the test's data is written: while Playwright's loop
    runs, Django's connection lookups resolve to another context, whose connection the test's
    teardown would not close."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # English pages whatever the machine's locale: Chromium sends Accept-Language from it.
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="en-US"
            )
            context.set_default_timeout(15_000)
            yield context.new_page()
        finally:
            browser.close()


@contextmanager
def chromium_pages(n: int, *, width: int = 1400, height: int = 900):
    """`n` pages, each in its own browser context (its own cookies: one login each), of one Chromium.
    Start it after the test's data is written (see chromium_page)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pages = []
            for _ in range(n):
                context = browser.new_context(viewport={"width": width, "height": height})
                context.set_default_timeout(15_000)
                pages.append(context.new_page())
            yield pages
        finally:
            browser.close()
