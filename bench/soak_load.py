"""The soak's users (locust): CI posters with project tokens, a browser user per role, the report officer and
the static-file baseline. Every request goes through locust's HttpSession, so bench/soak.py sees each one
(time, page, status, latency) through locust's request event.

Production mode sets `Secure` session and CSRF cookies; the soak talks plain HTTP to the published port, where
a cookie jar would never send them back, so the users send the jar's cookies in a Cookie header themselves.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import soak_data
from locust import HttpUser, between, constant, constant_pacing, task

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PERIOD_OPTION = re.compile(r'<option value="([^"]+)"[^>]*selected')
FINAL = {"done", "failed"}

# What each role opens, as (label, path); {org} and {project} are filled in per request. Engineers see their
# own projects only, auditors are read-only: each list holds only pages the role may open, so any 4xx counts.
PAGES_ALL = [
    ("overview", "/o/{org}/"),
    ("my projects", "/o/{org}/mine/"),
    ("records", "/o/{org}/records/"),
    ("project", "/o/{org}/p/{project}/"),
    ("project imports", "/o/{org}/p/{project}/imports/"),
    ("budgets", "/o/{org}/budgets/"),
    ("project budget", "/o/{org}/p/{project}/budget/"),
    ("savings", "/o/{org}/savings/"),
    ("region advice", "/o/{org}/p/{project}/advice/"),
    ("SCI", "/o/{org}/p/{project}/sci/"),
    ("scorecard", "/o/{org}/p/{project}/esg/"),
]
PAGES_READ_ALL = [
    ("data quality", "/o/{org}/data-quality/"),
    ("ESRS reports", "/o/{org}/esrs/"),
    ("ESG", "/o/{org}/esg/"),
    ("billing", "/o/{org}/billing/"),
]
PAGES = {
    "officer": PAGES_ALL
    + PAGES_READ_ALL
    + [("upload", "/o/{org}/p/{project}/upload"), ("ESG inbox", "/o/{org}/esg/inbox/")],
    "engineer": PAGES_ALL,
    "auditor": PAGES_ALL + PAGES_READ_ALL,
}


@dataclass
class SentImport:
    """An import the server accepted: where to poll it and what it must add to the ledger."""

    kind: str  # "csv", "live" or "billing"
    job_id: str
    poll_path: str
    token: str  # empty: poll with the officer's session
    status: str = "pending"


@dataclass
class Expected:
    """What was accepted (once each, whatever the retries) and so what the ledger must hold."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    imports: dict[str, SentImport] = field(default_factory=dict)
    csv_runs: int = 0
    csv_duration_s: int = 0
    live_runs: dict[str, int] = field(default_factory=dict)  # run id → longest duration accepted
    billing_cost_milli: int = 0
    billing_lines: int = 0
    posts_given_up: int = 0
    reports: dict[int, str] = field(default_factory=dict)  # report id → last known status
    report_posts_failed: int = 0

    def accept(self, sent: SentImport) -> bool:
        """Record a job once; False when the server answered with a job already counted (a replay)."""
        with self.lock:
            if sent.job_id in self.imports:
                return False
            self.imports[sent.job_id] = sent
            return True


class SoakConfig:
    """Filled in by bench/soak.py before the users start."""

    seed: str = "soak"
    org: str = "soak"
    projects: list[str] = []
    engineer_projects: list[str] = []
    tokens: dict[str, str] = {}
    users: dict[str, dict[str, str]] = {}
    expected: Expected = Expected()
    static_path: str = "/static/css/app.css"
    retry_pause_s: float = 3.0
    max_attempts: int = 40  # × retry_pause_s: longer than any fault window


_csv_serial = itertools.count()
_live_serial = itertools.count()
_poster_index = itertools.count()


def cookie_header(client: Any) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in client.cookies)}


def csrf_cookie(client: Any) -> str:
    return next((c.value for c in client.cookies if c.name.endswith("csrftoken")), "")


