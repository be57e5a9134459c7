"""Fail when a PostgreSQL-only test was skipped on the PostgreSQL run (junit XML)."""

import sys
import xml.etree.ElementTree as ET

tree = ET.parse(sys.argv[1])  # noqa: S314 - our own pytest output
skipped = [
    f"{case.get('classname')}::{case.get('name')}"
    for case in tree.iter("testcase")
    for skip in case.iter("skipped")
    if "postgres_only" in (skip.get("message") or "")
]
if skipped:
    print("PostgreSQL-only tests were skipped on PostgreSQL:", *skipped, sep="\n  ")
    sys.exit(1)
print("no PostgreSQL-only test was skipped")
