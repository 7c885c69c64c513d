"""Screenshots of checked pages as evidence, with headless Chromium (Debian's, via Playwright).

The browser may reach only what the checker reached: `--host-resolver-rules` maps the checked
host to the address the checker vetted and every other name to nothing, and a route handler
aborts every request to another host or to an IP literal, and every non-http(s) request.
JavaScript is off. A browser that does not start, or a page that does not load, is logged and
skipped: a screenshot is evidence on top, never a reason for a check to fail.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings

from zonewarden.checks.models import Check, Verdict

log = logging.getLogger("zonewarden.checks")
MAX_PNG = 2 << 20
# Headless Chromium as root in a container: no sandbox, no GPU, nothing fetched in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARGS = [*CHROMIUM_ARGS, "--disable-quic"]


def _eligible(check: Check) -> bool:
    return check.status is not None and check.verdict != Verdict.REFUSED and bool(check.addresses)


def attach_screenshots(checks: list[Check]) -> int:
    """Take a PNG of each answered check's final URL and store it on the check; return how many."""
    wanted = [check for check in checks if _eligible(check)]
    if not wanted:
        return 0
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dependency
        log.warning("screenshots skipped: playwright is not installed")
        return 0
    shots: dict[int, bytes] = {}
    try:
        with sync_playwright() as driver:
            for check in wanted:
                host = (urlsplit(check.final_url or check.url).hostname or "").lower()
                address = check.addresses[0]
                rules = f"MAP {host} {address}, MAP * ~NOTFOUND" if host != address else "MAP * ~NOTFOUND"
                try:
                    browser = driver.chromium.launch(
                        executable_path=settings.ZONEWARDEN_CHROMIUM,
                        args=[*ARGS, f"--host-resolver-rules={rules}"],
                        timeout=settings.ZONEWARDEN_CHECK_TIMEOUT * 1000,
                    )
                except PlaywrightError as exc:
                    log.warning("screenshots skipped: Chromium did not start: %s", str(exc).splitlines()[0])
                    break
                try:
                    png = _shoot(browser, check, host)
                finally:
                    browser.close()
                if png is not None:
                    shots[check.pk] = png
    except Exception as exc:  # noqa: BLE001 - evidence on top: never let it break a check
        log.warning("screenshots stopped: %s", exc)
    # Stored after the browser is gone: Playwright's sync API runs an event loop, where the ORM may not.
    for check in wanted:
        if check.pk in shots:
            Check.objects.filter(pk=check.pk).update(screenshot=shots[check.pk])
            check.screenshot = shots[check.pk]
    return len(shots)


def _shoot(browser: object, check: Check, host: str) -> bytes | None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import Route

    def guard(route: Route) -> None:
        target = urlsplit(route.request.url)
        if target.scheme in ("http", "https") and (target.hostname or "").lower() == host:
            route.continue_()
        else:
            route.abort()

    context = browser.new_context(  # type: ignore[attr-defined]
        java_script_enabled=False,
        viewport={"width": 1280, "height": 800},
        user_agent=settings.ZONEWARDEN_CHECK_USER_AGENT,
    )
    try:
        page = context.new_page()
        page.route("**/*", guard)
        page.goto(
            check.final_url or check.url, timeout=settings.ZONEWARDEN_CHECK_TIMEOUT * 1000, wait_until="load"
        )
        png = page.screenshot(type="png")
    except PlaywrightError as exc:
        log.warning("no screenshot of %s: %s", check.url[:200], str(exc).splitlines()[0])
        return None
    finally:
        context.close()
    return png if len(png) <= MAX_PNG else None
