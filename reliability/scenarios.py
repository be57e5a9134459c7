"""The faults of issue 10, one ``@scenario`` function each: called as ``scenario(lab)``, it returns a Result.

Every scenario starts its own servers on a fresh copy of the template
database, drives bounded load, injects its fault, stops what it started (in
``finally``) and then asks the database what survived.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections import Counter

import psycopg

from reliability import checks, fuzz
from reliability.client import Client, Record
from reliability.cluster import LocalCluster
from reliability.lab import Lab, Result, Scene, scenario
from reliability.metrics import RECORDER
from reliability.servers import Instance, RedisServer
from reliability.workload import Background, LoadUser, run_threads

RETRYABLE_UNAVAILABLE = 503
REQUEST_LINE_TOO_LONG = 414


def _join_all(users: list[LoadUser]) -> int:
    """Signs every user up and in, in parallel; returns how many made it."""
    done = []
    threads = [threading.Thread(target=lambda u=u: done.append(u.join())) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return sum(done)


def _note_loop(users: list[LoadUser], pause_on_error: float = 0.05):
    def body(index: int, stop: threading.Event) -> None:
        user = users[index % len(users)]
        while not stop.is_set():
            record = user.note_step()
            if record is not None and not record.ok:
                stop.wait(pause_on_error)

    return body


def _check_unavailable(result: Result, records: list[Record], where: str) -> int:
    """Every 5xx of the API must be a 503 JSON answer with Retry-After; returns how many there were.

    The probes (/healthz, /readyz) are checked on their own.
    """
    records = [r for r in records if r.path.startswith("/api/")]
    bad = [r for r in records if r.status >= 500 and not (r.status == 503 and r.is_json and r.retry_after)]
    result.require(not bad, f"{where}: {len(bad)} 5xx that were not 503 JSON with Retry-After, e.g. {_show(bad)}")
    no_answer = [r for r in records if r.status == 0]
    result.require(not no_answer, f"{where}: {len(no_answer)} requests without an answer, e.g. {_show(no_answer)}")
    return sum(1 for r in records if r.status == RETRYABLE_UNAVAILABLE)


def _check_all_ok_or_4xx(result: Result, records: list[Record], where: str) -> None:
    bad = [r for r in records if r.status >= 500 or r.status == 0]
    result.require(not bad, f"{where}: {len(bad)} requests failed (5xx or no answer), e.g. {_show(bad)}")


def _show(records: list[Record], limit: int = 3, path_chars: int = 120) -> list[str]:
    def path(record: Record) -> str:
        cut = record.path[:path_chars]
        return cut if cut == record.path else f"{cut}... ({len(record.path)} characters)"

    return [f"{r.method} {path(r)} -> {r.status or r.error} ({r.request_id})" for r in records[:limit]]


# ---------------------------------------------------------------- 1. database down
@scenario("database down")
def database_down(result: Result, lab: Lab) -> None:
    """PostgreSQL crashes (immediate stop) under write load, stays down, comes back."""
    scene = Scene(lab, "db-down")
    server = Instance(scene.env, scene.log("gunicorn"), workers=3).start()
    try:
        users = [LoadUser(scene.client(server.base_url)) for _ in range(6)]
        result.require(_join_all(users) == len(users), "not every load user could sign up and log in")
        probe = scene.client(server.base_url)
        probes: list[tuple[str, Record]] = []
        with Background(len(users), _note_loop(users)):
            time.sleep(3)
            down_at = time.monotonic()
            lab.cluster.stop("immediate")
            crashed_at = time.monotonic()
            for _ in range(8):
                probes.append(("down", probe.request("healthz", "GET", "/healthz")))
                probes.append(("down", probe.request("readyz", "GET", "/readyz")))
                time.sleep(0.5)
            lab.restart_postgres()
            up_at = time.monotonic()
            time.sleep(4)
        for _ in range(5):
            probes.append(("up", probe.request("readyz", "GET", "/readyz")))
    finally:
        server.stop()

    records = scene.ledger.snapshot()
    before = [r for r in records if r.finished < down_at]
    during = [r for r in records if r.started < up_at and r.finished >= down_at]
    after = [r for r in records if r.started >= up_at]
    _check_all_ok_or_4xx(result, before, "before the outage")
    unavailable = _check_unavailable(result, during, "during the outage")
    _check_all_ok_or_4xx(result, after, "after PostgreSQL came back")
    result.require(unavailable > 0, "no request saw the outage (503): the fault did not bite")
    result.require(any(r.ok and r.expected_action for r in after), "no write succeeded after PostgreSQL came back")
    healthz = [r for phase, r in probes if r.kind == "healthz"]
    result.require(all(r.status == 200 for r in healthz), "/healthz was not 200 throughout the outage")
    readyz_down = [r for phase, r in probes if r.kind == "readyz" and phase == "down"]
    result.require(
        all(r.status == 503 and isinstance(r.json, dict) and r.json.get("database") == "error" for r in readyz_down),
        f"/readyz during the outage: {[r.status for r in readyz_down]} (want 503 JSON)",
    )
    readyz_up = [r for phase, r in probes if r.kind == "readyz" and phase == "up"]
    result.require(all(r.status == 200 for r in readyz_up), "/readyz not 200 after PostgreSQL came back")
    result.notes.append(
        f"outage {up_at - down_at:.1f} s: {unavailable} answered 503 JSON with Retry-After; "
        f"{len(after)} requests after restart, first at +{(after[0].started - up_at) if after else 0:.2f} s"
    )

    def in_doubt(record: Record) -> bool:
        # Only a request already running when PostgreSQL died can have sent its COMMIT.
        return record.status == RETRYABLE_UNAVAILABLE and record.started <= crashed_at and record.finished >= down_at

    scene.audit_result(result, in_doubt=in_doubt)
    # Outage 5xx were the expected 503s; the row's 5xx column still shows them.


# ---------------------------------------------------------------- 2. too many connections
@scenario("too many connections")
def too_many_connections(result: Result, lab: Lab) -> None:
    """More clients than PostgreSQL has slots for: 503 JSON, then recovery without a restart.

    Phase 1: another client (a connection hog, as a second replica or a
    leaking job would be) holds all but two of DevLab's connection slots
    while four workers serve load. Phase 2: the hog lets go; every request
    succeeds again. Phase 3: a deployment that breaks the sizing rule
    (more workers than slots) without the pool and with ``CONN_MAX_AGE=0``
    (a pooled worker keeps its connection, as ``CONN_MAX_AGE`` > 0 does): overload answers 503,
    and the moment the load drops everything succeeds.
    """
    lab.restart_postgres(max_connections=8)  # 5 slots for DevLab's ordinary role
    try:
        scene = Scene(lab, "too-many")
        slots = lab.cluster.app_slots
        hog = [psycopg.connect(scene.url, connect_timeout=5) for _ in range(slots - 2)]
        server = Instance(scene.env, scene.log("gunicorn"), workers=4).start()
        try:
            users = [LoadUser(scene.client(server.base_url)) for _ in range(8)]
            for user in users:
                user.client.phase = "hogged"
            result.require(_join_all(users) == len(users), "not every load user could sign up and log in")
            run_threads(len(users), _note_loop(users), seconds=5)
            for conn in hog:
                conn.close()
            hog.clear()
            for user in users:
                user.client.phase = "released"
            run_threads(len(users), _note_loop(users), seconds=4)
        finally:
            for conn in hog:
                conn.close()
            server.stop()

        oversized = Instance(
            scene.env, scene.log("gunicorn-oversized"), workers=slots + 3, DATABASE_POOL="False", CONN_MAX_AGE=0
        ).start()
        try:
            for user in users:
                user.client = Client(oversized.base_url, scene.ledger, scene.name)
                user.client.phase = "oversized"
            run_threads(24, _note_loop(users), seconds=6)
            for user in users:
                user.client.phase = "calm"
            for user in users:
                for _ in range(3):
                    user.note_step()
        finally:
            oversized.stop()
    finally:
        lab.restart_postgres()

    records = scene.ledger.snapshot()
    by_phase = {
        phase: [r for r in records if r.phase == phase] for phase in ("hogged", "released", "oversized", "calm")
    }
    hogged = _check_unavailable(result, by_phase["hogged"], "connection slots taken")
    result.require(hogged > 0, "no 503 while the slots were taken: the fault did not bite")
    _check_all_ok_or_4xx(result, by_phase["released"], "after the slots were freed")
    overloaded = _check_unavailable(result, by_phase["oversized"], "more workers than slots")
    _check_all_ok_or_4xx(result, by_phase["calm"], "after the overload")
    result.notes.append(
        f"{slots} slots for DevLab: {hogged} 503s with 2 free for 4 workers; "
        f"{overloaded} 503s with {slots + 3} workers (no pool, CONN_MAX_AGE=0) under 24 clients; "
        f"{len(by_phase['released'])} + {len(by_phase['calm'])} requests after, all answered"
    )
    scene.audit_result(result)


# ---------------------------------------------------------------- 3. soak
SOAK_SECONDS = 60
SOAK_CONNECTIONS = 64
#: Largest growth of any worker's memory between the first and the last part of the soak.
SOAK_MEMORY_LIMIT_MIB = 20


@scenario("soak")
def soak(result: Result, lab: Lab, seconds: float = SOAK_SECONDS, connections: int = SOAK_CONNECTIONS) -> None:
    """Mixed load at 64 connections: signup, login, note CRUD, profile, audit reads."""
    scene = Scene(lab, "soak")
    server = Instance(scene.env, scene.log("gunicorn"), workers=5).start()
    samples: list[tuple[float, dict[int, int]]] = []
    try:
        admin_client = scene.client(server.base_url)
        admin_token = scene.admin_token(admin_client)

        def body(index: int, stop: threading.Event) -> None:
            client = scene.client(server.base_url)
            rng = random.Random(index)
            if index % 16 == 0:  # four admins reading the audit trail
                while not stop.is_set():
                    client.request("audit_list", "GET", "/api/audit/logs/?page_size=20", token=admin_token)
                    stop.wait(0.2)
                return
            user = LoadUser(client, rng)
            if not user.join(attempts=3):
                return
            while not stop.is_set():
                roll = rng.random()
                if roll < 0.01:
                    user.login()
                elif roll < 0.02:
                    user.update_profile()
                elif roll < 0.04:
                    client.request("me", "GET", "/api/auth/me/", token=user.token)
                else:
                    user.note_step()

        def sample(_index: int, stop: threading.Event) -> None:
            t0 = time.monotonic()
            while not stop.wait(1.0):
                samples.append((time.monotonic() - t0, server.rss_kib()))

        with Background(1, sample, max_seconds=seconds + 30):
            run_threads(connections, body, seconds=seconds)
    finally:
        server.stop()

    records = scene.ledger.snapshot()
    _check_all_ok_or_4xx(result, records, "soak")
    kinds = Counter(r.kind for r in records)
    result.require(kinds["signup"] > 0 and kinds["note_create"] > 0 and kinds["audit_list"] > 0, "mix incomplete")
    growth = _memory_growth_mib(samples, seconds)
    result.require(growth <= SOAK_MEMORY_LIMIT_MIB, f"worker memory grew {growth} MiB (limit {SOAK_MEMORY_LIMIT_MIB})")
    rps = round(len(records) / seconds)
    mix = ", ".join(f"{k} {v}" for k, v in kinds.most_common())
    result.notes.append(f"{connections} connections for {seconds:.0f} s, ~{rps} req/s; worker memory +{growth} MiB")
    result.notes.append(f"mix: {mix}")
    scene.audit_result(result)


def _memory_growth_mib(samples: list[tuple[float, dict[int, int]]], seconds: float) -> float:
    """Largest per-worker growth from the first third (after warm-up) to the last sample."""
    if len(samples) < 3:
        return 0.0
    warm = [rss for t, rss in samples if seconds * 0.25 <= t <= seconds * 0.4] or [samples[0][1]]
    last = samples[-1][1]
    growth = [last[pid] - min(s[pid] for s in warm if pid in s) for pid in last if any(pid in s for s in warm)]
    return round(max(growth, default=0) / 1024, 1)


# ---------------------------------------------------------------- 4. worker death and shutdown
@scenario("kill -9 a worker")
def worker_kill(result: Result, lab: Lab) -> None:
    """``kill -9`` of one worker under load: replaced, and only its request fails."""
    scene = Scene(lab, "worker-kill")
    server = Instance(scene.env, scene.log("gunicorn"), workers=3).start()
    try:
        users = [LoadUser(scene.client(server.base_url)) for _ in range(9)]
        result.require(_join_all(users) == len(users), "not every load user could sign up and log in")
        with Background(len(users), _note_loop(users)):
            time.sleep(3)
            victim = random.choice(server.worker_pids())
            killed_at = time.monotonic()
            import os
            import signal

            os.kill(victim, signal.SIGKILL)
            replaced = server.wait_workers(3, exclude={victim}, timeout=30)
            replaced_after = time.monotonic() - killed_at
            time.sleep(3)
    finally:
        server.stop()
    records = scene.ledger.snapshot()
    failed = [r for r in records if r.status >= 500 or r.status == 0]
    result.require(replaced, "the master did not replace the killed worker within 30 s")
    # A sync worker serves one request at a time: at most that one may fail.
    result.require(
        len(failed) <= 1, f"{len(failed)} requests failed, more than the killed worker's one: {_show(failed)}"
    )
    result.notes.append(
        f"worker {victim} killed; replaced in {replaced_after:.1f} s; {len(failed)} request(s) without an answer"
    )
    scene.audit_result(result)


@scenario("SIGTERM drain")
def graceful_shutdown(result: Result, lab: Lab) -> None:
    """SIGTERM to the master while every worker is mid-request: all answered, exit 0."""
    scene = Scene(lab, "sigterm", GUNICORN_GRACEFUL_TIMEOUT="30")
    workers = 2
    server = Instance(scene.env, scene.log("gunicorn"), workers=workers).start()
    try:
        users = [LoadUser(scene.client(server.base_url)) for _ in range(workers)]
        result.require(_join_all(users) == len(users), "not every load user could sign up and log in")
        RECORDER.scrape(server)  # the last chance: SIGTERM below stops it
        # A login (PBKDF2, a quarter of a second or more) in every worker at once.
        in_flight: list[Record] = []
        barrier = threading.Barrier(workers + 1)

        def login(user: LoadUser) -> None:
            barrier.wait()
            in_flight.append(user.login())

        threads = [threading.Thread(target=login, args=(u,)) for u in users]
        for thread in threads:
            thread.start()
        barrier.wait()
        # Idle sync workers accept at once; a login's PBKDF2 takes a quarter of a second.
        time.sleep(0.1)
        term_at = time.monotonic()
        server.process.send_signal(__import__("signal").SIGTERM)
        late = scene.client(server.base_url)
        time.sleep(0.3)
        late_record = late.request("note_list", "GET", "/api/notes/", token=users[0].token)
        for thread in threads:
            thread.join(timeout=60)
        try:
            code = server.process.wait(timeout=45)
        except Exception:
            code = None
        exited_after = time.monotonic() - term_at
    finally:
        server.stop()
    result.require(code == 0, f"gunicorn exited with {code} after SIGTERM (want 0)")
    result.require(
        len(in_flight) == workers and all(r.ok for r in in_flight),
        f"in-flight requests not drained: {[r.status or r.error for r in in_flight]}",
    )
    result.require(late_record.status in (0, 200), f"request after SIGTERM answered {late_record.status}")
    drained = [r for r in in_flight if r.finished > term_at]
    result.require(bool(drained), "no login was still running at SIGTERM: nothing was drained")
    result.notes.append(
        f"{len(in_flight)} in-flight logins answered {[r.status for r in in_flight]} "
        f"({len(drained)} finished after SIGTERM); "
        f"new connection after SIGTERM: {late_record.error or late_record.status}; exit {code} in {exited_after:.1f} s"
    )
    # The refused late request is not a failure of the server: it asked after shutdown began.
    scene.ledger.records.remove(late_record)
    scene.audit_result(result)


# ---------------------------------------------------------------- 5. fuzz under load
FUZZ_SECONDS = 25
FUZZ_CASES_PER_OPERATION = 25  # per generation mode (positive, negative)


@scenario("fuzz under load")
def fuzz_under_load(result: Result, lab: Lab, seconds: float = FUZZ_SECONDS) -> None:
    """Schemathesis cases and hostile bodies at every endpoint while normal users write notes."""
    scene = Scene(lab, "fuzz")
    server = Instance(scene.env, scene.log("gunicorn"), workers=3).start()
    # The seed is printed with the result; FUZZ_SEED=<it> replays the same requests.
    seed = int(os.environ.get("FUZZ_SEED") or random.randrange(1_000_000))
    try:
        cases = fuzz.live_schema_cases(server.base_url, per_operation=FUZZ_CASES_PER_OPERATION, seed=seed)
        users = [LoadUser(scene.client(server.base_url)) for _ in range(10)]
        result.require(_join_all(users) == len(users), "not every load user could sign up and log in")
        load_users, fuzz_users = users[:6], users[6:]
        with Background(len(load_users), _note_loop(load_users), max_seconds=seconds + 30):

            def body(index: int, stop: threading.Event) -> None:
                user = fuzz_users[index]
                rng = random.Random(seed + index)
                while not stop.is_set():
                    fuzz.send_one(user, rng, cases)

            run_threads(len(fuzz_users), body, seconds=seconds)
    finally:
        server.stop()
    records = scene.ledger.snapshot()
    fuzzed = [r for r in records if r.phase == "fuzz"]
    _check_all_ok_or_4xx(result, records, f"fuzz (seed {seed})")
    # 414: a request line over gunicorn's limit (4094 bytes) is refused by gunicorn itself,
    # before DevLab sees it, as nginx would in front of it; no DevLab code answers it.
    not_json = [r for r in fuzzed if r.status not in (0, 204, REQUEST_LINE_TOO_LONG) and not r.is_json]
    result.require(not not_json, f"non-JSON answers under /api/: {_show(not_json)}")
    statuses = Counter(r.status for r in fuzzed)
    result.notes.append(
        f"seed {seed}: {len(fuzzed)} fuzzed requests ({len(cases)} schemathesis cases drawn), "
        f"statuses {dict(sorted(statuses.items()))}"
    )
    scene.audit_result(result)


# ---------------------------------------------------------------- scale-out: two replicas behind nginx
CLIENT_ADDRESS = "127.0.0.7"
FORGED_ADDRESS = "203.0.113.50"


def cluster_scenarios(lab: Lab, *, failover: bool = True) -> list[Result]:
    """Lockout, client IP, chain and (full run) failover through nginx over two instances."""
    scene = Scene(lab, "cluster")
    results = []
    with LocalCluster(scene.env, lab.logdir, workers=2) as cluster:
        results.append(_cluster_lockout(scene, cluster))
        results.append(_cluster_client_ip(scene, cluster))
        results.append(_cluster_chain(scene, cluster))
        if failover:
            results.append(_cluster_failover(scene, cluster))
    return results


def _sub_ledger(scene: Scene, name: str):
    from reliability.client import Ledger

    scene.ledger = Ledger()
    return scene.ledger


@scenario("cluster: lockout across replicas")
def _cluster_lockout(result: Result, scene: Scene, cluster: LocalCluster) -> None:
    _sub_ledger(scene, "lockout")
    user = LoadUser(scene.client(cluster.base_url, source=CLIENT_ADDRESS))
    result.require(user.join(), "the user could not sign up and log in through nginx")
    right = user.password
    user.password = "wrong-" + right
    failures = [user.login() for _ in range(5)]
    user.password = right
    locked = user.login()
    upstreams = {r.upstream for r in failures}
    result.require(all(r.status == 401 for r in failures), f"failed logins: {[r.status for r in failures]}")
    result.require(len(upstreams) == 2, f"the 5 failures did not reach both replicas: {upstreams}")
    result.require(locked.status == 429 and bool(locked.retry_after), f"6th login: {locked.status}, want 429")
    result.notes.append(f"5 failures over {sorted(upstreams)}; 6th (right password) {locked.status}")
    scene.audit_result(result)


@scenario("cluster: audit IP via X-Forwarded-For")
def _cluster_client_ip(result: Result, scene: Scene, cluster: LocalCluster) -> None:
    _sub_ledger(scene, "ip")
    honest = LoadUser(scene.client(cluster.base_url, source="127.0.0.9"))
    forger = LoadUser(scene.client(cluster.base_url, source="127.0.0.10"))
    result.require(honest.join() and forger.join(), "users could not sign up and log in")
    plain = [honest.create_note() for _ in range(2)]
    forged = [
        forger.client.request(
            "note_create",
            "POST",
            "/api/notes/",
            {"text": "forged"},
            token=forger.token,
            headers={"X-Forwarded-For": FORGED_ADDRESS},
        )
        for _ in range(2)
    ]
    with scene.db() as conn:
        ips = dict(
            conn.execute(
                "SELECT request_id, host(ip) FROM audit_auditentry WHERE request_id = ANY(%s)",
                [[r.request_id for r in plain + forged]],
            ).fetchall()
        )
    result.require(all(ips.get(r.request_id) == "127.0.0.9" for r in plain), f"recorded IPs {ips}; want 127.0.0.9")
    result.require(
        all(ips.get(r.request_id) == "127.0.0.10" for r in forged),
        f"forged X-Forwarded-For changed the recorded IP: {ips}",
    )
    result.notes.append(f"recorded: {sorted(set(ips.values()))}; forged {FORGED_ADDRESS} ignored")
    scene.audit_result(result)


@scenario("cluster: concurrent writes, one chain")
def _cluster_chain(result: Result, scene: Scene, cluster: LocalCluster) -> None:
    _sub_ledger(scene, "chain")
    users = [LoadUser(scene.client(cluster.base_url)) for _ in range(8)]
    result.require(_join_all(users) == len(users), "users could not sign up and log in")

    def body(index: int, stop: threading.Event) -> None:
        user = users[index % len(users)]
        while not stop.is_set():
            user.create_note()

    run_threads(16, body, seconds=8)
    records = scene.ledger.snapshot()
    _check_all_ok_or_4xx(result, records, "writes through nginx")
    upstreams = Counter(r.upstream for r in records if r.kind == "note_create")
    result.require(len(upstreams) == 2, f"writes did not go through both replicas: {dict(upstreams)}")
    result.notes.append(f"note writes per replica: {dict(upstreams)}")
    scene.audit_result(result)


KILL_GRACE_SECONDS = 1.0


@scenario("cluster: kill one replica")
def _cluster_failover(result: Result, scene: Scene, cluster: LocalCluster) -> None:
    _sub_ledger(scene, "failover")
    users = [LoadUser(scene.client(cluster.base_url)) for _ in range(8)]
    result.require(_join_all(users) == len(users), "users could not sign up and log in")
    victim = cluster.instances[0]
    with Background(len(users), _note_loop(users, pause_on_error=0.0)):
        time.sleep(3)
        killed_at = time.monotonic()
        victim.kill()
        time.sleep(5)
    records = scene.ledger.snapshot()
    # The replica dies within the grace period after killed_at; what it held
    # then (being served, or queued in its listen backlog) may lose its answer,
    # since nginx does not resend a request that reached the replica. Each
    # client thread has at most one request in flight.
    dying = killed_at + KILL_GRACE_SECONDS
    cut = [r for r in records if r.started <= dying and r.finished >= killed_at]
    after = [r for r in records if r.started > dying]
    failed_cut = [r for r in cut if r.status >= 500 or r.status == 0]
    failed_later = [r for r in records if (r.status >= 500 or r.status == 0) and r not in failed_cut]
    result.require(not failed_later, f"{len(failed_later)} failures beyond the cut requests: {_show(failed_later)}")
    result.require(len(failed_cut) <= len(users), f"{len(failed_cut)} cut requests, more than the {len(users)} clients")
    result.require(len(after) > 0 and all(r.ok or r.status == 404 for r in after), "nginx did not keep serving")
    survivors = {r.upstream for r in after}
    result.notes.append(
        f"replica {victim.base_url} killed; {len(failed_cut)} in-flight request(s) lost their answer "
        f"({[r.status or r.error for r in failed_cut]}); {len(after)} later requests served by {sorted(survivors)}"
    )
    scene.audit_result(result)
    with contextlib.suppress(Exception):
        victim.stop()


# ---------------------------------------------------------------- backups: the restore drill
@scenario("backup + restore drill")
def backup_restore(result: Result, lab: Lab) -> None:
    """pg_dump under write load, restore into a new database, verify_audit on the copy."""
    scene = Scene(lab, "backup")
    server = Instance(scene.env, scene.log("gunicorn"), workers=3).start()
    dump = lab.logdir / "backup.dump"
    try:
        users = [LoadUser(scene.client(server.base_url)) for _ in range(6)]
        result.require(_join_all(users) == len(users), "not every load user could sign up and log in")
        with Background(len(users), _note_loop(users)):
            time.sleep(2)
            # pg_dump takes one snapshot: what it saw is a consistent prefix of the chain.
            lab.cluster.dump(scene.database, dump)
            time.sleep(1)
    finally:
        server.stop()
    scene.audit_result(result)
    restored = f"{scene.database}_restored"
    lab.cluster.restore(dump, restored)
    ok, summary = checks.verify_chain({**scene.env, "DATABASE_URL": lab.cluster.admin_url(restored)})
    result.require(ok, f"verify_audit on the restored copy: {summary}")
    with lab.cluster.connect(restored) as conn:
        rows = checks.count_rows(conn, "audit_auditentry")
        size = conn.execute("SELECT pg_total_relation_size('audit_auditentry')").fetchone()[0]
        problems = checks.check_consistency(conn)
        try:
            conn.execute("UPDATE audit_auditentry SET detail = 'x' WHERE id = 1")
            result.problems.append("the restored audit table accepted an UPDATE: triggers missing")
        except psycopg.Error:
            pass
    result.problems.extend(f"restored copy: {p}" for p in problems)
    result.notes.append(
        f"dump {dump.stat().st_size // 1024} KiB; restored copy: {summary.rstrip('.')}; "
        f"append-only trigger present; {size // max(rows, 1)} bytes per audit row with indexes"
    )


# ---------------------------------------------------------------- the shared cache (Redis) down
@scenario("cache (Redis) down")
def cache_down(result: Result, lab: Lab) -> None:
    """Redis (lockout and throttle counters) dies under load and comes back."""
    redis = RedisServer()
    redis.start()
    try:
        scene = Scene(lab, "cache-down", CACHE_URL=redis.url)
        server = Instance(scene.env, scene.log("gunicorn"), workers=3).start()
        try:
            users = [LoadUser(scene.client(server.base_url)) for _ in range(6)]
            result.require(_join_all(users) == len(users), "not every load user could sign up and log in")
            with Background(len(users), _note_loop(users)):
                time.sleep(2)
                down_at = time.monotonic()
                redis.kill()
                time.sleep(3)
                redis.start()
                up_at = time.monotonic()
                time.sleep(3)
        finally:
            server.stop()
    finally:
        redis.kill()
    records = scene.ledger.snapshot()
    during = [r for r in records if r.started < up_at and r.finished >= down_at]
    after = [r for r in records if r.started >= up_at]
    unavailable = _check_unavailable(result, during, "while Redis was down")
    _check_all_ok_or_4xx(result, after, "after Redis came back")
    result.notes.append(f"Redis down {up_at - down_at:.1f} s: {unavailable} answered 503; {len(after)} requests after")
    scene.audit_result(result)
