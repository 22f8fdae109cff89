"""Soak: mixed load on the compose stack for ten minutes while a worker is killed and Redis and PostgreSQL restart.

Install the load tool once (locust, kept out of requirements-dev.txt so CI installs stay lean):

    python3.11 -m venv var/soak-venv && var/soak-venv/bin/pip install -r bench/requirements.txt

Run it with docker and compose as for `make compose-check` (offline: the variables of DEVELOPERS.md):

    var/soak-venv/bin/python bench/soak.py [--duration 600] [--stack fresh|running] [--url URL] [--keep]

`--stack fresh` (default) builds the image, starts a new stack with tools/soak_stack.sh (project
greenesg-soak, port 18100), seeds an organisation with manage.py inside the web container, runs the load and
takes the stack down with its volumes. `--stack running` reuses a stack started by `tools/soak_stack.sh up` and
leaves it up.

The load (bench/soak_load.py): 4 CI posters with project tokens (emissions.csv uploads with an Idempotency-Key,
three live-record flushes per run, job polling), 5 browser users (2 officers, 2 engineers, an auditor) opening
every page of their role, an officer asking for an ESRS report every 45 s, a static file once a second as the
baseline, and one large AWS CUR (--cur-lines, ~35 MB) through the billing API. Faults, once each: the ingest
worker's main process is killed with SIGKILL while the CUR import runs (compose's restart policy brings the
container back), Redis is restarted, PostgreSQL is restarted. Each fault window lasts from the fault until
/readyz answers ok again and the container is running (and, for the worker, answers a Celery ping).

It prints requests by status inside and outside the fault windows, p50/p95 per page next to the static
baseline, imports sent against done (every job polled until done or failed), ledger totals against the sums of
what was sent, peak RSS per container and process, the faults and whether each process came back by itself,
and a PASS/FAIL line against the targets: no lost or double-counted import, no 5xx or connection error
outside the fault windows, every process back without a manual step.
"""

# ruff: noqa: I001 (locust must be imported first: it monkey-patches the standard library for gevent)
from __future__ import annotations

import locust  # noqa: F401

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
import requests
from locust.clients import HttpSession
from locust.env import Environment
from locust.event import EventHook

sys.path.insert(0, str(Path(__file__).resolve().parent))
import soak_data  # noqa: E402
import soak_load  # noqa: E402
from soak_load import FINAL, SentImport, SoakConfig  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "tools" / "soak_stack.sh"
DOCKER = os.environ.get("DOCKER", "docker")
GRACE_S = 2.0  # a request that ended this soon after a window closed still counts as inside it
SERVICES = ["web", "worker-ingest", "worker-reports", "beat", "db", "redis"]


def now() -> float:
    return time.monotonic()


# ------------------------------------------------------------------------------------------------ the stack


def stack(*args: str, capture: bool = False) -> str:
    done = subprocess.run(["bash", str(STACK), *args], cwd=ROOT, check=True, text=True, capture_output=capture)
    return done.stdout if capture else ""


def container_ids() -> dict[str, str]:
    return dict(line.split(" ", 1) for line in stack("ids", capture=True).splitlines() if " " in line)


def psql(sql: str) -> list[list[str]]:
    return [line.split("|") for line in stack("psql", sql, capture=True).splitlines() if line]


def inspect(container: str) -> dict[str, Any]:
    out = subprocess.run([DOCKER, "inspect", container], check=True, capture_output=True, text=True).stdout
    return json.loads(out)[0]


def ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


# ------------------------------------------------------------------------------------------------ faults


