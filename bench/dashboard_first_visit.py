"""Benchmark: time from navigation to every chart drawn on the overview, first visit (empty browser cache) and repeat.

    python bench/dashboard_load.py --rows 200000 --workers 2 --db greenesg_dashbench   # seeds the database once
    python bench/dashboard_first_visit.py --db greenesg_dashbench [--runs 5]

Serves the seeded database with gunicorn in production mode (whitenoise: hashed, pre-compressed static files)
on 127.0.0.1 and drives Debian's Chromium through Playwright (as tests/browser does). The overview body is cached
on the server first, so the figure is the browser's cost: downloading, parsing and running plotly.js and
drawing the charts. Each first visit is a new browser context (empty HTTP cache, logged in by cookie); each
repeat visit reloads in the same context. Loopback hides network time: the script also prints the bytes of
plotly.js as served (brotli), which is what a slow link pays for.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_load import ROOT, _env, _free_port, _get, _wait, session_cookie  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ALL_DRAWN = """() => {
  const charts = [...document.querySelectorAll('div.chart[data-figure]')];
  return charts.length > 0 && charts.every(el => el.querySelector('.main-svg'));
}"""


def _visit(page: object, url: str) -> float:
    started = time.perf_counter()
    page.goto(url, wait_until="commit")  # type: ignore[attr-defined]
    page.wait_for_function(ALL_DRAWN, timeout=60_000)  # type: ignore[attr-defined]
    return (time.perf_counter() - started) * 1000


def measure(origin: str, cookie: tuple[str, str], runs: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    first: list[float] = []
    repeat: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            # The production cookie is `__Secure-…`, which Chromium keeps over plain http on localhost only.
            secure = {"domain": "localhost", "path": "/", "secure": True}
            context.add_cookies([{"name": cookie[0], "value": cookie[1], **secure}])
            page = context.new_page()
            first.append(_visit(page, origin + "/o/bench/"))
            repeat.append(_visit(page, origin + "/o/bench/"))
            context.close()
        browser.close()
    return {"first visit": first, "repeat visit": repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="greenesg_dashbench", help="a database seeded by bench/dashboard_load.py")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--static-root", default="", help="collected static files (collected here if missing)")
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="dashvisit-"))
    redis_port, web_port = _free_port(), _free_port()
    static_root = args.static_root or str(var / "static")
    env = _env(args.db, var, f"redis://127.0.0.1:{redis_port}/0", static_root)
    env["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    if not (Path(static_root) / "staticfiles.json").exists():
        collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
        subprocess.run(collect, cwd=ROOT, env=env, check=True)
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).with_name("gunicorn"))
    web = subprocess.Popen(
        [gunicorn, "greenesg.wsgi", "-b", f"127.0.0.1:{web_port}", "-w", "2", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait(redis_port)
        _wait(web_port)
        cookie = session_cookie(env)
        headers = {"Cookie": f"{cookie[0]}={cookie[1]}", "Host": "127.0.0.1"}
        status, html, _, _ = _get(web_port, "/o/bench/", headers)  # caches the body on the server
        if status != 200:
            raise RuntimeError(f"the overview answered {status}")
        script = next(part for part in html.decode().split('"') if "/static/js/plotly" in part)
        _, body, got, _ = _get(web_port, script, {"Host": "127.0.0.1", "Accept-Encoding": "br"})
        print(f"{script}: {len(body):,} bytes as served ({got.get('content-encoding', 'identity')})")
        results = measure(f"http://localhost:{web_port}", cookie, args.runs)
    finally:
        web.terminate()
        web.wait(timeout=30)
        redis.terminate()
        redis.wait(timeout=30)
        shutil.rmtree(var, ignore_errors=True)
    print(f"{'overview, all charts drawn':<28} {'n':>3} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for name, times in results.items():
        print(f"{name:<28} {len(times):>3} {statistics.median(times):>10.0f} {min(times):>8.0f} {max(times):>8.0f}")
    print(f"(load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
