"""The hash locks (requirements*.lock, `make lock`) agree with the pins and are what gets installed."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAIRS = [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")]
PAIRS.append(("requirements-ci.txt", "requirements-ci.lock"))
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file, following ``-r`` includes."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("-r "):
            found.update(pins(path.parent / line[3:].strip()))
        elif match := _PIN.match(line):
            found[_canonical(match[1])] = match[2]
    return found


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """Each package of a lock: its version and how many hashes it carries."""
    entries: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text().splitlines():
        if match := _PIN.match(line):
            current = _canonical(match[1])
            entries[current] = (match[2], 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = entries[current]
            entries[current] = (version, hashes + 1)
    return entries


@pytest.mark.parametrize(("source", "lock"), PAIRS)
def test_every_pin_is_locked_at_its_version_run_make_lock_after_changing_a_pin(source, lock):
    wanted = pins(ROOT / source)
    have = locked(ROOT / lock)
    stale = {name: (version, have.get(name, ("missing", 0))[0]) for name, version in wanted.items()}
    assert {name: pair for name, pair in stale.items() if pair[0] != pair[1]} == {}


@pytest.mark.parametrize("lock", [lock for _source, lock in PAIRS])
def test_every_locked_package_carries_a_hash(lock):
    assert [name for name, (_version, hashes) in locked(ROOT / lock).items() if hashes == 0] == []


def test_the_locks_agree_with_each_other():
    runtime, dev, ci = (locked(ROOT / lock) for _source, lock in PAIRS)
    assert {name: entry for name, entry in runtime.items() if dev.get(name, entry)[0] != entry[0]} == {}
    assert {name: entry for name, entry in dev.items() if ci.get(name, entry)[0] != entry[0]} == {}
    assert set(runtime) <= set(dev) <= set(ci)


def test_the_image_installs_the_runtime_lock_with_hashes_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY requirements.lock ." in dockerfile
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "requirements.txt" not in dockerfile


def test_make_installs_from_the_locks_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes" in makefile
    assert "-r requirements-dev.lock" in makefile
    assert "-r requirements-ci.lock" in makefile