def session_login(client: Any, role: str) -> bool:
    """The login form, as a browser fills it in; True once the session cookie is set."""
    user = SoakConfig.users[role]
    page = client.get("/login/", name="login page", allow_redirects=False)
    match = CSRF_FIELD.search(page.text or "")
    if match is None:
        return False
    form = {"username": user["username"], "password": user["password"], "csrfmiddlewaretoken": match.group(1)}
    answer = client.post("/login/", data=form, headers=cookie_header(client), name="login", allow_redirects=False)
    return answer.status_code == 302 and any(c.name.endswith("sessionid") for c in client.cookies)


def post_until_answered(client: Any, path: str, name: str, ok: set[int], **kwargs: Any) -> Any:
    """POST until the server gives a definite answer, as a CI step with retries would.

    The body and its Idempotency-Key (if any) stay the same on every attempt, so a retry after a lost answer
    replays the first job instead of making a second one. Returns the answer or None after max_attempts.
    """
    for _ in range(SoakConfig.max_attempts):
        answer = client.post(path, name=name, allow_redirects=False, **kwargs)
        if answer.status_code in ok:
            return answer
        if 400 <= answer.status_code < 500 and answer.status_code not in (408, 429):
            return None  # refused for good: retrying the same request cannot help
        time.sleep(SoakConfig.retry_pause_s)
    return None


class CiPoster(HttpUser):
    """A CI pipeline of one project: posts emissions.csv files and codecarbon's live records, polls its jobs."""

    fixed_count = 4
    # About 0.25 imports a second for the four (a live run is three jobs): what two ingest processes finish
    # on a small shared machine while the pages are read, so the queue does not grow without end.
    wait_time = between(10, 20)

    def on_start(self) -> None:
        self.project = SoakConfig.projects[next(_poster_index) % len(SoakConfig.projects)]
        self.token = SoakConfig.tokens[self.project]
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.mine: list[SentImport] = []

    @task(2)
    def post_csv(self) -> None:
        serial = next(_csv_serial)
        payload = soak_data.codecarbon_csv(SoakConfig.seed, serial, runs=random.Random(serial).randint(5, 200))
        headers = {**self.auth, "Content-Type": "text/csv", "Idempotency-Key": f"soak-{SoakConfig.seed}-{serial}"}
        path = f"/api/v1/projects/{SoakConfig.org}/{self.project}/imports"
        answer = post_until_answered(
            self.client, path, "api: import POST", {200, 202}, data=payload.body, headers=headers
        )
        expected = SoakConfig.expected
        if answer is None:
            with expected.lock:
                expected.posts_given_up += 1
            return
        job_id = answer.json()["id"]
        sent = SentImport("csv", job_id, f"{path}/{job_id}", self.token)
        if expected.accept(sent):
            with expected.lock:
                expected.csv_runs += payload.runs
                expected.csv_duration_s += payload.duration_s
            self.mine.append(sent)

    @task(1)
    def post_live_run(self) -> None:
        """One run's three cumulative flushes, as codecarbon's HTTP output sends them."""
        run_serial = next(_live_serial)
        for flush in range(3):
            record = soak_data.live_record(SoakConfig.seed, run_serial, flush)
            answer = post_until_answered(
                self.client, f"/api/v1/live/{self.token}", "api: live record", {201}, json=record
            )
            expected = SoakConfig.expected
            if answer is None:
                with expected.lock:
                    expected.posts_given_up += 1
                return
            job_id = answer.json()["id"]
            path = f"/api/v1/projects/{SoakConfig.org}/{self.project}/imports/{job_id}"
            if expected.accept(SentImport("live", job_id, path, self.token)):
                self.mine.append(expected.imports[job_id])
            with expected.lock:
                run_id = str(record["run_id"])
                expected.live_runs[run_id] = max(expected.live_runs.get(run_id, 0), soak_data.live_duration(flush))

    @task(2)
    def poll_job(self) -> None:
        pending = [sent for sent in self.mine if sent.status not in FINAL]
        if not pending:
            return
        sent = random.choice(pending)
        answer = self.client.get(sent.poll_path, headers=self.auth, name="api: import status")
        if answer.status_code == 200:
            sent.status = answer.json()["status"]


