"""The development compose file: two database roles, passwords from the environment
only, every published port on the loopback interface."""

import re
from pathlib import Path

import environ
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
INIT_SCRIPT = ROOT / "docker" / "postgres-init" / "10-devlab-app-role.sh"


def _required(value: str, name: str) -> bool:
    """``value`` takes ``name`` from the environment and refuses to start without it."""
    return re.search(r"\$\{" + name + r":\?[^}]+\}", value) is not None


def _interpolated(value: str) -> str:
    return re.sub(r"\$\{(\w+):\?[^}]+\}", lambda match: f"value-of-{match[1]}", value)


def test_every_published_port_listens_on_loopback_only():
    published = [port for service in SERVICES.values() for port in service.get("ports", [])]
    assert published
    assert all(str(port).startswith("127.0.0.1:") for port in published), published


def test_the_passwords_come_from_the_environment_with_no_default():
    db, api = SERVICES["db"]["environment"], SERVICES["api"]["environment"]
    assert _required(db["POSTGRES_PASSWORD"], "POSTGRES_PASSWORD")
    assert _required(db["DEVLAB_DB_PASSWORD"], "DEVLAB_DB_PASSWORD")
    assert _required(api["DATABASE_URL"], "DEVLAB_DB_PASSWORD")
    assert _required(api["MIGRATION_DATABASE_URL"], "POSTGRES_PASSWORD")
    text = (ROOT / "docker-compose.yml").read_text()
    assert ":-" not in text.replace("${ALLOWED_HOSTS:-", "")  # no other variable has a default


def test_the_app_serves_as_the_runtime_role_and_migrates_as_the_owner():
    api = SERVICES["api"]["environment"]
    serve = environ.Env.db_url_config(_interpolated(api["DATABASE_URL"]))
    migrate = environ.Env.db_url_config(_interpolated(api["MIGRATION_DATABASE_URL"]))
    assert migrate["USER"] == SERVICES["db"]["environment"]["POSTGRES_USER"] == "devlab"
    assert serve["USER"] == "devlab_app"
    assert serve["NAME"] == migrate["NAME"] == "devlab"
    assert (serve["PASSWORD"], migrate["PASSWORD"]) == ("value-of-DEVLAB_DB_PASSWORD", "value-of-POSTGRES_PASSWORD")
    # The database's init script creates that login role, with the app's password.
    assert "./docker/postgres-init:/docker-entrypoint-initdb.d:ro" in SERVICES["db"]["volumes"]
    script = INIT_SCRIPT.read_text()
    assert "CREATE ROLE devlab_app LOGIN PASSWORD :'app_password';" in script
    assert 'app_password="$DEVLAB_DB_PASSWORD"' in script
    assert INIT_SCRIPT.stat().st_mode & 0o111


def test_mail_goes_to_mailpit_whose_smtp_port_is_not_published():
    assert SERVICES["api"]["environment"]["EMAIL_URL"] == "smtp://mailpit:1025"
    assert SERVICES["mailpit"]["image"].startswith("axllent/mailpit:")
    assert SERVICES["mailpit"]["ports"] == ["127.0.0.1:8025:8025"]


def test_the_env_example_leaves_the_passwords_to_the_operator():
    example = dict(
        line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if re.match(r"^[A-Z_]+=", line)
    )
    assert example["POSTGRES_PASSWORD"] == ""
    assert example["DEVLAB_DB_PASSWORD"] == ""
