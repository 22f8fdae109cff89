"""The web command of the image and of compose.yaml, read by gunicorn's own argument parser.

The image runs gunicorn as an unprivileged user in a root-owned /app: a control socket under ~/.gunicorn cannot
be created there (the soak logged "Control server error: Permission denied" at every start), so both commands
turn it off; restarts and scaling go through the orchestrator.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[2]


def _parsed(argv: list[str]) -> Config:
    assert argv[0] == "gunicorn", argv
    config = Config()
    arguments = config.parser().parse_args(argv[1:])
    for name, value in vars(arguments).items():
        if value is not None and name in config.settings:
            config.set(name, value)
    return config


def _dockerfile_cmd() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(r"^CMD (\[.*\])\s*$", text, flags=re.M)
    assert match, "no exec-form CMD in the Dockerfile"
    return json.loads(match.group(1))


def _compose_web_command() -> list[str]:
    web = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["web"]
    return [part.replace("${WEB_WORKERS:-3}", "3") for part in web["command"]]


def test_the_image_and_compose_run_gunicorn_without_a_control_socket() -> None:
    for argv in (_dockerfile_cmd(), _compose_web_command()):
        config = _parsed(argv)
        assert config.control_socket_disable is True, argv
        assert config.bind == ["0.0.0.0:8000"], argv
        assert argv[1] == "greenesg.wsgi", argv
