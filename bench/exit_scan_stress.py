#!/usr/bin/env python3
"""The exit-time leak scan while the program's threads still allocate.

Each run starts tests/running_allocator (THREADS threads building and freeing
lists of 7,777-byte blocks, exit() called from main while they run) under
`heapdrift check`, both ways: threads that take signals (stopped for the
scan, world_stop.h) and threads that block every signal (read running).
Printed, per way: runs whose host did not end normally (a crash is the
agent's fault: the program alone never fails), runs that called some of the
threads' blocks leaked, and the leaked blocks' range. Before the stop, 16
threads crashed 3-6 runs in 20 and every run reported leaks.

usage: bench/exit_scan_stress.py [BUILD_DIR] [--runs N] [--threads N]
"""
import argparse
import json
import subprocess
import tempfile
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    build = Path(args.build).resolve()
    cli = build / "cli" / "heapdrift"
    host = build / "tests" / "running_allocator"
    with tempfile.TemporaryDirectory(prefix="heapdrift-exit-scan-") as directory:
        report = Path(directory) / "check.json"
        for way in ("stopped", "blocked"):
            crashed, leaky, leaked = 0, 0, []
            for _ in range(args.runs):
                command = [str(cli), "check", "--json", str(report), "--", str(host),
                           str(args.threads), "50"] + (["blocked"] if way == "blocked" else [])
                run = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, timeout=120)
                if run.returncode not in (0, 23):
                    crashed += 1
                    continue
                process = json.loads(report.read_text())["processes"][0]
                blocks = process["leaked_objects"] + process["indirect_objects"]
                leaky += blocks > 0
                leaked.append(blocks)
            print(f"{way:8} {args.runs} runs, {args.threads} threads: {crashed} crashed, "
                  f"{leaky} reported leaks ({min(leaked, default=0)}-{max(leaked, default=0)} blocks)")


if __name__ == "__main__":
    main()