@dataclass
class Fault:
    name: str
    service: str
    at_s: float  # planned start, seconds after the load started
    start: float = 0.0
    end: float = 0.0
    recovered: bool = False
    detail: str = ""

    def inside(self, first: float, last: float) -> bool:
        return self.start > 0 and first <= (self.end or float("inf")) + GRACE_S and last >= self.start


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def fault_inject(fault: Fault, container: str) -> None:
    """Kill the worker's main process (what an OOM kill or a crash does), or restart a service's container."""
    if fault.name == "kill worker":
        init_pid = inspect(container)["State"]["Pid"]  # docker-init (compose's `init: true`), parent of celery
        main = _children(init_pid) or [init_pid]
        os.kill(main[0], signal.SIGKILL)
        fault.detail = f"SIGKILL to celery main process (host pid {main[0]})"
    else:
        subprocess.run([DOCKER, "restart", "-t", "10", container], check=True, capture_output=True)
        fault.detail = f"docker restart -t 10 {fault.service}"


def _back(fault: Fault, container: str, started_before: str, url: str) -> bool:
    state = inspect(container)["State"]
    if not state["Running"] or state["StartedAt"] == started_before or not ready(url):
        return False
    if state.get("Health", {}).get("Status") == "unhealthy":
        return False
    if fault.service.startswith("worker"):
        ping = "celery -A greenesg inspect ping --timeout 5 -d celery@$HOSTNAME"
        answer = subprocess.run([DOCKER, "exec", container, "sh", "-c", ping], capture_output=True, text=True)
        return answer.returncode == 0
    return True


def fault_run(fault: Fault, container: str, url: str, limit_s: float = 300) -> None:
    """Inject, then wait (no manual step) until the service is back and /readyz answers ok."""
    started_before = inspect(container)["State"]["StartedAt"]
    fault.start = now()
    fault_inject(fault, container)
    time.sleep(1)
    while now() - fault.start < limit_s:
        if _back(fault, container, started_before, url):
            fault.recovered = True
            break
        time.sleep(1)
    fault.end = now()


# ------------------------------------------------------------------------------------------------ sampling


@dataclass
class RssPeaks:
    container: dict[str, int] = field(default_factory=dict)  # service → peak of the summed VmRSS (KiB)
    process: dict[tuple[str, str], int] = field(default_factory=dict)  # (service, process) → peak VmHWM (KiB)
    samples: int = 0


