#!/usr/bin/env python3
"""What following exec costs: a shell script that runs many short programs.

With HEAPDRIFT_FOLLOW=exec (the default) every program a host executes
loads the agent, reserves its tables, starts a collector and writes a
recording of its own. This runs one script (N iterations of `true`, `sed`
on a line, and `cat` of a small file) with no agent, with the agent on the
shell only (HEAPDRIFT_FOLLOW=none) and following every program, alternating
the three so machine noise spreads evenly, and prints each median wall time,
its ratio to the run without the agent, and the cost per followed program.

usage: bench/exec_overhead.py [BUILD_DIR] [--programs N] [--runs N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--programs", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    agent = Path(args.build).resolve() / "agent" / "libheapdrift.so"
    if not agent.exists():
        sys.exit(f"exec_overhead: no agent at {agent} (build first)")
    iterations = args.programs // 3
    script = ("for i in $(seq %d); do true; echo line $i | sed s/line/row/ >/dev/null; "
              "cat /etc/hostname >/dev/null; done\n" % iterations)
    configurations = {"no agent": None, "shell only (none)": "none", "every program (exec)": "exec"}
    times = {name: [] for name in configurations}
    with tempfile.TemporaryDirectory() as directory:
        for run in range(args.runs):
            for name, follow in configurations.items():
                env = dict(os.environ)
                env.pop("HEAPDRIFT_ROOT_PID", None)
                if follow is not None:
                    run_dir = Path(directory) / f"{run}-{follow}"
                    run_dir.mkdir()
                    env.update(LD_PRELOAD=str(agent), HEAPDRIFT_FOLLOW=follow,
                               HEAPDRIFT_OUTPUT=str(run_dir / "script.rec"))
                start = time.monotonic()
                subprocess.run(["bash", "-c", script], env=env, check=True)
                times[name].append(time.monotonic() - start)
    baseline = statistics.median(times["no agent"])
    programs = iterations * 2  # `true` is a bash builtin: sed and cat are executed
    print(f"{iterations} iterations, {programs} programs executed, median of {args.runs} runs")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"  {name:<22} {median:7.3f} s  x{median / baseline:5.2f}")
    extra = statistics.median(times["every program (exec)"]) - statistics.median(
        times["shell only (none)"])
    print(f"  cost per followed program: {1000 * extra / programs:.2f} ms")


if __name__ == "__main__":
    main()
