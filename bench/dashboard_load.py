"""Benchmark: dashboard latency under 20 concurrent users against gunicorn on loopback, at 1M and 10M ledger rows.

    python bench/dashboard_load.py [--rows 1000000,10000000] [--projects 1000] [--users 20] [--requests 40]
    python bench/dashboard_load.py --rows 200000 --workers 2   # a few minutes on a small machine
    python bench/dashboard_load.py --rows 10000000 --workers 2 --db h6d_dashbench --reuse   # seed once, run again

For each size: (re)creates the PostgreSQL database `--db` (default greenesg_dashbench on 127.0.0.1:5432, user
postgres), migrates it, seeds one organisation with `--projects` projects and N ledger rows over 3 years generated
inside PostgreSQL (INSERT … SELECT generate_series: no client round trip per row), refreshes the daily and monthly
rollups with `ledger.rollup_refresh` (with `--reuse`, a database whose seed marker names the same rows and projects
is kept as it is: seeding 10M rows takes a long while), starts a private redis-server (cache) and gunicorn in
production mode on 127.0.0.1, and runs `--users` threads that each request the overview, a project page, a filtered
overview and a drill-down (records list) `--requests` times in a random order (bounded count and a time cap) after
a sequential warm-up that requests each distinct URL once. Prints p50/p95/max per page under load (steady state
between two imports), and separately the warm-up's cold (uncached) request of each URL.

Also, in the same run: a baseline of the login page and a static file (the floor of this machine and server:
every page figure is given as a ratio to the login page, since a shared machine makes absolute times drift);
the cached overview requested one at a time; the after-import stampede (`--users` viewers open the overview
at once right after an import bumped the dashboard generation, once without and once after the after-import
warm-up hook); the overview alone right after an import bumped the generation, in workers that served it
before (cache cold, process warm); gunicorn's CPU seconds per request in each phase (from /proc, so Linux only); the
overview's HTML size with and without gzip; and the same closed loop (`--users` users, no think time) on the login
page, with each loop's throughput and the whole machine's busy CPU per request (server, load client, PostgreSQL and
Redis share the cores): by Little's law a closed loop's mean latency is users / throughput, so when the machine's
cores are saturated the p95 under load says more about the machine than about the page. Traffic goes to 127.0.0.1
only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432/"
SECRET = "bench-x7#Lq9!vR2@mZ4$kT8^wB1&nC6*eH3(jP5)sD0_gF-yU+aI=oK~"  # noqa: S105 (a throwaway loopback server)
END_DAY = dt.date(2026, 10, 31)
DAYS = 3 * 365
PROVIDERS = [("aws", ["us-east-1", "eu-west-1", "eu-north-1"]), ("gcp", ["europe-west1", "us-central1"])]


def _env(db: str, var: Path, cache_url: str, static_root: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=PG + db,
        GREENESG_MODE="production",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        GREENESG_VAR_DIR=str(var),
        CACHE_URL=cache_url,
        DJANGO_SETTINGS_MODULE="greenesg.settings",
    )
    if static_root:
        env["STATIC_ROOT"] = static_root
    return env


def _admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG + "postgres", autocommit=True) as conn:
        conn.execute(statement)


# The ledger in one statement per chunk: each row is a codecarbon run (2/3) or a billing line (1/3) of a
# project spread over 3 years; ~1 % of cloud rows carry the region_unmapped flag.
SEED_SQL = """
INSERT INTO footprint_ledgerentry (organisation_id, project_id, natural_key, source, period_start, period_end, day,
  experiment, run_id, provider, region, country_iso, service, resource_category, usage_amount, usage_unit,
  duration_s, energy_it_kwh, energy_facility_kwh, kgco2e_location, kgco2e_market, kgco2e_embodied, water_l, cost,
  currency, scope, category, method, pue_applied, factor_id, factor_g_per_kwh, factor_version,
  market_factor_g_per_kwh, market_basis, flags, in_inventory, import_job_id, source_row, attributes, updated_at)
