"""The deployment files in deploy/ are valid and say what production needs."""

import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import environ
import pytest

from reliability.cluster import Nginx

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / "deploy" / "production.env.example"
NGINX_SITE = ROOT / "deploy" / "nginx" / "devlab.conf"


def _example_env() -> dict[str, str]:
    """The example's variables with every <placeholder> filled in."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = re.sub(
                r"<[^>]*>", lambda m: secrets.token_urlsafe(50) if "random" in m.group() else "placeholder", value
            )
    return values


def test_production_env_example_passes_djangos_deployment_checks(tmp_path):
    # The example's log directory is created at install time (docs/operations.md).
    env = {"PATH": "/usr/bin:/bin", **_example_env(), "AUDIT_LOG_FILE": str(tmp_path / "audit.jsonl")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_production_env_example_requires_tls_to_the_database():
    config = environ.Env.db_url_config(_example_env()["DATABASE_URL"])
    assert config["OPTIONS"]["sslmode"] == "require"


def test_production_env_example_trusts_only_the_local_proxy_and_sets_the_audit_key():
    env = _example_env()
    assert env["TRUSTED_PROXIES"] == "127.0.0.1"
    assert env["HTTPS_ONLY"] == "True"
    assert env["AUDIT_SIGNING_KEY"]


def test_nginx_site_redirects_http_sends_hsts_and_forwards_client_address_and_scheme():
    site = NGINX_SITE.read_text()
    assert "return 301 https://$host$request_uri;" in site
    assert 'add_header Strict-Transport-Security "max-age=31536000' in site
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site


def _nginx_test(config: Path, prefix: Path) -> subprocess.CompletedProcess:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return subprocess.run(  # noqa: S603 - Debian's nginx
        [nginx, "-t", "-p", str(prefix), "-c", str(config)], capture_output=True, text=True, check=False
    )


needs_nginx = pytest.mark.skipif(
    not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()), reason="nginx is not installed"
)


@needs_nginx
@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is not installed")
def test_nginx_site_is_accepted_by_nginx(tmp_path):
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
            "/CN=devlab.example.com",
            "-keyout",
            str(tmp_path / "privkey.pem"),
            "-out",
            str(tmp_path / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )
    (tmp_path / "options-ssl-nginx.conf").write_text("ssl_protocols TLSv1.2 TLSv1.3;\n")
    # Certbot's files are stood in for; a real dhparam takes minutes to generate.
    site = (
        NGINX_SITE.read_text()
        .replace("/etc/letsencrypt/live/devlab.example.com", str(tmp_path))
        .replace("/etc/letsencrypt/options-ssl-nginx.conf", str(tmp_path / "options-ssl-nginx.conf"))
    )
    site = re.sub(r"\n\s*ssl_dhparam [^;]*;", "", site)
    (tmp_path / "site.conf").write_text(site)
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n include {tmp_path}/site.conf;\n}}\n"
    )
    result = _nginx_test(config, tmp_path)
    assert result.returncode == 0, result.stderr


@needs_nginx
def test_local_cluster_nginx_config_is_accepted_by_nginx():
    proxy = Nginx(18080, ["127.0.0.1:18001", "127.0.0.1:18002"])
    try:
        result = _nginx_test(proxy.conf, proxy.prefix)
    finally:
        proxy.stop()
    assert result.returncode == 0, result.stderr
