"""What DevLab's own Prometheus metrics said during each ``make reliability`` scenario.

Every server a scenario starts is scraped at ``/metrics`` the way Prometheus
would scrape it in production: over HTTP from loopback (the
``METRICS_ALLOWED_IPS`` default), with ``Authorization: Bearer`` when the
server has a ``METRICS_TOKEN``. A server is scraped just before it is stopped
or killed (``reliability.servers.Instance``) and, if still running, at the
end of every scenario (``reliability.lab.scenario``): the two cluster
replicas serve four scenarios in a row.

Counters and histograms only ever grow on one server, so what a scenario did
is the difference from that server's previous scrape; the checkpoint age is a
gauge and is taken as it is. The scraper's own requests (route ``metrics``)
are left out of the request figures. Percentiles are estimated from the
histogram buckets as Prometheus' ``histogram_quantile`` does (linear within a
bucket), so they are only as fine as the buckets.

The summary is printed after the run's table and written, with the run's
date and commit, to ``reliability/results/``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import math
import subprocess
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from scripts.liveserver import ROOT, RUNNING, loopback_only

RESULTS_DIR = ROOT / "reliability" / "results"
#: Generous: after an overloaded scenario (soak) a server still works through the requests
#: its clients gave up on, and the scrape waits behind them in the listen backlog.
SCRAPE_TIMEOUT_SECONDS = 60
SCRAPER_ROUTE = "metrics"

REQUESTS = "devlab_http_requests_total"
LATENCY = "devlab_http_request_duration_seconds"
QUERIES = "devlab_db_queries_per_request"
AUDIT_ROWS = "devlab_audit_rows_appended_total"
LOCK_WAIT = "devlab_audit_chain_lock_wait_seconds"
LOCK_HELD = "devlab_audit_chain_lock_held_seconds"
LOGIN_FAILURES = "devlab_login_failures_total"
LOGIN_REFUSED = "devlab_login_refused_total"
THROTTLED = "devlab_throttled_requests_total"
CHECKPOINT_AGE = "devlab_audit_checkpoint_age_seconds"

#: One sample: its name and its labels, sorted.
Key = tuple[str, tuple[tuple[str, str], ...]]


# ---------------------------------------------------------------- parsing
@dataclass
class Samples:
    """The samples of one scrape (or a difference of two, or a sum over servers)."""

    values: dict[Key, float] = field(default_factory=dict)
    gauges: set[str] = field(default_factory=set)  # names of the samples that are not cumulative

    def since(self, earlier: Samples | None) -> Samples:
        """What happened between ``earlier`` (the same server's previous scrape) and this one."""
        if earlier is None:
            return self
        values = {
            key: value if key[0] in self.gauges else value - earlier.values.get(key, 0.0)
            for key, value in self.values.items()
        }
        return Samples(values, set(self.gauges))

    def __add__(self, other: Samples) -> Samples:
        """Two servers' samples together (gauges: the later one's)."""
        values = dict(self.values)
        for key, value in other.values.items():
            values[key] = value if key[0] in other.gauges else values.get(key, 0.0) + value
        return Samples(values, self.gauges | other.gauges)

    def select(self, name: str, **labels: str) -> list[tuple[dict[str, str], float]]:
        """The samples called ``name`` whose labels include ``labels``, with all their labels."""
        return [
            (dict(key_labels), value)
            for (key_name, key_labels), value in self.values.items()
            if key_name == name and all(dict(key_labels).get(k) == v for k, v in labels.items())
        ]

    def total(self, name: str, **labels: str) -> float:
        return sum(value for _, value in self.select(name, **labels))


def parse(text: str) -> Samples:
    """The Prometheus text exposition as ``Samples`` (``_created`` timestamps left out)."""
    samples = Samples()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            samples.values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
            if family.type == "gauge":
                samples.gauges.add(sample.name)
    return samples


# ---------------------------------------------------------------- histograms
@dataclass
class Histogram:
    """Cumulative bucket counts by upper bound (``+Inf`` included), with their sum."""

    buckets: dict[float, float]
    total: float

    @property
    def count(self) -> float:
        return self.buckets.get(math.inf, 0.0)

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def quantile(self, q: float) -> float | None:
        """Prometheus' ``histogram_quantile``: linear within the bucket the rank falls in;
        the highest finite bound when it falls in ``+Inf``; None without observations."""
        if not self.count:
            return None
        rank = q * self.count
        lower, below = 0.0, 0.0
        for bound, cumulative in sorted(self.buckets.items()):
            if cumulative >= rank:
                if math.isinf(bound):
                    return lower
                return lower + (bound - lower) * (rank - below) / (cumulative - below)
            lower, below = bound, cumulative
        return lower


def histogram(samples: Samples, name: str, **labels: str) -> Histogram:
    """The histogram ``name`` over every label set that includes ``labels``, added up."""
    buckets: dict[float, float] = defaultdict(float)
    for sample_labels, value in samples.select(f"{name}_bucket", **labels):
        buckets[float(sample_labels["le"])] += value
    return Histogram(dict(buckets), samples.total(f"{name}_sum", **labels))


# ---------------------------------------------------------------- the summary
@dataclass
class Route:
    route: str
    requests: int
    server_errors: int
    p99_ms: float | None
    queries_mean: float | None


@dataclass
class Summary:
    """Every metric family DevLab exports, reduced to what an operator would read off a dashboard."""

    requests: int
    by_status: dict[str, int]
    server_errors: int
    p50_ms: float | None
    p99_ms: float | None
    queries_mean: float | None
    queries_p99: float | None
    audit_rows: int
    audit_by_action: dict[str, int]
    lock_held_seconds: float
    lock_held_p99_ms: float | None
    lock_wait_p99_ms: float | None
    login_failures: int
    lockouts: int
    rate_refused: int
    throttled: dict[str, int]
    checkpoint_age_seconds: float | None  # None: not exported; inf: no checkpoint yet
    routes: list[Route]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def summarize(samples: Samples) -> Summary:
    """The figures of ``samples``, without the scraper's own requests."""
    by_status: Counter = Counter()
    per_route: dict[str, Counter] = defaultdict(Counter)
    for labels, value in samples.select(REQUESTS):
        if labels["route"] == SCRAPER_ROUTE:
            continue
        by_status[labels["status"]] += int(value)
        per_route[labels["route"]]["requests"] += int(value)
        per_route[labels["route"]]["5xx"] += int(value) if labels["status"].startswith("5") else 0
    latency = _without_scraper(samples, LATENCY)
    queries = _without_scraper(samples, QUERIES)
    held = histogram(samples, LOCK_HELD)
    ages = samples.select(CHECKPOINT_AGE)
    routes = [
        Route(
            route,
            counts["requests"],
            counts["5xx"],
            _ms(histogram(samples, LATENCY, route=route).quantile(0.99)),
            histogram(samples, QUERIES, route=route).mean,
        )
        for route, counts in sorted(per_route.items(), key=lambda item: -item[1]["requests"])
        if counts["requests"]
    ]
    return Summary(
        requests=sum(by_status.values()),
        by_status=dict(sorted((status, count) for status, count in by_status.items() if count)),
        server_errors=sum(count for status, count in by_status.items() if status.startswith("5")),
        p50_ms=_ms(latency.quantile(0.5)),
        p99_ms=_ms(latency.quantile(0.99)),
        queries_mean=queries.mean,
        queries_p99=queries.quantile(0.99),
        audit_rows=int(samples.total(AUDIT_ROWS)),
        audit_by_action={
            labels["action"]: int(value)
            for labels, value in sorted(samples.select(AUDIT_ROWS), key=lambda item: -item[1])
            if value
        },
        lock_held_seconds=held.total,
        lock_held_p99_ms=_ms(held.quantile(0.99)),
        lock_wait_p99_ms=_ms(histogram(samples, LOCK_WAIT).quantile(0.99)),
        login_failures=int(samples.total(LOGIN_FAILURES)),
        lockouts=int(samples.total(LOGIN_REFUSED, reason="lockout")),
        rate_refused=int(samples.total(LOGIN_REFUSED, reason="rate")),
        throttled={labels["scope"]: int(value) for labels, value in samples.select(THROTTLED) if value},
        checkpoint_age_seconds=ages[0][1] if ages else None,
        routes=routes,
    )


def _without_scraper(samples: Samples, name: str) -> Histogram:
    everything, scraper = histogram(samples, name), histogram(samples, name, route=SCRAPER_ROUTE)
    buckets = {bound: count - scraper.buckets.get(bound, 0.0) for bound, count in everything.buckets.items()}
    return Histogram(buckets, everything.total - scraper.total)


# ---------------------------------------------------------------- scraping during the run
@dataclass
class Scrape:
    """One server's metrics over one scenario (``samples`` None if the scrape failed)."""

    scenario: str
    server: str
    samples: Samples | None
    error: str = ""


def fetch(base_url: str, token: str = "") -> str:
    """``/metrics`` of a loopback server, as Prometheus would ask for it."""
    request = urllib.request.Request(loopback_only(f"{base_url}/metrics"))  # noqa: S310 - http, loopback
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=SCRAPE_TIMEOUT_SECONDS) as response:  # noqa: S310 - loopback
        return response.read().decode()


