"""tools/supervise.sh (used by `make run` for its worker): a process that exits is started again, with backoff."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.integration.conftest import REPO, wait_for


def test_a_process_that_exits_is_started_again_and_term_stops_everything(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    child_pid = tmp_path / "child.pid"
    # Exits at once twice (a crash loop), then stays up like a healthy worker.
    script = f"echo run >> {runs}; [ $(wc -l < {runs}) -ge 3 ] && {{ echo $$ > {child_pid}; exec sleep 300; }}; exit 3"
    supervisor = subprocess.Popen(
        ["bash", str(REPO / "tools" / "supervise.sh"), "bash", "-c", script],
        env={"PATH": "/usr/bin:/bin", "SUPERVISE_MAX_DELAY": "2"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = time.monotonic()
        wait_for(child_pid.exists, timeout=20, what="the third start")
        assert time.monotonic() - started >= 3  # waited 1 s, then 2 s: backoff, not a busy loop
        pid = int(child_pid.read_text())
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=10) == 0
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
    assert runs.read_text().count("run") == 3
    assert "exited with status 3" in supervisor.stderr.read()
    assert subprocess.run(["kill", "-0", str(pid)], capture_output=True, check=False).returncode != 0  # child gone
