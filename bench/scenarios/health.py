"""``GET /healthz`` at 16 connections: the framework's ceiling (routing, middleware, gunicorn,
no database) that the notes list is compared with."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scripts.liveserver import GunicornServer

if TYPE_CHECKING:
    from bench.context import BenchRun

QUERY_REQUESTS = [{"name": "healthz", "method": "GET", "path": "/healthz"}]


def measure(run: BenchRun, server: GunicornServer, queries: dict) -> None:
    run.load(server, "GET /healthz", "/healthz", "plain.lua", 16)["queries"] = queries.get("healthz")