def _cgroup_pids(container: str) -> list[int]:
    for pattern in (
        f"/sys/fs/cgroup/memory/docker/{container}/cgroup.procs",
        f"/sys/fs/cgroup/system.slice/docker-{container}.scope/cgroup.procs",
        f"/sys/fs/cgroup/docker/{container}/cgroup.procs",
    ):
        path = Path(pattern)
        if path.exists():
            return [int(p) for p in path.read_text().split()]
    out = subprocess.run([DOCKER, "top", container, "-eo", "pid"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()[1:] if p.isdigit()]


def _status(pid: int) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def _process_label(pid: int, parent_cmdline: str) -> str:
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    words = cmdline.split()
    if not words:
        return "?"
    if words[0].startswith("postgres:"):
        return "postgres backend" if "greenesg" in cmdline else " ".join(words[:2])
    name = Path(words[0]).name
    if name.startswith("python") and len(words) > 1:
        name = Path(words[1]).name
    if name in ("-c", "runc", "sh", "pg_isready", "redis-cli"):
        return "health check / docker exec"
    if name == "celery":
        name = "celery beat" if " beat" in cmdline else "celery worker"
    role = "child" if cmdline == parent_cmdline else "main"
    return name if name in ("docker-init", "redis-server") else f"{name} {role}"


def rss_sample(peaks: RssPeaks, ids: dict[str, str]) -> None:
    for service, container in ids.items():
        total = 0
        for pid in _cgroup_pids(container):
            try:
                status = _status(pid)
                parent = Path(f"/proc/{status['PPid']}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
                label = _process_label(pid, parent)
            except (OSError, KeyError):
                continue  # the process ended between listing and reading
            total += int(status.get("VmRSS", "0 kB").split()[0])
            if label == "?":
                continue  # a process exiting (empty command line): nothing to name its peak after
            key = (service, label)
            peaks.process[key] = max(peaks.process.get(key, 0), int(status.get("VmHWM", "0 kB").split()[0]))
        peaks.container[service] = max(peaks.container.get(service, 0), total)
    peaks.samples += 1


def rss_sampler(peaks: RssPeaks, ids: dict[str, str], every_s: float = 5) -> None:
    while True:
        try:
            rss_sample(peaks, ids)
        except Exception as exc:  # noqa: BLE001 - sampling must never stop the soak
            print(f"   (rss sample failed: {exc})", flush=True)
        gevent.sleep(every_s)


# ------------------------------------------------------------------------------------------------ the run


@dataclass
class Record:
    at: float  # end of the request (monotonic)
    name: str
    status: int
    ms: float


@dataclass
class Run:
    url: str
    duration: float
    faults: list[Fault]
    records: list[Record] = field(default_factory=list)
    rss: RssPeaks = field(default_factory=RssPeaks)
    load_start: float = 0.0
    load_end: float = 0.0
    cur: SentImport | None = None
    load_avg: list[tuple[float, float, float]] = field(default_factory=list)


def on_request(run: Run) -> Any:
    def listener(name: str, response: Any = None, response_time: float = 0.0, **_: Any) -> None:
        status = getattr(response, "status_code", 0) or 0
        run.records.append(Record(now(), name, int(status), float(response_time or 0)))

    return listener


def timeline(run: Run, env: Environment, ids: dict[str, str], export: soak_data.CurExport) -> None:
    """The large CUR upload, then the faults in order: the worker kill while the CUR import runs."""
    client = HttpSession(base_url=run.url, request_event=env.events.request, user=None)
    gevent.sleep(10)
    run.cur = soak_load.billing_upload(client, export)
    for fault in run.faults:
        deadline = run.load_start + fault.at_s
        while now() < deadline:
            earliest = now() >= run.load_start + fault.at_s / 2.5
            if fault.name == "kill worker" and earliest and run.cur and _cur_status(client, run.cur) == "running":
                break
            gevent.sleep(2)
        print(f"   t={now() - run.load_start:5.0f} s  fault: {fault.name}", flush=True)
        fault_run(fault, ids[fault.service], run.url)
        state = "back" if fault.recovered else "NOT back"
        elapsed = fault.end - fault.start
        print(f"   t={now() - run.load_start:5.0f} s  {fault.service} {state} after {elapsed:.0f} s", flush=True)


def _cur_status(client: Any, sent: SentImport) -> str:
    answer = client.get(sent.poll_path, headers=soak_load.cookie_header(client), name="api: billing status")
    if answer.status_code == 200:
        sent.status = answer.json()["status"]
    return sent.status


def load_run(run: Run, ids: dict[str, str], export: soak_data.CurExport) -> None:
    env = Environment(user_classes=soak_load.USER_CLASSES, host=run.url)
    env.events.request.add_listener(on_request(run))
    runner = env.create_local_runner()
    users = sum(cls.fixed_count for cls in soak_load.USER_CLASSES)
    run.load_start = now()
    runner.start(users, spawn_rate=users)
    sampler = gevent.spawn(rss_sampler, run.rss, ids)
    events = gevent.spawn(timeline, run, env, ids, export)
    gevent.sleep(run.duration)
    runner.quit()
    run.load_end = now()
    events.join(timeout=600)  # a fault still recovering finishes (and ends its window) first
    sampler.kill()
    rss_sample(run.rss, ids)


# ------------------------------------------------------------------------------------------------ draining


def drain_imports(run: Run, limit_s: float) -> float:
    """Poll every accepted job until done or failed (the reconciler may need minutes after a lost message)."""
    started = now()
    officer = HttpSession(base_url=run.url, request_event=EventHook(), user=None)  # not part of the load figures
    soak_load.session_login(officer, "officer")
    pending = [s for s in SoakConfig.expected.imports.values() if s.status not in FINAL]
    while pending and now() - started < limit_s:
        for sent in pending:
            headers = {"Authorization": f"Bearer {sent.token}"} if sent.token else soak_load.cookie_header(officer)
            try:
                answer = requests.get(run.url + sent.poll_path, headers=headers, timeout=10)
            except requests.RequestException:
                continue
            if answer.status_code == 200:
                sent.status = answer.json()["status"]
        pending = [s for s in pending if s.status not in FINAL]
        if pending:
            time.sleep(5)
    return now() - started


def drain_reports(limit_s: float) -> dict[str, int]:
    started = now()
    counts: dict[str, int] = {}
    while now() - started < limit_s:
        counts = {status: int(n) for status, n in psql("SELECT status, count(*) FROM reports_report GROUP BY 1")}
        if not set(counts) & {"draft", "generating"}:
            break
        time.sleep(5)
    return counts


# ------------------------------------------------------------------------------------------------ figures


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def in_window(run: Run, record: Record) -> bool:
    return any(f.inside(record.at - record.ms / 1000, record.at) for f in run.faults)


def print_requests(run: Run) -> tuple[int, int]:
    """Requests by status inside and outside the fault windows; returns (5xx/errors outside, total)."""
    table: dict[str, dict[str, int]] = {"outside": {}, "inside": {}}
    for record in run.records:
        side = "inside" if in_window(run, record) else "outside"
        key = str(record.status) if record.status else "no answer"
        table[side][key] = table[side].get(key, 0) + 1
    print("\n== requests by status (fault windows: fault until /readyz ok and the process back, +2 s)")
    codes = sorted({*table["outside"], *table["inside"]})
    print(f"   {'status':<10} {'outside':>8} {'inside':>8}")
    for code in codes:
        print(f"   {code:<10} {table['outside'].get(code, 0):>8} {table['inside'].get(code, 0):>8}")
    bad = sum(n for code, n in table["outside"].items() if code == "no answer" or code.startswith("5"))
    windows = sum((f.end - f.start) + GRACE_S for f in run.faults if f.start)
    print(f"   total {len(run.records)} requests; fault windows {windows:.0f} s of {run.duration:.0f} s")
    outside = [r for r in run.records if not in_window(run, r) and (r.status == 0 or r.status >= 500)]
    for record in outside[:20]:
        print(
            f"   outside a window: t={record.at - run.load_start:.0f} s {record.name} -> {record.status or 'no answer'}"
        )
    return bad, len(run.records)


def print_latency(run: Run) -> None:
    by_page: dict[str, list[float]] = {}
    for record in run.records:
        if 200 <= record.status < 400 and not in_window(run, record):
            by_page.setdefault(record.name, []).append(record.ms)
    base = by_page.get("static (baseline)", [])
    base50, base95 = pct(base, 0.5), pct(base, 0.95)
    print("\n== latency outside the fault windows, ms (answered 2xx/3xx), against the static-file baseline")
    print(f"   {'page':<32} {'n':>6} {'p50':>8} {'p95':>8} {'p50/static':>11} {'p95/static':>11}")
    for name in sorted(by_page, key=lambda n: (n != "static (baseline)", n)):
        values = by_page[name]
        p50, p95 = pct(values, 0.5), pct(values, 0.95)
        print(f"   {name:<32} {len(values):>6} {p50:>8.0f} {p95:>8.0f} {p50 / base50:>10.1f}x {p95 / base95:>10.1f}x")


def print_imports() -> int:
    expected = SoakConfig.expected
    print("\n== imports sent (accepted once each) vs final state, every job polled by id")
    lost = 0
    print(f"   {'kind':<8} {'sent':>6} {'done':>6} {'failed':>7} {'not final':>10}")
    for kind in ("csv", "live", "billing"):
        jobs = [s for s in expected.imports.values() if s.kind == kind]
        done = sum(s.status == "done" for s in jobs)
        failed = sum(s.status == "failed" for s in jobs)
        lost += len(jobs) - done
        print(f"   {kind:<8} {len(jobs):>6} {done:>6} {failed:>7} {len(jobs) - done - failed:>10}")
    print(f"   posts given up after {SoakConfig.max_attempts} attempts: {expected.posts_given_up}")
    rows = psql(
        "SELECT j.kind, j.status, count(*), sum(CASE WHEN j.attempts > 1 THEN 1 ELSE 0 END) FROM ingestion_importjob j "
        "JOIN accounts_organisation o ON o.id = j.organisation_id WHERE o.slug = 'soak' GROUP BY 1, 2 ORDER BY 1, 2"
    )
    server = sum(int(r[2]) for r in rows)
    print(f"   jobs on the server: {server} (accepted by the soak: {len(expected.imports)})")
    for kind, status, n, retried in rows:
        print(f"     {kind:<16} {status:<8} {n:>6}  claimed more than once: {retried}")
    return lost + abs(server - len(expected.imports)) + expected.posts_given_up


def print_ledger() -> int:
    expected = SoakConfig.expected
    rows = {
        r[0]: r[1:]
        for r in psql(
            "SELECT source, count(*), coalesce(sum(duration_s), 0)::bigint, coalesce(round(sum(cost)::numeric, 3), 0) "
            "FROM footprint_ledgerentry l JOIN accounts_organisation o ON o.id = l.organisation_id "
            "WHERE o.slug = 'soak' GROUP BY 1"
        )
    }
    cc_rows, cc_duration, _ = rows.get("codecarbon", ["0", "0", "0"])
    billing_cost = rows.get("billing", ["0", "0", "0"])[2]
    want_rows = expected.csv_runs + len(expected.live_runs)
    want_duration = expected.csv_duration_s + sum(expected.live_runs.values())
    want_cost = f"{expected.billing_cost_milli / 1000:.3f}"
    checks = [
        ("codecarbon runs (ledger rows)", str(want_rows), cc_rows),
        ("codecarbon duration_s", str(want_duration), cc_duration),
        ("billing cost USD (CUR lines summed)", want_cost, f"{float(billing_cost):.3f}"),
    ]
    print("\n== ledger totals (psql in the db container) vs the sums of what was sent")
    print(f"   {'figure':<38} {'expected':>14} {'ledger':>14}")
    for name, want, got in checks:
        print(f"   {name:<38} {want:>14} {got:>14}  {'ok' if want == got else 'MISMATCH'}")
    print(
        f"   ({expected.csv_runs} runs in csv files, {len(expected.live_runs)} live runs, "
        f"{expected.billing_lines} CUR lines)"
    )
    return sum(want != got for _, want, got in checks)


def print_rss(run: Run) -> None:
    print(f"\n== peak RSS ({run.rss.samples} samples, every 5 s; per process: VmHWM, the kernel's high-water mark)")
    for service in SERVICES:
        print(f"   {service:<16} container {run.rss.container.get(service, 0) / 1024:8.0f} MiB")
        for (owner, label), kib in sorted(run.rss.process.items()):
            if owner == service:
                print(f"      {label:<30} {kib / 1024:8.0f} MiB")


def print_processes(run: Run, ids: dict[str, str]) -> int:
    print("\n== faults injected and survived")
    for fault in run.faults:
        when = fault.start - run.load_start if fault.start else float("nan")
        state = "survived" if fault.recovered else "NOT RECOVERED"
        print(
            f"   t={when:5.0f} s  {fault.name:<16} {fault.detail}: back after {fault.end - fault.start:.0f} s, {state}"
        )
    print("\n== processes at the end (no manual step was taken)")
    down = 0
    for service in SERVICES:
        state = inspect(ids[service])
        health = state["State"].get("Health", {}).get("Status", "-")
        running = state["State"]["Running"] and health != "unhealthy"
        down += not running
        print(f"   {service:<16} {state['State']['Status']:<8} health {health:<9} restarts {state['RestartCount']}")
    return down + sum(not f.recovered for f in run.faults)


# ------------------------------------------------------------------------------------------------ main


def configure(seed_file: Path, run_seed: str) -> None:
    seed = json.loads(seed_file.read_text())
    SoakConfig.seed = run_seed
    SoakConfig.org = seed["org"]
    SoakConfig.projects = seed["projects"]
    SoakConfig.engineer_projects = seed["engineer_projects"]
    SoakConfig.tokens = seed["tokens"]
    SoakConfig.users = seed["users"]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (default 600)")
    parser.add_argument("--stack", choices=["fresh", "running"], default="fresh")
    parser.add_argument("--url", default="", help="base URL of web (default http://127.0.0.1:$SOAK_PORT or 18100)")
    parser.add_argument("--keep", action="store_true", help="leave a fresh stack up afterwards")
    parser.add_argument("--cur-lines", type=int, default=200_000, help="lines of the large CUR (~175 B each)")
    parser.add_argument("--drain", type=float, default=900, help="seconds to wait for jobs, then reports, to finish")
    parser.add_argument("--seed", default="", help="names the generated runs (default: a new one per run)")
    return parser.parse_args()


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # in order with the stack's output
    args = arguments()
    url = args.url or f"http://127.0.0.1:{os.environ.get('SOAK_PORT', '18100')}"
    print(f"== soak: {args.duration:.0f} s of load on {url}; {os.cpu_count()} CPUs, load average {os.getloadavg()}")
    if args.stack == "fresh":
        stack("up")
    configure(ROOT / "var" / "soak-seed.json", args.seed or f"soak-{int(time.time())}")
    try:
        return soak(args, url)
    finally:
        if args.stack == "fresh":
            stack("logs")
            if not args.keep:
                stack("down")


def soak(args: argparse.Namespace, url: str) -> int:
    ids = container_ids()
    started = time.perf_counter()
    export = soak_data.cur_export(SoakConfig.seed, args.cur_lines)
    print(
        f"   CUR generated: {export.lines} lines, {len(export.body) / 1e6:.1f} MB "
        f"in {time.perf_counter() - started:.0f} s"
    )
    faults = [
        Fault("kill worker", "worker-ingest", args.duration * 0.25),
        Fault("restart redis", "redis", args.duration * 0.45),
        Fault("restart postgres", "db", args.duration * 0.7),
    ]
    run = Run(url=url, duration=args.duration, faults=faults)
    print(
        f"\n== load: {sum(c.fixed_count for c in soak_load.USER_CLASSES)} users for {args.duration:.0f} s", flush=True
    )
    load_run(run, ids, export)
    print(f"   load over; load average {os.getloadavg()}; draining jobs and reports", flush=True)
    drained = drain_imports(run, args.drain)
    reports = drain_reports(args.drain)
    print(f"   drained in {drained:.0f} s")
    return verdict(run, ids, reports)


def verdict(run: Run, ids: dict[str, str], reports: dict[str, int]) -> int:
    bad_requests, _ = print_requests(run)
    print_latency(run)
    lost = print_imports()
    mismatches = print_ledger()
    expected = SoakConfig.expected
    print(
        f"\n== ESRS reports: asked {len(expected.reports)}, POST given up {expected.report_posts_failed}, "
        f"by status {reports}"
    )
    unfinished_reports = sum(n for status, n in reports.items() if status not in ("ready", "signed"))
    print_rss(run)
    not_back = print_processes(run, ids)
    targets = {
        "0 lost or double-counted imports": lost == 0 and mismatches == 0,
        "0 5xx/no answer outside fault windows": bad_requests == 0,
        "every process back without a manual step": not_back == 0,
        "every report rendered": unfinished_reports == 0,
    }
    print("\n== targets")
    for name, ok in targets.items():
        print(f"   {'ok  ' if ok else 'FAIL'} {name}")
    passed = all(targets.values())
    survived = sum(f.recovered for f in run.faults)
    print(
        f"\nSOAK {'PASS' if passed else 'FAIL'}: {run.duration:.0f} s, {len(run.records)} requests, "
        f"{len(expected.imports)} imports, {survived}/{len(run.faults)} faults survived"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
