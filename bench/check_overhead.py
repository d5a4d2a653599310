#!/usr/bin/env python3
"""Slowdown of `heapdrift check` (exact mode + exit leak scan) in one run.

Runs each workload without any tool, under `heapdrift check`, under
`valgrind --leak-check=full` and under heaptrack (each where installed),
alternating the configurations so machine noise spreads evenly, and prints
the median wall time of each as a ratio to the median without a tool.

Workloads: the churn benchmark (malloc/free heavy, 2 threads), and this
project's own unit test suite (the two GoogleTest binaries run in turn).

usage: bench/check_overhead.py [BUILD_DIR] [--runs N]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(commands, env):
    """Runs each argv in turn; returns the total wall seconds."""
    start = time.monotonic()
    for argv in commands:
        result = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        if result.returncode != 0:
            sys.exit(f"check_overhead: {' '.join(argv)} exited {result.returncode}:\n"
                     f"{result.stderr.decode(errors='replace')[-2000:]}")
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    build = Path(args.build).resolve()
    cli = str(build / "cli" / "heapdrift")
    out = Path(tempfile.mkdtemp(prefix="heapdrift-check-bench-"))
    workloads = {
        "churn (2 threads x 1M malloc/free)": [[str(build / "bench" / "churn"), "2", "1"]],
        "own unit test suite": [[str(build / "tests" / "analysis_unit_tests")],
                                [str(build / "tests" / "agent_unit_tests")]],
    }
    configs = {
        "none": lambda argv: argv,
        "heapdrift check": lambda argv: [cli, "check", "--"] + argv,
    }
    if shutil.which("valgrind"):
        configs["valgrind --leak-check=full"] = lambda argv: [
            # --fair-sched: without it, the unit suite's spinning threads
            # livelock under Valgrind's one-thread-at-a-time scheduler.
            "valgrind", "--leak-check=full", "--fair-sched=yes", "--quiet"] + argv
    if shutil.which("heaptrack"):
        configs["heaptrack"] = lambda argv: [
            "heaptrack", "-o", str(out / "ht")] + argv
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    print(f"{'workload':<38} {'configuration':<28} {'median s':>9} {'ratio':>7}")
    for name, commands in workloads.items():
        times = {config: [] for config in configs}
        for _ in range(args.runs):
            for config, wrap in configs.items():
                times[config].append(timed([wrap(argv) for argv in commands], env))
        base = statistics.median(times["none"])
        for config in configs:
            median = statistics.median(times[config])
            print(f"{name:<38} {config:<28} {median:>9.3f} {median / base:>6.1f}x")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