SELECT %(org)s, p.id, 'b:' || g, CASE WHEN g %% 3 = 0 THEN 'billing' ELSE 'codecarbon' END,
  ts - interval '1 hour', ts, ts::date,
  CASE WHEN g %% 3 = 0 THEN '' ELSE 'exp-' || (g %% 7) END, 'run-' || g,
  CASE WHEN p.n %% 2 = 0 THEN 'aws' ELSE 'gcp' END,
  CASE WHEN p.n %% 2 = 0 THEN (ARRAY['us-east-1','eu-west-1','eu-north-1'])[1 + p.n %% 3]
       ELSE (ARRAY['europe-west1','us-central1'])[1 + p.n %% 2] END,
  'USA', CASE WHEN g %% 3 = 0 THEN (ARRAY['EC2','S3','Lambda'])[1 + g %% 3] ELSE '' END, '', NULL, '',
  3600, e, e * 1.1, e * 0.3, e * 0.25, 0, 0, CASE WHEN g %% 3 = 0 THEN e * 0.12 ELSE NULL END, 'USD',
  3, '1.1', CASE WHEN g %% 3 = 0 THEN 'modelled' ELSE 'measured' END, 1.1, NULL, 300, 'bench@v1', 250, '',
  CASE WHEN g %% 97 = 0 THEN '["region_unmapped"]'::jsonb ELSE '[]'::jsonb END, true, NULL, g %% 5000,
  '{"cpu_model": "Bench CPU"}'::jsonb, now()
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
CROSS JOIN LATERAL (SELECT (%(end)s::timestamptz - ((g * 7919) %% (%(days)s * 86400)) * interval '1 second') AS ts,
                           0.05 + (g %% 100) / 100.0 AS e) AS v
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM accounts_project WHERE organisation_id = %(org)s) AS p
  ON p.n = g %% %(projects)s
"""


# The last step of a seed records what it seeded; `--reuse` trusts only this row, so a seed that was interrupted
# (no row yet) or made for another size is recreated rather than measured.
MARKER_TABLE = "bench_dashboard_seed"


def seeded(db: str, rows: int, projects: int) -> bool:
    """Whether `db` holds a finished seed of exactly `rows` ledger rows and `projects` projects."""
    import psycopg

    try:
        with psycopg.connect(PG + db, autocommit=True) as conn:
            found = conn.execute(f"SELECT to_regclass('{MARKER_TABLE}') IS NOT NULL").fetchone()
            if not found or not found[0]:
                return False
            marker = conn.execute(f"SELECT rows, projects FROM {MARKER_TABLE}").fetchone()
    except psycopg.OperationalError:  # no such database yet
        return False
    return marker == (rows, projects)


def seed(db: str, rows: int, projects: int, env: dict[str, str], reuse: bool = False) -> None:
    if reuse and seeded(db, rows, projects):
        # Migrate anyway: a branch may have added a migration since the seed (nothing to do otherwise).
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        print(f"reusing the seed in {db} ({rows:,} rows, {projects} projects)", flush=True)
        return
    _admin_sql(f'DROP DATABASE IF EXISTS "{db}"')
    _admin_sql(f'CREATE DATABASE "{db}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    code = f"""
import datetime as dt, time
from django.contrib.auth.models import User
from django.db import connection, transaction
from greenesg.accounts.models import Membership, Organisation, Project, Role
from greenesg.footprint.ledger import rollup_refresh
org = Organisation.objects.create(slug="bench", name="Bench Corp")
Project.objects.bulk_create([Project(organisation=org, slug=f"p{{i:04d}}", name=f"Project {{i}}",
                                      team=f"Team {{i % 20}}") for i in range({projects})])
user = User.objects.create_user("bench", password="pw-bench-load-1")
Membership.objects.create(user=user, organisation=org, role=Role.OFFICER)
started = time.perf_counter()
with connection.cursor() as cursor:
    chunk = 1_000_000
    for first in range(0, {rows}, chunk):
        cursor.execute('''{SEED_SQL}''', dict(org=org.id, first=first, last=min(first + chunk, {rows}) - 1,
                       end="{END_DAY}T23:00:00+00", days={DAYS}, projects={projects}))
    cursor.execute("ANALYZE footprint_ledgerentry")
print(f"ledger rows: {{time.perf_counter() - started:.0f}} s", flush=True)
started = time.perf_counter()
with transaction.atomic():
    ids = list(Project.objects.filter(organisation=org).values_list("id", flat=True))
    rollup_refresh(organisation_id=org.id, project_ids=ids, first_day=dt.date(2020, 1, 1), last_day=dt.date(2030, 1, 1))
