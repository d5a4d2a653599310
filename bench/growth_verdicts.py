#!/usr/bin/env python3
"""How often `heapdrift report` names the real leak, and only it.

Runs the bundled session-leak server under `heapdrift run` for many seeds
and several lengths, with its leak and --fixed, and reads `report --json`.
Besides the leak (SessionStore::CreateSession) the server has an LRU page
cache of 48 MiB that fills in ~3 s and then turns its entries over every
~7 s while its size stays flat, and per-request buffers (churn): any of them
reported as growing is a decoy. Prints, per length: the leak found at rank 1
(count), decoys reported (count, in how many runs), the rate error against
the rate the server itself counts (median |error|, worst), and how often
the report's 90 % interval holds the true rate.

usage: bench/growth_verdicts.py [BUILD_DIR] [--seeds N] [--lengths 10,20,60]
                                [--jobs N] [--keep DIR]
With --keep, recordings already in DIR are analysed again, not run again.
"""
import argparse
import concurrent.futures
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

LEAK_SITE = "SessionStore::CreateSession"


def run_once(build, directory, seed, seconds, leaking):
    name = f"{'leak' if leaking else 'fixed'}-{seconds}s-{seed}"
    recording = Path(directory) / f"{name}.rec"
    said = Path(directory) / f"{name}.err"  # what the server said: its true leak rate
    command = [str(build / "cli" / "heapdrift"), "run", "-o", str(recording), "--",
               str(build / "examples" / "session_leak"), "--duration-sec", str(seconds),
               "--seed", str(seed)]
    if not leaking:
        command.append("--fixed")
    env = dict(os.environ)
    env.pop("HEAPDRIFT_ROOT_PID", None)
    if not (recording.exists() and said.exists()):
        run = subprocess.run(command, env=env, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"growth_verdicts: {name}: run failed: {run.stderr.strip()}")
        said.write_text(run.stderr)
    true_rate = float(re.search(r"true leak rate (\d+)", said.read_text()).group(1))
    report = subprocess.run([str(build / "cli" / "heapdrift"), "report", str(recording),
                             "--json"], capture_output=True, text=True)
    if report.returncode != 0:
        sys.exit(f"growth_verdicts: {name}: report failed: {report.stderr.strip()}")
    return {"seed": seed, "seconds": seconds, "leaking": leaking, "true_rate": true_rate,
            "suspects": json.loads(report.stdout)["suspects"]}


def summarize(results, seconds, seeds):
    leaking = [r for r in results if r["seconds"] == seconds and r["leaking"]]
    fixed = [r for r in results if r["seconds"] == seconds and not r["leaking"]]
    first = 0
    errors = []
    covered = 0
    decoys = 0
    runs_with_decoys = 0
    for result in leaking + fixed:
        bad = [s for s in result["suspects"] if LEAK_SITE not in s["function"]]
        if not result["leaking"]:
            bad = result["suspects"]  # the fixed server has nothing to find
        decoys += len(bad)
        runs_with_decoys += bool(bad)
    for result in leaking:
        suspects = result["suspects"]
        if not suspects or LEAK_SITE not in suspects[0]["function"]:
            continue
        first += 1
        estimate = suspects[0]["growth_bytes_per_sec"]
        errors.append((estimate - result["true_rate"]) / result["true_rate"])
        low, high = suspects[0]["growth_interval"]
        covered += low <= result["true_rate"] <= high
    worst = max(errors, key=abs) if errors else float("nan")
    median = statistics.median(abs(e) for e in errors) if errors else float("nan")
    return (f"| {seconds:>3} s | {first:>2} of {len(leaking):<2} | {decoys:>2} in {runs_with_decoys:>2} "
            f"of {len(leaking) + len(fixed):<2} runs | {100 * median:5.1f} % | "
            f"{100 * worst:+6.1f} % | {covered:>2} of {len(errors):<2} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--lengths", default="10,20,60")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", help="keep the recordings in this directory")
    args = parser.parse_args()
    build = Path(args.build).resolve()
    lengths = [int(x) for x in args.lengths.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or scratch
        Path(directory).mkdir(parents=True, exist_ok=True)
        jobs = [(seed, seconds, leaking) for seconds in lengths
                for seed in range(1, args.seeds + 1) for leaking in (True, False)]
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda job: run_once(build, directory, *job), jobs))
    print(f"session_leak, {args.seeds} seeds per length, with its leak and --fixed")
    print("| length | leak at rank 1 | decoys reported | rate error, median | worst "
          "| 90 % interval holds the truth |")
    print("|---|---|---|---|---|---|")
    for seconds in lengths:
        print(summarize(results, seconds, args.seeds))


if __name__ == "__main__":
    main()
