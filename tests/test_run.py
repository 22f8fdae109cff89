"""`make run` (tools/run.sh and `manage.py serve`): the URL once, how to change the port, no banner noise."""

from __future__ import annotations

import subprocess
from io import StringIO
from pathlib import Path

from demo.management.commands.serve import Command

REPO = Path(__file__).resolve().parent.parent


def _fake_bin(tmp_path: Path) -> tuple[Path, Path]:
    """A BIN folder whose python records how it was called and whose celery idles like a worker."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(f'#!/bin/sh\necho "GREENESG_DEMO=$GREENESG_DEMO $*" >> {calls}\n')
    (bin_dir / "celery").write_text("#!/bin/sh\nexec sleep 60\n")
    for name in ("python", "celery"):
        (bin_dir / name).chmod(0o755)
    return bin_dir, calls


def test_run_starts_the_quiet_server_in_demo_mode_on_the_chosen_port(tmp_path: Path) -> None:
    bin_dir, calls = _fake_bin(tmp_path)
    result = subprocess.run(
        ["bash", str(REPO / "tools" / "run.sh"), str(bin_dir), "127.0.0.1", "8080"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert calls.read_text().split() == ["GREENESG_DEMO=1", "manage.py", "serve", "127.0.0.1:8080", "--noreload"]
    # The server's own start line is the one place the URL is printed.
    assert "http://" not in result.stdout and result.stdout.count("\n") == 1


def test_the_server_prints_one_line_with_the_url_and_how_to_change_the_port() -> None:
    out = StringIO()
    command = Command(stdout=out)
    command.addr, command._raw_ipv6, command.protocol = "127.0.0.1", False, "http"
    command.on_bind(8000)
    text = out.getvalue()
    assert text.count("\n") == 1 and text.count("http://") == 1
    assert "http://127.0.0.1:8000/" in text and "make run PORT=8080" in text
    assert "Django version" not in text and "development server" not in text


def test_the_server_runs_the_checks_without_printing_that_all_is_well(monkeypatch) -> None:
    seen = {}
    monkeypatch.setattr(
        "django.contrib.staticfiles.management.commands.runserver.Command.inner_run",
        lambda self, *args, **options: seen.update(options),
    )
    out = StringIO()
    Command(stdout=out).inner_run(skip_checks=False, use_threading=True)
    assert out.getvalue() == "" and seen["skip_checks"] is True
