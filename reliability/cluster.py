"""Two DevLab instances behind nginx on loopback, one PostgreSQL, one Redis.

By hand (``deploy/local-cluster/run.sh``)::

    python -m reliability.cluster [--database-url URL] [--port 8080]

migrates the database, starts two gunicorn instances on free loopback ports
(``CACHE_URL=redis://127.0.0.1:6379/5``, ``TRUSTED_PROXIES=127.0.0.1``) and
nginx from Debian (installed with apt-get when missing) on the given port,
and keeps them until Ctrl-C or SIGTERM; then every process it started is
stopped. The reliability scenarios use the same class.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from reliability.servers import Instance
from scripts.liveserver import ROOT, free_port, wait_http

TEMPLATE = ROOT / "deploy" / "local-cluster" / "nginx.conf.template"
REDIS_URL = "redis://127.0.0.1:6379/5"
PROXY_ADDRESS = "127.0.0.1"


def ensure_nginx() -> str:
    """nginx's path; installs Debian's package with apt-get when it is missing (as root)."""
    if path := shutil.which("nginx") or (Path("/usr/sbin/nginx").exists() and "/usr/sbin/nginx"):
        return path
    if not shutil.which("apt-get") or os.geteuid() != 0:
        raise SystemExit("reliability: nginx is not installed; install it (Debian/Ubuntu: sudo apt-get install nginx)")
    print("reliability: installing nginx with apt-get ...", flush=True)
    # RUNLEVEL=1: the package's post-install must not start a system nginx on port 80.
    quiet = {
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "RUNLEVEL": "1"},
    }
    if subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=False, **quiet).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True, **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True, **quiet)
    if path := shutil.which("nginx") or (Path("/usr/sbin/nginx").exists() and "/usr/sbin/nginx"):
        return path
    raise SystemExit("reliability: apt-get did not install nginx")


def flush_redis_db(url: str = REDIS_URL) -> None:
    """Empties only the cluster's own Redis database (5); other databases are other people's."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.flushdb()
    finally:
        client.close()


class Nginx:
    """nginx with its own prefix directory (config, pid, logs) and no daemon."""

    def __init__(self, listen_port: int, upstreams: list[str], keep_log: Path | None = None):
        self.port = listen_port
        self.keep_log = keep_log
        self.base_url = f"http://{PROXY_ADDRESS}:{listen_port}"
        self.prefix = Path(tempfile.mkdtemp(prefix="devlab-reliability-nginx-"))
        # Workers run as nobody when started by root: they must reach the temp dirs.
        self.prefix.chmod(0o755)
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            path = self.prefix / "tmp" / name
            path.mkdir(parents=True)
            path.chmod(0o777)
        (self.prefix / "tmp").chmod(0o755)
        text = TEMPLATE.read_text()
        for key, value in {
            "@LISTEN@": f"{PROXY_ADDRESS}:{listen_port}",
            "@UPSTREAM_A@": upstreams[0],
            "@UPSTREAM_B@": upstreams[1],
            "@PREFIX@": str(self.prefix),
        }.items():
            text = text.replace(key, value)
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(text)
        self.process: subprocess.Popen | None = None

    def start(self) -> Nginx:
        binary = ensure_nginx()
        command = [binary, "-p", str(self.prefix), "-c", str(self.conf)]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {check.stderr}")
        self.process = subprocess.Popen(
            [*command, "-g", "daemon off;"], start_new_session=True, stderr=subprocess.DEVNULL
        )
        if not wait_http(f"{self.base_url}/healthz", timeout=20):
            self.stop()
            raise RuntimeError(f"nginx did not answer; see {self.prefix / 'error.log'}")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish in-flight requests
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.keep_log is not None and (self.prefix / "error.log").exists():
            shutil.copyfile(self.prefix / "error.log", self.keep_log)
        shutil.rmtree(self.prefix, ignore_errors=True)


class LocalCluster:
    """Instances A and B (gunicorn) and nginx in front of them."""

    def __init__(self, env: dict[str, str], logdir: Path, *, workers: int = 2, port: int | None = None):
        shared = {**env, "CACHE_URL": REDIS_URL, "TRUSTED_PROXIES": PROXY_ADDRESS}
        self.instances = [Instance(shared, logdir / f"instance-{name}.log", workers=workers) for name in ("a", "b")]
        self.nginx = Nginx(
            port or free_port(), [f"127.0.0.1:{i.port}" for i in self.instances], keep_log=logdir / "nginx-error.log"
        )
        self.base_url = self.nginx.base_url

    def start(self) -> LocalCluster:
        flush_redis_db()
        for instance in self.instances:
            instance.start()
        self.nginx.start()
        return self

    def stop(self) -> None:
        self.nginx.stop()
        for instance in self.instances:
            instance.stop()
        with contextlib.suppress(Exception):
            flush_redis_db()

    def __enter__(self) -> LocalCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    from scripts.liveserver import manage

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/devlab")
    )
    parser.add_argument("--port", type=int, default=8080, help="nginx's loopback port (default 8080)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance (default 2)")
    args = parser.parse_args()
    # Production settings (DEBUG off, default throttles and lockout); a fresh
    # SECRET_KEY unless one is given, so tokens do not survive a restart.
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DEBUG": os.environ.get("DEBUG", "False"),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost"),
    }
    logdir = Path(tempfile.mkdtemp(prefix="devlab-cluster-logs-"))
    manage(env, "migrate", "--noinput", log=logdir / "migrate.log")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    with LocalCluster(env, logdir, workers=args.workers, port=args.port) as cluster:
        a, b = cluster.instances
        print(f"DevLab via nginx: {cluster.base_url}/  (instances {a.base_url}, {b.base_url}; logs in {logdir})")
        print("Ctrl-C stops everything.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while not stop and all(i.alive() for i in cluster.instances):
                time.sleep(0.5)


if __name__ == "__main__":
    main()
