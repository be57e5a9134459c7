"""gunicorn.conf.py: DevLab's workers on gthread's event loop, one thread, keep-alive."""

import os
import runpy
import shutil
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.workers.gthread import ThreadWorker

from devlab.gunicorn_worker import InlineWorker, LongRequestAwareThreadWorker

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def _conf(monkeypatch, **env) -> dict:
    # Without a metrics directory the file makes one and sets PROMETHEUS_MULTIPROC_DIR in
    # os.environ, which would turn every later /metrics of this process to multi-process
    # mode: set here, the variable is taken back after the test (and the directory removed).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    for key in ("GUNICORN_WORKER_CLASS", "GUNICORN_THREADS", "GUNICORN_WORKER_CONNECTIONS", "GUNICORN_KEEPALIVE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    values = runpy.run_path(str(CONF))
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
    return values


def _gunicorn(values: dict) -> Config:
    """The settings as gunicorn itself reads them (it refuses unknown values)."""
    config = Config()
    for name in ("worker_class", "threads", "worker_connections", "keepalive", "timeout"):
        config.set(name, values[name])
    return config


def test_workers_are_gthread_loops_so_a_long_request_does_not_look_like_a_hung_worker(monkeypatch):
    config = _gunicorn(_conf(monkeypatch))
    assert config.worker_class is InlineWorker  # one thread: served on the loop's, no pool
    assert issubclass(config.worker_class, ThreadWorker)


def test_more_threads_take_the_thread_pool_worker(monkeypatch):
    config = _gunicorn(_conf(monkeypatch, GUNICORN_THREADS="4"))
    assert config.worker_class is LongRequestAwareThreadWorker


def test_a_worker_has_one_thread_and_keeps_connections_alive(monkeypatch):
    values = _conf(monkeypatch)
    assert (values["threads"], values["worker_connections"], values["keepalive"]) == (1, 32, 5)
    assert _conf(monkeypatch, GUNICORN_KEEPALIVE="2")["keepalive"] == 2


def test_as_many_connections_as_threads_turns_keep_alive_off(monkeypatch):
    values = _conf(monkeypatch, GUNICORN_THREADS="4", GUNICORN_WORKER_CONNECTIONS="4")
    assert (values["threads"], values["worker_connections"], values["keepalive"]) == (4, 4, 0)


@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
def test_the_worker_class_can_still_be_chosen(monkeypatch, worker_class):
    assert _gunicorn(_conf(monkeypatch, GUNICORN_WORKER_CLASS=worker_class)).worker_class_str == worker_class


def test_a_started_worker_freezes_what_it_holds_for_life(monkeypatch):
    import gc

    post_worker_init = _conf(monkeypatch)["post_worker_init"]
    try:
        post_worker_init(worker=None)
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert frozen > 10_000  # Django, the app, the URLconf and its views
