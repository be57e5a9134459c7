"""deploy/docker-compose.prod.yml and its nginx site say what production needs."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.prod.yml"
NGINX_COMPOSE = ROOT / "deploy" / "nginx" / "compose.conf"
NGINX_SITE = ROOT / "deploy" / "nginx" / "devlab.conf"
DEVLAB_SERVICES = ("migrate", "api1", "api2", "checkpointer", "maintenance")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_the_compose_file_matches_the_compose_specification():
    checker = ROOT / ".venv" / "bin" / "check-jsonschema"
    if not checker.exists():
        pytest.skip("check-jsonschema is a CI tool (requirements-ci.txt)")
    result = subprocess.run(  # noqa: S603 - our own venv's tool
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_password_has_a_default(compose):
    text = COMPOSE.read_text()
    for name in ("POSTGRES_PASSWORD", "DEVLAB_DB_PASSWORD", "REDIS_PASSWORD"):
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert uses, name
        assert all(use.startswith(":?") for use in uses), (name, uses)


def test_only_nginx_publishes_ports(compose):
    published = {name for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"nginx"}


def test_two_replicas_behind_nginx_on_the_runtime_role_and_redis(compose):
    services = compose["services"]
    for name in ("api1", "api2"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://devlab_app:")
        assert env["CACHE_URL"].startswith("redis://")
        assert env["SKIP_MIGRATE"] == "1"
        assert "MIGRATION_DATABASE_URL" not in env
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    upstreams = re.findall(r"server (api\d):8000", NGINX_COMPOSE.read_text())
    assert upstreams == ["api1", "api2"]


def test_only_the_migrate_job_holds_the_owners_credentials(compose):
    holders = [
        name
        for name, service in compose["services"].items()
        if "MIGRATION_DATABASE_URL" in (service.get("environment") or {})
    ]
    assert holders == ["migrate"]


def test_only_the_checkpointer_gets_the_signing_key(compose):
    holders = [name for name, service in compose["services"].items() if service.get("secrets")]
    assert holders == ["checkpointer"]
    env = compose["services"]["checkpointer"]["environment"]
    assert env["AUDIT_CHECKPOINT_KEY_FILE"] == "/run/secrets/audit_checkpoint_key"
    assert "audit_checkpoint" in " ".join(compose["services"]["checkpointer"]["command"])


def test_the_maintenance_job_runs_the_maintenance_command_in_a_loop(compose):
    command = " ".join(compose["services"]["maintenance"]["command"])
    assert "python manage.py maintenance" in command
    assert "while :" in command


def test_devlab_containers_drop_privileges(compose):
    for name in DEVLAB_SERVICES:
        service = compose["services"][name]
        assert service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]


def _server_blocks(config: str) -> list[str]:
    return re.split(r"\nserver \{", config)[1:]


@pytest.mark.parametrize("site", [NGINX_COMPOSE, NGINX_SITE], ids=["compose", "host"])
def test_every_proxied_location_sends_the_host_and_the_forwarded_headers(site):
    """Set at server level: a location with none of its own (the probes) inherits them."""
    for block in _server_blocks(site.read_text()):
        if "proxy_pass" not in block:
            continue
        head = re.split(r"\n\s*location ", block, maxsplit=1)[0]
        assert "proxy_set_header Host $host;" in head
        assert "proxy_set_header X-Forwarded-For" in head
        assert "proxy_set_header X-Forwarded-Proto $scheme;" in head


def test_nginx_never_serves_metrics_to_the_internet():
    assert "location = /metrics { return 404; }" in NGINX_COMPOSE.read_text()


def test_the_edge_nginx_overwrites_a_client_forwarded_for():
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in NGINX_COMPOSE.read_text()


@pytest.mark.skipif(not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()), reason="nginx is not installed")
@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is not installed")
def test_the_compose_nginx_site_is_accepted_by_nginx(tmp_path):
    subprocess.run(  # noqa: S603
        [  # noqa: S607 - openssl from PATH
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(tmp_path / "privkey.pem"),
            "-out",
            str(tmp_path / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )
    # The compose service names resolve only inside compose; stand in loopback for them.
    site = re.sub(r"api\d:8000", "127.0.0.1:8000", NGINX_COMPOSE.read_text()).replace("/etc/nginx/certs", str(tmp_path))
    (tmp_path / "site.conf").write_text(site)
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n include {tmp_path}/site.conf;\n}}\n"
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run(  # noqa: S603 - Debian's nginx
        [nginx, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