with connection.cursor() as cursor:
    cursor.execute("ANALYZE footprint_ledgerdaily; ANALYZE footprint_ledgermonthly")
    cursor.execute("SELECT count(*) FROM footprint_ledgerdaily")
    daily = cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM footprint_ledgermonthly")
    monthly = cursor.fetchone()[0]
print(f"rollups: {{time.perf_counter() - started:.0f}} s, daily rows {{daily}}, monthly rows {{monthly}}", flush=True)
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE {MARKER_TABLE} (rows bigint NOT NULL, projects integer NOT NULL)")
    cursor.execute("INSERT INTO {MARKER_TABLE} VALUES (%s, %s)", [{rows}, {projects}])
"""
    subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True)


def session_cookie(env: dict[str, str]) -> tuple[str, str]:
    code = (
        "from django.conf import settings; from django.test import Client; from django.contrib.auth.models import User;"
        "c = Client(); c.force_login(User.objects.get(username='bench'));"
        "print(settings.SESSION_COOKIE_NAME, c.cookies[settings.SESSION_COOKIE_NAME].value)"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    name, value = out.stdout.split()[-2:]
    return name, value


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def urls(projects: int, rng: random.Random) -> dict[str, list[str]]:
    """A few URLs per page kind; projects vary, so project pages are often a first (uncached) view."""
    base = "/o/bench/"
    slugs = [f"p{i:04d}" for i in rng.sample(range(projects), min(projects, 40))]
    return {
        "overview": [base, base + "?period=last_12_months"],
        "project": [f"{base}p/{slug}/" for slug in slugs],
        "filtered": [
            base + "?provider=aws&period=ytd",
            base + "?region=eu-west-1&scope=scope3.cat1.1",
            base + "?source=billing&start=2025-01-15&end=2025-06-10",
            base + "?team=Team+3&grain=quarter",
        ],
        "drill-down": [f"{base}records/?project={slug}&source=billing&provider=aws" for slug in slugs[:20]],
    }


def _machine_busy_seconds() -> float:
    """CPU seconds all cores of the machine spent busy since boot (/proc/stat: every field but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def closed_loop(
    port: int,
    headers: dict[str, str],
    pages: dict[str, list[str]],
    users: int,
    requests: int,
    seen: set[str],
    pid: int,
) -> dict:
    """`users` threads, each on its own connection, request `requests` pages of `pages` in a random order with no
    think time (a closed loop: a user sends the next request when the previous answer arrived). A URL not in
    `seen` is a first view and is counted apart (cold). Also returns the phase's throughput, gunicorn's CPU per
    request and the whole machine's busy CPU per request (server, load client, PostgreSQL and Redis together)."""
    results: dict[str, list[float]] = {kind: [] for kind in pages}
    cold: dict[str, list[float]] = {kind: [] for kind in pages}
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 600  # a hard cap: the run stops by itself

    def user(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        plan = [kind for kind in pages for _ in range(requests // len(pages))]
        rng.shuffle(plan)
        for kind in plan:
            if time.monotonic() > deadline:
                break
            url = rng.choice(pages[kind])
            started = time.perf_counter()
            conn.request("GET", url, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if response.status != 200:
                    errors.append(f"{response.status} {url}")
                first = url not in seen
                seen.add(url)
                (cold if first else results)[kind].append(elapsed)
        conn.close()

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    server_cpu, machine_cpu, started = _cpu_seconds(pid), _machine_busy_seconds(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    served = max(sum(len(v) for v in results.values()) + sum(len(v) for v in cold.values()), 1)
    return {
        "warm": results,
        "cold": cold,
        "errors": errors,
        "per_second": served / wall,
        "server_cpu_ms": (_cpu_seconds(pid) - server_cpu) * 1000 / served,
        "machine_cpu_ms": (_machine_busy_seconds() - machine_cpu) * 1000 / served,
    }


def load(port: int, cookie: tuple[str, str], pages: dict[str, list[str]], users: int, requests: int, pid: int) -> dict:
    cold: dict[str, list[float]] = {kind: [] for kind in pages}
    seen: set[str] = set()
    errors: list[str] = []
    headers = {"Cookie": f"{cookie[0]}={cookie[1]}", "X-Forwarded-Proto": "https", "Host": "127.0.0.1"}

    # Warm-up first, one request per distinct URL, one at a time: these are the cold (uncached) figures. The
    # concurrent phase then measures the steady state between two imports, which is what users meet; without
    # the warm-up, 20 users would pile onto the same cache misses at the start (reported, not hidden: cold).
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for kind, urls_of_kind in pages.items():
        for url in dict.fromkeys(urls_of_kind):
            started = time.perf_counter()
            conn.request("GET", url, headers=headers)
            response = conn.getresponse()
            response.read()
            cold[kind].append((time.perf_counter() - started) * 1000)
            seen.add(url)
            if response.status != 200:
                errors.append(f"{response.status} {url}")
    conn.close()
    result = closed_loop(port, headers, pages, users, requests, seen, pid)
    for kind, times in result["cold"].items():
        cold[kind].extend(times)
    result["cold"] = cold
    result["errors"] = errors + result["errors"]
    return result


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's master and workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of proc(5))
    return total


def _get(
    port: int, url: str, headers: dict[str, str], extra: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str], float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    conn.request("GET", url, headers={**headers, **(extra or {})})
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    return response.status, body, {k.lower(): v for k, v in response.getheaders()}, elapsed


def sequential(port: int, url: str, headers: dict[str, str], count: int, pid: int) -> dict[str, float]:
    """`count` requests of one URL, one at a time on one connection: p50/p95 ms and server CPU ms per request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    times = []
    cpu = _cpu_seconds(pid)
    for _ in range(count):
        started = time.perf_counter()
        conn.request("GET", url, headers=headers)
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"{response.status} {url}")
    conn.close()
    return {"p50": _pct(times, 0.5), "p95": _pct(times, 0.95), "cpu": (_cpu_seconds(pid) - cpu) * 1000 / count}


def _after_import(env: dict[str, str], warm: bool) -> tuple[float, float]:
    """What an import's commit does to the dashboards: bump the generation, then (warm) run the reports
    after-import hook. Returns (the hook's seconds in the importing process, the warm-up's seconds elsewhere).

    The hook queues the warm-up as a task on the reports queue; here the task runs in this process right after
    the hook, as a reports worker would (no broker in the benchmark), and is timed apart. A tree from before the
    task (the hook rendered in the importing process) reports all its time as the hook's."""
    code = f"""
import time
from greenesg.accounts.models import Organisation
from greenesg.footprint.ledger import dashboard_generation_bump
from ingestion.hooks import ImportPublished
try:
    from reports.apps import overview_warm_after_import_hook as hook
except ImportError:  # a tree from before the warm-up (a "before" run)
    hook = None
try:
    from reports.dashboards.tasks import overview_body_warm as task
except ImportError:  # a tree where the hook rendered in the importing process
    task = None
queued = []
if task is not None:
    task.delay = queued.append
org = Organisation.objects.get(slug="bench")
dashboard_generation_bump(org.id)  # outside a transaction: runs at once
started = time.perf_counter()
if {warm!r} and hook is not None:
    hook(ImportPublished(organisation_id=org.id, project_id=0, kind="bench"))
hook_s = time.perf_counter() - started
started = time.perf_counter()
for organisation_id in queued:
    task(organisation_id)
print(f"{{hook_s:.3f}} {{time.perf_counter() - started:.3f}}")
"""
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    hook_s, worker_s = out.stdout.split()[-2:]
    return float(hook_s), float(worker_s)


def stampede(port: int, url: str, headers: dict[str, str], users: int, pid: int) -> dict[str, float]:
    """`users` viewers open `url` at the same moment (a barrier), each on its own connection."""
    times: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(users)

    def viewer() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.connect()
        barrier.wait()
        started = time.perf_counter()
        conn.request("GET", url, headers=headers)
        conn.getresponse().read()
        with lock:
            times.append((time.perf_counter() - started) * 1000)
        conn.close()

    cpu = _cpu_seconds(pid)
    threads = [threading.Thread(target=viewer) for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu_ms = (_cpu_seconds(pid) - cpu) * 1000
    return {"p50": _pct(times, 0.5), "p95": _pct(times, 0.95), "max": max(times), "cpu": cpu_ms / users}


def floor_and_stampede(
    port: int, cookie: tuple[str, str], env: dict[str, str], args: argparse.Namespace, pid: int
) -> dict[str, object]:
    """Baselines, the cached overview alone, its size, and the after-import stampede with and without warm-up."""
    headers = {"Cookie": f"{cookie[0]}={cookie[1]}", "X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    anonymous = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    overview = "/o/bench/"
    out: dict[str, object] = {}
    out["login"] = sequential(port, "/login/", anonymous, args.baseline, pid)
    out["static"] = sequential(port, "/static/css/app.css", anonymous, args.baseline, pid)
    _get(port, overview, headers)  # make sure it is cached
    out["overview (cached)"] = sequential(port, overview, headers, args.baseline, pid)
    _, plain, _, _ = _get(port, overview, headers)
    _, packed, got, _ = _get(port, overview, headers, {"Accept-Encoding": "gzip"})
    out["size"] = {"html": len(plain), "gzip": len(packed), "encoding": got.get("content-encoding", "none")}
    _after_import(env, warm=False)
    out["stampede, no warm-up"] = stampede(port, overview, headers, args.users, pid)
    out["warm-up s"], out["worker s"] = _after_import(env, warm=True)
    out["stampede, warmed"] = stampede(port, overview, headers, args.users, pid)
    # One viewer after an import with no warm-up, in workers that have served the page before: the overview
    # computed from the rollups (the table's `cold` column also pays each worker's first imports of pandas and
    # Plotly and its first template loads). Twice for the default overview, once for a period that is not whole
    # months (its edge days come from the daily rollup).
    cache_cold: dict[str, list[float]] = {}
    for url in (overview, overview, overview + "?period=last_12_months"):
        _after_import(env, warm=False)
        cache_cold.setdefault(url, []).append(_get(port, url, headers)[3])
    out["cache cold"] = cache_cold
    return out


def _print_floor(floor: dict[str, object]) -> None:
    login = floor["login"]
    assert isinstance(login, dict)
    base = login["p50"] or float("nan")
    print(f"\n{'one at a time':<26} {'p50 ms':>8} {'p95 ms':>8} {'× login':>8} {'CPU ms/req':>10}")
    for name in ("login", "static", "overview (cached)"):
        row = floor[name]
        assert isinstance(row, dict)
        print(f"{name:<26} {row['p50']:>8.1f} {row['p95']:>8.1f} {row['p50'] / base:>8.2f} {row['cpu']:>10.1f}")
    print(
        f"\n{'after-import stampede':<26} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'× login':>8} {'CPU ms/req':>10}"
    )
    for name in ("stampede, no warm-up", "stampede, warmed"):
        row = floor[name]
        assert isinstance(row, dict)
        print(
            f"{name:<26} {row['p50']:>8.0f} {row['p95']:>8.0f} {row['max']:>8.0f} {row['p50'] / base:>8.1f}"
            f" {row['cpu']:>10.1f}"
        )
    print(
        f"(the after-import hook took {floor['warm-up s']:.2f} s in the importing process;"
        f" the warm-up task {floor['worker s']:.2f} s in a reports worker)"
    )
    cache_cold = floor["cache cold"]
    assert isinstance(cache_cold, dict)
    for url, times in cache_cold.items():
        print(f"cache-cold {url}: " + ", ".join(f"{t:.0f} ms" for t in times) + " (one viewer, after a bump)")
    size = floor["size"]
    assert isinstance(size, dict)
    print(
        f"\noverview HTML: {size['html']:,} bytes, {size['gzip']:,} bytes with Content-Encoding: {size['encoding']}"
        f" ({size['html'] / max(size['gzip'], 1):.1f}× smaller)"
    )


def run_size(rows: int, args: argparse.Namespace) -> list[tuple]:
    var = Path(tempfile.mkdtemp(prefix="dashbench-"))
    redis_port, web_port = _free_port(), _free_port()
    cache_url = args.redis or f"redis://127.0.0.1:{redis_port}/0"
    env = _env(args.db, var, cache_url, args.static_root)
    print(f"\n== {rows:,} ledger rows, {args.projects} projects", flush=True)
    started = time.perf_counter()
    seed(args.db, rows, args.projects, env, reuse=args.reuse)
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    if args.seed_only:
        shutil.rmtree(var, ignore_errors=True)
        return []
    redis = None
    if not args.redis:
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
    # Collecting compresses every static file (gzip and brotli): minutes on a busy small machine, so a kept
    # --static-root is collected once.
    if not (args.static_root and (Path(args.static_root) / "staticfiles.json").exists()):
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
    web = subprocess.Popen(
        [
            shutil.which("gunicorn") or str(Path(sys.executable).with_name("gunicorn")),
            "greenesg.wsgi",
            "-b",
            f"127.0.0.1:{web_port}",
            "-w",
            str(args.workers),
            "--threads",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        if redis is not None:
            _wait(redis_port)
        _wait(web_port)
        cookie = session_cookie(env)
        pages = urls(args.projects, random.Random(4))
        cpu = _cpu_seconds(web.pid)
        result = load(web_port, cookie, pages, args.users, args.requests, web.pid)
        served = sum(len(v) for v in result["warm"].values()) + sum(len(v) for v in result["cold"].values())
        result["cpu_ms"] = (_cpu_seconds(web.pid) - cpu) * 1000 / max(served, 1)
        # The same closed loop on the login page: what this machine gives any Django page under the same load,
        # so the dashboards' p95 can be read against it (its queueing is the machine's, not the pages').
        anonymous = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
        _get(web_port, "/login/", anonymous)
        login_loop = closed_loop(
            web_port, anonymous, {"login": ["/login/"]}, args.users, args.requests, {"/login/"}, web.pid
        )
        floor = floor_and_stampede(web_port, cookie, env, args, web.pid)
        if redis is not None and redis.poll() is not None:
            # A dead cache turns every request into a miss (greenesg/cache.py): the figures would mislead.
            raise RuntimeError("the private redis-server exited during the run; its figures are not valid")
    finally:
        web.terminate()
        web.wait(timeout=30)
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=30)
        shutil.rmtree(var, ignore_errors=True)
    for name, errors in (("dashboard", result["errors"]), ("login page", login_loop["errors"])):
        if errors:
            print(f"{len(errors)} failed {name} requests, e.g. {errors[:3]}")
    _print_floor(floor)
    print(f"mixed load below: {result['cpu_ms']:.1f} ms of server CPU per request (warm and cold together)")
    print(
        f"\nclosed loop, {args.users} users, no think time    {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'users/(req/s) ms':>16} {'server CPU ms/req':>17} {'machine CPU ms/req':>18}"
    )
    all_warm = [t for times in result["warm"].values() for t in times]
    for name, loop, times in (
        ("login page (anonymous)", login_loop, login_loop["warm"]["login"]),
        ("dashboard mix, after warm-up", result, all_warm),
    ):
        print(
            f"{name:<42} {loop['per_second']:>7.0f} {_pct(times, 0.5):>7.0f} {_pct(times, 0.95):>7.0f}"
            f" {args.users * 1000 / loop['per_second']:>16.0f} {loop['server_cpu_ms']:>17.1f}"
            f" {loop['machine_cpu_ms']:>18.1f}"
        )
    table = []
    for kind in pages:
        warm, cold = result["warm"][kind], result["cold"][kind]
        table.append(
            (
                rows,
                kind,
                len(warm),
                _pct(warm, 0.5),
                _pct(warm, 0.95),
                max(warm or [0]),
                len(cold),
                statistics.median(cold) if cold else float("nan"),
                max(cold or [0]),
            )
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="10000000", help="comma-separated ledger sizes, e.g. 1000000,10000000")
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=40, help="requests per user (bounded)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--db", default="greenesg_dashbench")
    parser.add_argument("--baseline", type=int, default=100, help="sequential requests per baseline figure")
    parser.add_argument("--redis", default="", help="cache URL of a running Redis (default: start a private one)")
    parser.add_argument("--static-root", default="", help="keep collected static files here between runs")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database --db if it holds a finished seed of the same size"
    )
    parser.add_argument("--seed-only", action="store_true", help="seed (or check with --reuse), measure nothing")
    args = parser.parse_args()
    if args.db == "greenesg_dev":
        parser.error("never the development database")
    table = []
    for size in [int(s) for s in args.rows.split(",")]:
        table.extend(run_size(size, args))
    if args.seed_only:
        return
    print(
        f"\n{args.users} concurrent users, gunicorn {args.workers} workers × 2 threads, "
        "production settings, Redis cache"
    )
    print(
        f"{'rows':>11} {'page':<11} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} | "
        f"{'cold n':>6} {'cold p50':>9} {'cold max':>9}"
    )
    for rows, kind, n, p50, p95, top, cn, c50, ctop in table:
        print(f"{rows:>11,} {kind:<11} {n:>5} {p50:>8.0f} {p95:>8.0f} {top:>8.0f} | {cn:>6} {c50:>9.0f} {ctop:>9.0f}")


if __name__ == "__main__":
    main()
