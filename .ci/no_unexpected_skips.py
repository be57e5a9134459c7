"""Fail when the PostgreSQL run skipped a test CI can run (junit XML).

Two kinds of skip mean a check silently did not happen: a PostgreSQL-only
test (``postgres_only``) on the PostgreSQL run, and a test whose tool CI
installs first (nginx: ``... is not installed``).
"""

import sys
import xml.etree.ElementTree as ET

UNEXPECTED = ("postgres_only", "is not installed")

tree = ET.parse(sys.argv[1])  # noqa: S314 - our own pytest output
skipped = [
    f"{case.get('classname')}::{case.get('name')}: {skip.get('message')}"
    for case in tree.iter("testcase")
    for skip in case.iter("skipped")
    if any(reason in (skip.get("message") or "") for reason in UNEXPECTED)
]
if skipped:
    print("tests CI can run were skipped on PostgreSQL:", *skipped, sep="\n  ")
    sys.exit(1)
print("no PostgreSQL-only test and no test of an installed tool was skipped")
