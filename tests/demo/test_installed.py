"""The demo app (seed_demo, seed_audit) exists only in development or when asked for."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = "import django; django.setup(); from django.conf import settings; print('demo' in settings.INSTALLED_APPS)"


def _env(tmp_path, **values) -> dict[str, str]:
    """Production-like settings: none of the test run's DEBUG or DEVLAB_DEMO."""
    env = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "DEVLAB_DEMO"}}
    env.update(
        DJANGO_SETTINGS_MODULE="devlab.settings",
        SECRET_KEY="production-like-secret-key-" + "x" * 40,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **values,
    )
    return env


def _run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("values", "installed"),
    [
        ({}, False),
        ({"DEBUG": "False"}, False),
        ({"DEBUG": "False", "DEVLAB_DEMO": "True"}, True),
        ({"DEBUG": "True"}, True),
        ({"DEBUG": "True", "DEVLAB_DEMO": "False"}, False),
    ],
)
def test_production_settings_do_not_install_the_demo_app(tmp_path, values, installed):
    result = _run(_env(tmp_path, **values), "-c", CHECK)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(installed)


@pytest.mark.parametrize("command", ["seed_audit", "seed_demo"])
def test_in_production_the_seeders_are_unknown_commands(tmp_path, command):
    result = _run(_env(tmp_path, DEBUG="False"), "manage.py", command, "--rows", "5", "--force")
    assert result.returncode == 1
    assert f"Unknown command: '{command}'" in result.stderr


def test_the_production_image_leaves_the_demo_app_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "demo" in ignored
