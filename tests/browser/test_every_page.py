"""Every page of the demo, for each demo login, at desktop (1440 px) and phone (390 px) size (issue 14 item 15).

Per page: no console error, no request outside the server, no sideways scroll of the page itself (a wide table
scrolls inside its own box), every chart drawn, no serious or critical axe-core violation (issue 14 item 18;
every finding goes to test-artifacts/accessibility/<login>-<size>.json), and a full-page screenshot
`test-artifacts/screenshots/<login>-<page-name>-<desktop|phone>.png` for a person to look at. One test per
login × size, so the demo loads once per test and every problem of a page walk is listed at once.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.axe import axe_load, axe_report, axe_violations
from tests.browser.conftest import DEMO_LOGINS, DESKTOP, PHONE, PageWatch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": DESKTOP, "phone": PHONE}

# Elements wider than the viewport, named so a failure says what to fix rather than only "it scrolls".
WIDE_ELEMENTS_JS = """() => {
  const limit = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right > limit + 1 && box.width > 0) {
      // Inside a box that scrolls on its own, overflow is fine: report only what widens the page.
      let clipped = false;
      for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
        const style = getComputedStyle(up);
        if (style.overflowX !== 'visible' && up.getBoundingClientRect().right <= limit + 1) { clipped = true; break; }
      }
      if (!clipped) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
        ' right=' + Math.round(box.right));
    }
  }
  return wide.slice(0, 5);
}"""

# Charts a page should draw: a chart box whose json_script figure is not null.
CHARTS_JS = """() => {
  const boxes = [...document.querySelectorAll('div.chart[data-figure]')].filter(el => {
    const source = document.getElementById(el.getAttribute('data-figure'));
    return source && source.textContent.trim() !== 'null';
  });
  return {expected: boxes.length, drawn: boxes.filter(el => el.querySelector('.main-svg')).length};
}"""


def _sideways(watch: PageWatch) -> str | None:
    scroll = watch.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if scroll[0] <= scroll[1]:
        return None
    return f"scrolls sideways ({scroll[0]} > {scroll[1]} px): {watch.page.evaluate(WIDE_ELEMENTS_JS)}"


def _charts(watch: PageWatch) -> str | None:
    charts = watch.page.evaluate(CHARTS_JS)
    if charts["expected"] == 0:
        return None
    try:
        watch.page.wait_for_function(
            "n => document.querySelectorAll('div.chart[data-figure] .main-svg').length >= n",
            arg=charts["expected"],
            timeout=10_000,
        )
    except Exception:  # noqa: BLE001 - the count below says what is missing
        charts = watch.page.evaluate(CHARTS_JS)
        return f"{charts['drawn']} of {charts['expected']} charts drawn"
    return None


def _check(
    watch: PageWatch, url: str, name: str, *, expect_status: int = 200, axe: Any = None, found: list | None = None
) -> list[str]:
    """Open one page; the problems found on it, each prefixed with the page (axe's findings go to `found`)."""
    watch.errors.clear()
    watch.outside.clear()
    response = watch.page.goto(url)
    watch.page.wait_for_load_state("load")
    problems = []
    if response is None or response.status != expect_status:
        problems.append(f"answered {response.status if response else 'nothing'}, not {expect_status}")
    problems += [p for p in (_charts(watch), _sideways(watch)) if p]
    if axe is not None and found is not None:
        found += axe_violations(axe, watch.page, name)
    watch.shot(name)
    # The browser logs a non-200 answer of the page itself as a console error; that one is expected.
    errors = [e for e in watch.errors if not (expect_status != 200 and str(expect_status) in e)]
    problems += [f"console error: {e}" for e in errors] + [f"request outside the server: {u}" for u in watch.outside]
    return [f"{name} {url}: {p}" for p in problems]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("login", DEMO_LOGINS)
def test_every_page_opens_cleanly(demo_site: Any, open_demo: Any, live_server: Any, login: str, size: str) -> None:
    pages = demo_site(login)
    assert len(pages) > 10, pages  # the walk found the demo's pages, not only the home page
    axe = axe_load()
    watch = open_demo(login, SIZES[size])
    problems: list[str] = []
    found: list[dict[str, Any]] = []
    for page in pages:
        problems += _check(watch, live_server.url + page.url, f"{login}-{page.name}-{size}", axe=axe, found=found)
    # A 404 inside the organisation: the error page keeps the layout (navigation, no sideways scroll).
    not_found = live_server.url + "/o/demo/no-such-page/"
    problems += _check(watch, not_found, f"{login}-404-{size}", expect_status=404, axe=axe, found=found)
    problems += axe_report(f"{login}-{size}", [p.url for p in pages] + [not_found], found)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("size", list(SIZES))
def test_login_and_not_found_pages_open_cleanly(browser: Any, live_server: Any, size: str) -> None:
    context = browser.new_context(viewport=SIZES[size])
    try:
        watch = PageWatch(context.new_page(), live_server.url)
        problems = _check(watch, live_server.url + "/login/", f"anonymous-login-{size}")
        problems += _check(watch, live_server.url + "/no-such-page/", f"anonymous-404-{size}", expect_status=404)
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
