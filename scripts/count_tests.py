#!/usr/bin/env python3
"""Sums test cases over meson test logs and prints "N passed, N failed".

Arguments are meson log directories or JUnit files. Test cases come from
meson's JUnit log (gtest cases appear one by one); a test program that failed
without a failing case in the log (it crashed or timed out) counts as one
failure more. A JUnit file (heapdrift check's: one case per process) counts
its cases; a missing one counts as a failure. Exit status 1 when anything
failed."""
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

passed = failed = 0


def count_cases(root):
    """(passed, failed) test cases under a JUnit root."""
    good = bad = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            bad += 1
        elif case.find("skipped") is None and case.get("status") != "notrun":
            good += 1  # a disabled test (gtest's status="notrun") did not pass
    return good, bad


for log_dir in map(Path, sys.argv[1:]):
    if log_dir.suffix == ".xml":  # a JUnit file of its own (heapdrift check's)
        if not log_dir.exists():
            failed += 1
            continue
        good, bad = count_cases(ET.parse(log_dir).getroot())
        passed, failed = passed + good, failed + bad
        continue
    failing_programs = set()
    for line in (log_dir / "testlog.json").read_text().splitlines():
        entry = json.loads(line)
        if entry["result"] not in ("OK", "SKIP", "EXPECTEDFAIL"):
            failing_programs.add(entry["name"].split(" / ")[-1])
    explained = set()
    for suite in ET.parse(log_dir / "testlog.junit.xml").getroot().iter("testsuite"):
        program = suite.get("name", "").split(" / ")[-1].split(".")[0]
        good, bad = count_cases(suite)
        passed, failed = passed + good, failed + bad
        if bad:
            explained.add(program)
    failed += sum(1 for name in failing_programs if name not in explained)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