class Recorder:
    """The scrapes of one run, each filed under the scenario running when it was taken."""

    def __init__(self):
        self.scrapes: list[Scrape] = []
        self.current: str | None = None
        self._previous: dict[tuple[str, int], Samples] = {}

    @contextlib.contextmanager
    def scenario(self, name: str):
        """Files scrapes under ``name``; at its end scrapes every server still running."""
        outer, self.current = self.current, name
        try:
            yield
        finally:
            for server in list(RUNNING):
                self.scrape(server)
            self.current = outer

    def scrape(self, server) -> None:
        """Scrapes a running ``GunicornServer`` (outside a scenario, nothing is recorded)."""
        if self.current is None or not server.alive():
            return
        name = server.log.stem
        try:
            now = parse(fetch(server.base_url, server.env.get("METRICS_TOKEN", "")))
        except (OSError, http.client.HTTPException, ValueError) as exc:  # refused, 403, timeout, not the format
            self.scrapes.append(Scrape(self.current, name, None, error=f"scrape failed: {exc}"))
            return
        key = (server.base_url, server.pid)
        self.scrapes.append(Scrape(self.current, name, now.since(self._previous.get(key))))
        self._previous[key] = now

    def by_scenario(self) -> dict[str, list[Scrape]]:
        grouped: dict[str, list[Scrape]] = {}
        for scrape in self.scrapes:
            grouped.setdefault(scrape.scenario, []).append(scrape)
        return grouped


