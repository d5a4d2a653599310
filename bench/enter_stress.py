#!/usr/bin/env python3
"""Entering processes started without the agent, many times: never a hang.

Each run starts a fresh tests/alloc_hammer (threads in malloc at four sizes,
one creating and joining threads, one in dlopen/dlclose: every lock loading a
library needs, held somewhere at any moment), waits a random 50-700 ms, and
runs `heapdrift attach PID --duration 200ms`. A run fails if attach fails or
outlives 30 s, or the host does not end normally within 20 s of its time.
Printed: successes, failures, and the load time, hold time and tries that
`attach` reports (median, 95th percentile, max). The naive injection (no
safe-point choice) hung in 35 of 60 runs (attach-dossier.md §0).

usage: bench/enter_stress.py [BUILD_DIR] [--runs N]
"""
import argparse
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    build = Path(args.build).resolve()
    cli = build / "cli" / "heapdrift"
    hammer = [str(build / "tests" / "alloc_hammer"), "2", str(build / "tests" / "liballoc_plugin.so")]
    rng = random.Random(20261130)
    loads, holds, tries, failures = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="heapdrift-enter-") as directory:
        for run in range(args.runs):
            host = subprocess.Popen(hammer, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(rng.uniform(0.05, 0.7))
            try:
                attach = subprocess.run([str(cli), "attach", str(host.pid), "--duration", "200ms",
                                         "--interval-ms", "50", "-o", f"{directory}/run.rec"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True, timeout=30)
                out, _ = host.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                failures.append(f"run {run}: hang")
                host.kill()
                host.wait()
                continue
            found = re.search(r"in ([0-9.]+) ms \(loaded by thread \d+, held ([0-9.]+) ms, "
                              r"after (\d+) tr", attach.stderr)
            if attach.returncode != 0 or found is None or host.returncode != 0 or \
                    out != "alloc_hammer: done\n":
                failures.append(f"run {run}: attach {attach.returncode} host {host.returncode}: "
                                f"{attach.stderr.strip()[:200]}")
                continue
            loads.append(float(found.group(1)))
            holds.append(float(found.group(2)))
            tries.append(int(found.group(3)))
    print(f"entered {args.runs} alloc_hammer processes: {len(loads)} ok, {len(failures)} failed")
    for failure in failures[:10]:
        print("  " + failure)
    for name, values in (("attach -> agent loaded (ms)", loads), ("thread held (ms)", holds),
                         ("threads stopped (tries)", tries)):
        if values:
            print(f"  {name:<30} median {statistics.median(values):7.2f}  "
                  f"p95 {percentile(values, 0.95):7.2f}  max {max(values):7.2f}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