class Browser(HttpUser):
    """A signed-in person clicking through the pages of their role."""

    abstract = True
    role = "officer"
    wait_time = between(1, 4)

    def on_start(self) -> None:
        self.signed_in = session_login(self.client, self.role)
        self.projects = SoakConfig.engineer_projects if self.role == "engineer" else SoakConfig.projects

    @task
    def open_page(self) -> None:
        if not self.signed_in:
            self.signed_in = session_login(self.client, self.role)
            return
        label, template = random.choice(PAGES[self.role])
        path = template.format(org=SoakConfig.org, project=random.choice(self.projects))
        answer = self.client.get(path, headers=cookie_header(self.client), name=label, allow_redirects=False)
        if answer.status_code == 302 and "/login/" in answer.headers.get("Location", ""):
            self.signed_in = False


class OfficerBrowser(Browser):
    fixed_count = 2
    role = "officer"


class EngineerBrowser(Browser):
    fixed_count = 2
    role = "engineer"


class AuditorBrowser(Browser):
    fixed_count = 1
    role = "auditor"


class ReportOfficer(HttpUser):
    """Asks for an ESRS report of the default period every 45 s (rendered by the reports worker)."""

    fixed_count = 1
    wait_time = constant(45)

    def on_start(self) -> None:
        self.signed_in = session_login(self.client, "officer")

    @task
    def request_report(self) -> None:
        if not self.signed_in:
            self.signed_in = session_login(self.client, "officer")
            return
        path = f"/o/{SoakConfig.org}/esrs/"
        page = self.client.get(path, headers=cookie_header(self.client), name="ESRS reports", allow_redirects=False)
        token, period = CSRF_FIELD.search(page.text or ""), PERIOD_OPTION.search(page.text or "")
        if token is None or period is None:
            return
        form = {"csrfmiddlewaretoken": token.group(1), "period": period.group(1), "reason": ""}
        answer = post_until_answered(
            self.client, path, "report POST", {302}, data=form, headers=cookie_header(self.client)
        )
        expected = SoakConfig.expected
        match = re.search(r"/esrs/(\d+)/", answer.headers.get("Location", "")) if answer is not None else None
        with expected.lock:
            if match is None:
                expected.report_posts_failed += 1
            else:
                expected.reports[int(match.group(1))] = "queued"


class StaticBaseline(HttpUser):
    """The floor of this machine and server in the same run: a static file served by WhiteNoise, once a second."""

    fixed_count = 1
    wait_time = constant_pacing(1)

    @task
    def static_file(self) -> None:
        self.client.get(SoakConfig.static_path, name="static (baseline)", allow_redirects=False)


USER_CLASSES = [CiPoster, OfficerBrowser, EngineerBrowser, AuditorBrowser, ReportOfficer, StaticBaseline]


def billing_upload(client: Any, export: soak_data.CurExport) -> SentImport | None:
    """The large CUR through the billing API with the officer's session (CSRF header as a browser's script)."""
    if not session_login(client, "officer"):
        return None
    path = f"/api/v1/orgs/{SoakConfig.org}/billing/imports"
    headers = {
        **cookie_header(client),
        "X-CSRFToken": csrf_cookie(client),
        "Content-Type": "text/csv",
        "Content-Disposition": 'attachment; filename="cur-soak.csv"',
    }
    answer = post_until_answered(
        client, path, "api: billing POST (large CUR)", {200, 202}, data=export.body, headers=headers
    )
    if answer is None:
        return None
    job_id = answer.json()["id"]
    sent = SentImport("billing", job_id, f"{path}/{job_id}", "")
    expected = SoakConfig.expected
    if expected.accept(sent):
        with expected.lock:
            expected.billing_cost_milli += export.cost_milli
            expected.billing_lines += export.lines
    return sent