#: The run's recorder (one run per process).
RECORDER = Recorder()


# ---------------------------------------------------------------- the report
def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "not exported"
    return "+Inf (none yet)" if math.isinf(seconds) else f"{seconds:.0f} s"


def _combined(scrapes: list[Scrape]) -> Summary | None:
    taken = [s.samples for s in scrapes if s.samples is not None]
    if not taken:
        return None
    total = taken[0]
    for samples in taken[1:]:
        total = total + samples
    return summarize(total)


OVERVIEW_COLUMNS = (
    "scenario",
    "requests",
    "5xx",
    "p50 ms",
    "p99 ms",
    "queries/req",
    "audit rows",
    "lock held p99 ms",
    "lock wait p99 ms",
    "login failures",
    "lockouts",
    "rate-refused logins",
    "throttled",
    "checkpoint age",
)


def overview_rows(recorder: Recorder) -> list[tuple[str, ...]]:
    """One row per scenario, every server it ran added up."""
    rows = []
    for scenario, scrapes in recorder.by_scenario().items():
        s = _combined(scrapes)
        if s is None:
            rows.append((scenario, *["-"] * (len(OVERVIEW_COLUMNS) - 2), "not scraped"))
            continue
        rows.append(
            (
                scenario,
                str(s.requests),
                str(s.server_errors),
                _num(s.p50_ms, 1),
                _num(s.p99_ms, 1),
                _num(s.queries_mean, 1),
                str(s.audit_rows),
                _num(s.lock_held_p99_ms, 1),
                _num(s.lock_wait_p99_ms, 1),
                str(s.login_failures),
                str(s.lockouts),
                str(s.rate_refused),
                str(sum(s.throttled.values())),
                _age(s.checkpoint_age_seconds),
            )
        )
    return rows


