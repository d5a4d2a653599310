#!/usr/bin/env python3
"""Overhead of heapdrift against running without it, in one run.

Runs each workload without a profiler, with heapdrift at the default rate,
in exact mode (every allocation recorded), under heaptrack where it is
installed, and under a no-op interposer (the floor any LD_PRELOAD tool pays), alternating the configurations so that machine noise spreads
evenly, and prints the median of each as a ratio to the baseline median.

Churn workloads are timed by wall clock. The session-leak example runs for
a fixed time, so its cost is the CPU time it used (user + system).

usage: bench/overhead.py [BUILD_DIR] [--runs N] [--quick]
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


def run(argv, env):
    """Runs argv; returns (wall seconds, cpu seconds, peak RSS KiB)."""
    start = time.monotonic()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"overhead: {' '.join(argv)} failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="short workloads, 3 runs")
    args = parser.parse_args()
    build = Path(args.build).resolve()
    agent = build / "agent" / "libheapdrift.so"
    churn = str(build / "bench" / "churn")
    example = str(build / "examples" / "session_leak")
    runs = 3 if args.quick else args.runs
    scale = 0.25 if args.quick else 1.0
    out = Path(tempfile.mkdtemp(prefix="heapdrift-bench-"))

    def heapdrift(extra=None):
        env = dict(os.environ, LD_PRELOAD=str(agent), HEAPDRIFT_OUTPUT=str(out / "b.rec"))
        env.update(extra or {})
        return lambda argv: (argv, env)

    noop = build / "bench" / "libnoop_interposer.so"
    configs = {
        "none": lambda argv: (argv, dict(os.environ)),
        "no-op interposer": lambda argv: (argv, dict(os.environ, LD_PRELOAD=str(noop))),
        "heapdrift": heapdrift(),
        "heapdrift exact": heapdrift({"HEAPDRIFT_SAMPLE_BYTES": "1"}),
    }
    if shutil.which("heaptrack"):
        configs["heaptrack"] = lambda argv: (
            ["heaptrack", "-o", str(out / "heaptrack")] + argv, dict(os.environ))

    big = f"{60 * scale:g}"
    workloads = [
        # name, argv, measure (wall/cpu), configs
        ("churn, 1 thread", [churn, "1", f"{20 * scale:g}"], "wall", ["none", "heapdrift"]),
        ("churn, 2 threads", [churn, "2", f"{10 * scale:g}"], "wall", ["none", "heapdrift"]),
        ("churn bare, 1 thread", [churn, "1", big, "bare"], "wall",
         ["none", "no-op interposer", "heapdrift"]),
        ("churn bare, 2 threads", [churn, "2", f"{30 * scale:g}", "bare"], "wall",
         ["none", "no-op interposer", "heapdrift"]),
        ("churn, 1 thread, short", [churn, "1", f"{1 * scale:g}"], "wall",
         ["none", "heapdrift", "heapdrift exact", "heaptrack"]),
        ("session_leak, 10 s", [example, "--duration-sec", f"{10 * scale:g}"], "cpu",
         ["none", "heapdrift", "heapdrift exact", "heaptrack"]),
    ]
    print(f"{'workload':<24} {'profiler':<16} {'median':>9} {'ratio':>7} {'peak RSS':>10} {'ratio':>7}")
    for name, argv, measure, wanted in workloads:
        names = [c for c in wanted if c in configs]
        samples = {c: [] for c in names}
        for _ in range(runs):
            for config in names:
                wall, cpu, rss = run(*configs[config](argv))
                samples[config].append((wall if measure == "wall" else cpu, rss))
        base_time = statistics.median(t for t, _ in samples["none"])
        base_rss = statistics.median(r for _, r in samples["none"])
        for config in names:
            median = statistics.median(t for t, _ in samples[config])
            rss = statistics.median(r for _, r in samples[config])
            print(f"{name:<24} {config:<16} {median:8.3f}s {median / base_time:6.2f}x "
                  f"{rss / 1024:8.1f}MB {rss / base_rss:6.2f}x")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
