#!/usr/bin/env python3
"""Sums test cases over meson test logs and prints "N passed, N failed".

Test cases come from meson's JUnit log (gtest cases appear one by one); a
test program that failed without a failing case in the log (it crashed or
timed out) counts as one failure more. Exit status 1 when anything failed."""
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

passed = failed = 0
for log_dir in map(Path, sys.argv[1:]):
    failing_programs = set()
    for line in (log_dir / "testlog.json").read_text().splitlines():
        entry = json.loads(line)
        if entry["result"] not in ("OK", "SKIP", "EXPECTEDFAIL"):
            failing_programs.add(entry["name"].split(" / ")[-1])
    explained = set()
    for suite in ET.parse(log_dir / "testlog.junit.xml").getroot().iter("testsuite"):
        program = suite.get("name", "").split(" / ")[-1].split(".")[0]
        for case in suite.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                explained.add(program)
            elif case.find("skipped") is None:
                passed += 1
    failed += sum(1 for name in failing_programs if name not in explained)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