def overview(recorder: Recorder) -> str:
    """The plain-text table printed after the run's own."""
    rows = [OVERVIEW_COLUMNS, *overview_rows(recorder)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(OVERVIEW_COLUMNS))]
    cells = [[cell.rjust(w) for cell, w in zip(row, widths, strict=True)] for row in rows]
    lines = [" ".join([row[0].ljust(widths[0]), *cells[i][1:]]) for i, row in enumerate(rows)]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def markdown(recorder: Recorder, results, meta: dict) -> str:
    """The whole report: the overview, then each scenario's servers, routes, actions and refusals."""
    by_name = {r.name: r for r in results}
    lines = [
        f"# What DevLab's metrics showed during `make reliability` ({meta['date']}, {meta['commit']})",
        "",
        f"Run: {meta['mode']}; {meta['passed']} of {len(results)} scenarios passed. Each server was scraped "
        "at `/metrics` from loopback just before it stopped and at the end of each scenario; a scenario's "
        "figures are the differences between scrapes, without the scrapes themselves (reliability/metrics.py). "
        "p50/p99 are estimated from the histogram buckets.",
        "",
        "| " + " | ".join(OVERVIEW_COLUMNS) + " |",
        "|---" + "|---:" * (len(OVERVIEW_COLUMNS) - 1) + "|",
        *("| " + " | ".join(row) + " |" for row in overview_rows(recorder)),
    ]
    for scenario, scrapes in recorder.by_scenario().items():
        lines += ["", f"## {scenario}", ""]
        if (result := by_name.get(scenario)) is not None:
            lines.append(
                f"Clients saw ({'PASS' if result.ok else 'FAIL'}): {result.sent} sent, {result.ok_2xx} 2xx, "
                f"{result.client_4xx} 4xx, {result.server_5xx} 5xx, {result.no_answer} without an answer."
            )
        for scrape in scrapes:
            if scrape.samples is None:
                lines.append(f"- `{scrape.server}`: {scrape.error}")
                continue
            s = summarize(scrape.samples)
            lines.append(
                f"- `{scrape.server}`: {s.requests} requests, statuses {s.by_status or '{}'}; "
                f"p50 {_num(s.p50_ms, 1)} ms, p99 {_num(s.p99_ms, 1)} ms"
            )
        summary = _combined(scrapes)
        if summary is None:
            continue
        lines += [
            f"- database statements per request: mean {_num(summary.queries_mean, 1)}, "
            f"p99 {_num(summary.queries_p99, 1)}",
            f"- audit rows appended: {summary.audit_rows} {summary.audit_by_action or ''}; "
            f"chain lock held {summary.lock_held_seconds:.2f} s in all (p99 {_num(summary.lock_held_p99_ms, 1)} ms), "
            f"wait p99 {_num(summary.lock_wait_p99_ms, 1)} ms",
            f"- logins: {summary.login_failures} failed, {summary.lockouts} refused by the lockout, "
            f"{summary.rate_refused} by the rate limit; throttled: {summary.throttled or 0}",
            f"- seconds since the last signed checkpoint: {_age(summary.checkpoint_age_seconds)}",
            "",
            "| route | requests | 5xx | p99 ms | queries/req |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| `{r.route}` | {r.requests} | {r.server_errors} | {_num(r.p99_ms, 1)} | {_num(r.queries_mean, 1)} |"
                for r in summary.routes
            ),
        ]
    return "\n".join(lines) + "\n"


def commit_name() -> str:
    """The short commit, ``-dirty`` when tracked files differ from it (as bench/ names its results)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "nocommit"
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def write_report(recorder: Recorder, results, *, fast: bool) -> Path:
    """Writes ``reliability/results/<date>-<commit>[-fast].md``; returns its path."""
    meta = {
        "date": dt.date.today().isoformat(),
        "commit": commit_name(),
        "mode": "make reliability-ci (--fast)" if fast else "make reliability (every scenario)",
        "passed": sum(1 for r in results if r.ok),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{meta['date']}-{meta['commit']}{'-fast' if fast else ''}.md"
    path.write_text(markdown(recorder, results, meta))
    return path
