"""tools/greenesg-ci against a live test server (exit codes 0/1/2), and its error paths against a stub server."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from greenesg.accounts.models import Project
from steering import budget, services

TOOL = Path(__file__).resolve().parents[2] / "tools" / "greenesg-ci"
HEADER = (
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,"
    "cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,country_iso_code,region,"
    "cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,"
    "longitude,latitude,ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,"
    "ram_utilization_percent,ram_used_gb,on_cloud,pue,wue"
)


def _row(run_id: str, kwh: float, day: str = "2026-11-05") -> str:
    # A one-hour French on-prem run: GreenESG recomputes it with its own registry.
    return (
        f"{day}T12:00:00,model=tiny;accuracy=0.9,{run_id},exp-1,3600,0.01,0.0,10,0,5,{kwh / 2},0,{kwh / 2},{kwh},"
        "0,France,FRA,,,,Linux,3.11.7,3.3.2,2,AMD EPYC,0,,,,16,machine,50,0,10,1,N,1.0,0.0"
    )


def _csv(tmp_path: Path, *rows: str, name: str = "emissions.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def _run(path: Path, url: str, token: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GREENESG_URL": url,
        "GREENESG_PROJECT": "acme/ml",
        "GREENESG_TOKEN": token,
        **extra,
    }
    return subprocess.run(
        [sys.executable, str(TOOL), "check", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _budget(project: Project, kg: float, run_limit_kg: float | None = None) -> None:
    services.budget_set(
        project=project,
        period=budget.period_parse("2026-11"),
        kg=kg,
        run_limit_kg=run_limit_kg,
        actor=None,
        actor_label="test",
    )


@pytest.mark.django_db(transaction=True)
def test_the_client_passes_fails_and_errors_against_a_live_server(
    live_server, registry, project: Project, project_token: str, tmp_path: Path
) -> None:
    _budget(project, 1000.0, run_limit_kg=100.0)
    within = _run(_csv(tmp_path, _row("run-a", 0.5), _row("run-b", 1.0)), live_server.url, project_token)
    assert within.returncode == 0, within.stdout + within.stderr
    assert within.stdout.startswith("greenesg: PASS acme/ml 2026-11") and "2 new, 0 rejected" in within.stdout
    assert within.stdout.count("\n") == 1

    _budget(project, 1000.0, run_limit_kg=0.01)  # FRA ≈ 0.06 kg/kWh: a 1 kWh run is over a 0.01 kg limit
    run_over = _run(_csv(tmp_path, _row("run-c", 1.0), name="second.csv"), live_server.url, project_token)
    assert run_over.returncode == 1, run_over.stdout + run_over.stderr
    assert "FAIL" in run_over.stdout and "(fail)" in run_over.stdout

    _budget(project, 0.001)  # the project's month is now over budget, whatever the run
    over = _run(_csv(tmp_path, _row("run-d", 0.001), name="third.csv"), live_server.url, project_token)
    assert over.returncode == 1 and over.stdout.startswith("greenesg: FAIL")

    again = _run(_csv(tmp_path, _row("run-d", 0.001), name="third.csv"), live_server.url, project_token)
    assert again.returncode == 1 and "(already imported)" in again.stdout

    bad_token = _run(_csv(tmp_path, _row("run-e", 1.0), name="4.csv"), live_server.url, "ges_ci_nope_nope")
    assert bad_token.returncode == 2 and bad_token.stdout.startswith("greenesg: ERROR HTTP 401")
    no_budget = _run(
        _csv(tmp_path, _row("run-f", 1.0), name="5.csv"), live_server.url, project_token, GREENESG_PERIOD="2025-Q1"
    )
    assert no_budget.returncode == 2 and "no budget" in no_budget.stdout
    refused = _run(_csv(tmp_path, "not,a,codecarbon,file", name="6.csv"), live_server.url, project_token)
    assert refused.returncode == 2 and "ERROR" in refused.stdout


def _tool() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("greenesg_ci", str(TOOL))
    spec = importlib.util.spec_from_loader("greenesg_ci", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_a_failed_import_is_an_error(http_server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tool = _tool()
    holder: dict[str, str] = {}

    def answer(handler):
        if handler.command == "POST":
            return 202, {"id": "j1", "url": holder["url"] + "/job", "status": "pending"}
        return 200, {"id": "j1", "url": holder["url"] + "/job", "status": "failed", "error_message": "no valid rows"}

    server = http_server(answer)
    holder["url"] = server.url
    env = {"GREENESG_URL": server.url, "GREENESG_PROJECT": "acme/ml", "GREENESG_TOKEN": "t"}
    tool.POLL_SECONDS = 0  # the client polls every 2 s; nothing to wait for here
    assert tool.main(["greenesg-ci", "check", str(_csv(tmp_path, _row("r", 1.0)))], env) == 2
    assert "the import failed: no valid rows" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "set GREENESG_URL, GREENESG_PROJECT, GREENESG_TOKEN"),
        ({"GREENESG_URL": "http://x", "GREENESG_PROJECT": "acme", "GREENESG_TOKEN": "t"}, "ORG/PROJECT"),
        ({"GREENESG_URL": "ftp://x", "GREENESG_PROJECT": "a/b", "GREENESG_TOKEN": "t"}, "http"),
        ({"GREENESG_URL": "http://127.0.0.1:9", "GREENESG_PROJECT": "a/b", "GREENESG_TOKEN": "t"}, "cannot reach"),
    ],
)
def test_configuration_and_network_errors_exit_2(
    env: dict[str, str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _tool().main(["greenesg-ci", "check", str(_csv(tmp_path, _row("r", 1.0)))], env) == 2
    assert message in capsys.readouterr().out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert _tool().main(["greenesg-ci"], {}) == 2
    assert "usage" in capsys.readouterr().err
