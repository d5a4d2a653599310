#!/usr/bin/env python3
"""What heapdrift costs a process that runs with it always on, in one run.

Every figure is a ratio against the same workload without the agent,
measured in this run: configurations alternate within each round (so the
machine's noise falls on all of them alike) and the median of the rounds'
paired ratios is printed, with the goal it is held to.

  1. The paced server (examples/session_leak, 2 workers, 6,000 requests/s,
     leaking): CPU seconds and peak RSS under `heapdrift run` and preloaded
     by hand, at the default settings; and the agent's own share of the
     process's cycles from `perf record`, a ratio inside each run.
  2. Churn (bench/churn.cc), 1 and 2 threads: wall time under `heapdrift
     run`, preloaded by hand, and dormant (HEAPDRIFT_DORMANT: the
     interposition only, nothing sampled); the agent's share preloaded and
     dormant.
  3. One sample all in, from build/bench/hook_path_benchmark at a 16-frame
     stack, and its parts.
  4. The agent's page faults and resident memory at start and over a long
     run of the server (60 s by default), split into the host's threads and
     the agent's own (the collector, named "heapdrift").

usage: bench/always_on.py [BUILD_DIR] [--rounds N] [--soak-sec S] [--quick]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS = {"server cpu": 1.05, "server rss": 1.10, "churn": 1.03, "dormant": 1.02,
         "sample ns": 2000.0}


def start(argv, env):
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def finish(process, argv, started):
    """Waits for `process`; returns (wall s, cpu s, peak RSS KiB)."""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"always_on: {' '.join(map(str, argv))} failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def run(argv, env):
    started = time.monotonic()
    return finish(start(argv, env), argv, started)


def verdict(ratio, goal):
    return "ok" if ratio <= goal else "OVER"


def paired(rounds, configs, measure, side_by_side=False):
    """Runs the configurations `rounds` times, one after the other within a
    round, or all at once (side_by_side: for paced workloads, which leave
    the cores mostly idle, so that each round's copies share the machine's
    moment, noise included); returns, per configuration, the list of
    measure(result) per round."""
    results = {name: [] for name in configs}
    for _ in range(rounds):
        if side_by_side:
            started = time.monotonic()
            running = {name: start(argv, env) for name, (argv, env) in configs.items()}
            for name, process in running.items():
                results[name].append(measure(finish(process, configs[name][0], started)))
            continue
        for name, (argv, env) in configs.items():
            results[name].append(measure(run(argv, env)))
    return results


def print_ratios(title, results, baseline, goal, unit, scale=1.0):
    base = results[baseline]
    print(f"{title}")
    print(f"  {'configuration':<22} {'median':>10} {'ratio':>7} {'(min-max of rounds)':>21}  goal")
    for name, values in results.items():
        median = statistics.median(values) * scale
        if name == baseline:
            print(f"  {name:<22} {median:9.3f}{unit} {1:6.2f}x")
            continue
        ratios = [v / b for v, b in zip(values, base)]
        ratio = statistics.median(ratios)
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        target = goal(name) if callable(goal) else goal
        print(f"  {name:<22} {median:9.3f}{unit} {ratio:6.2f}x {spread:>21}  "
              f"<= {target:.2f}x {verdict(ratio, target)}")


def agent_share(argv, env, runs):
    """The agent's own share of the process's cycles under `perf record`, per
    run: libheapdrift.so in any thread, plus everything the agent's own
    threads (named "heapdrift...": the collector) spend anywhere (libc, the
    kernel), over all samples of the process. A ratio taken inside one run, so
    the machine's noise, which moves a paced server's CPU time by +-20 %
    between runs, cancels out of it."""
    perf = shutil.which("perf") or "/usr/bin/perf"
    if not os.path.exists(perf):
        return []
    shares = []
    with tempfile.TemporaryDirectory() as scratch:
        data = str(Path(scratch) / "perf.data")
        for _ in range(runs):
            subprocess.run([perf, "record", "-q", "-F", "15000", "-o", data, "--"] + argv,
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            report = subprocess.run([perf, "report", "-i", data, "--sort", "comm,dso",
                                     "--stdio"], capture_output=True, text=True).stdout
            share = 0.0
            for line in report.splitlines():
                fields = line.split()
                if line.startswith("#") or len(fields) < 3:
                    continue
                if fields[1].startswith("heapdrift") or "libheapdrift.so" in fields[2]:
                    share += float(fields[0].rstrip("%")) / 100
            shares.append(share)
    return shares


def print_share(what, shares):
    if not shares:
        return
    share = statistics.median(shares)
    print(f"   {what}the agent's own cycles (perf record, median of {len(shares)} runs): "
          f"{100 * share:.1f} % of the process's, i.e. {1 / (1 - share):.3f}x "
          f"(range {100 * min(shares):.1f}-{100 * max(shares):.1f} %)")


def sample_cost(build):
    """Runs the hook-path benchmark's per-sample parts; prints the breakdown."""
    binary = build / "bench" / "hook_path_benchmark"
    if not binary.exists():
        print("3. One sample: build/bench/hook_path_benchmark not built (libbenchmark-dev)")
        return
    wanted = ("BM_SampleAllIn/depth:16$|BM_CaptureAtDepth/depth:16$|BM_InternDepth16$|"
              "BM_LiveTableInsertErase$|BM_MallocFree_NoAgent$")
    output = subprocess.run([str(binary), f"--benchmark_filter={wanted}",
                             "--benchmark_format=json", "--benchmark_repetitions=5",
                             "--benchmark_report_aggregates_only=true"],
                            capture_output=True, text=True, check=True).stdout
    medians = {}
    for entry in json.loads(output)["benchmarks"]:
        if entry.get("aggregate_name") == "median":
            medians[entry["run_name"]] = entry
    def ns(name, field="real_time"):
        entry = medians.get(name)
        return float(entry[field]) if entry else float("nan")
    all_in = ns("BM_SampleAllIn/depth:16", "all_in_ns")
    host = ns("BM_SampleAllIn/depth:16", "host_ns")
    capture = ns("BM_CaptureAtDepth/depth:16")
    intern = ns("BM_InternDepth16")
    live = ns("BM_LiveTableInsertErase")
    allocator = ns("BM_MallocFree_NoAgent")
    rest = host - capture - intern - live - allocator
    print("3. One sample all in, 16-frame stack, warm caches (median of 5; "
          "capture when cold: BM_CaptureAndInternAtDepth/16/cold)")
    print(f"  all in (process CPU per sample)      {all_in:8.0f} ns   goal <= "
          f"{GOALS['sample ns']:.0f} ns {verdict(all_in, GOALS['sample ns'])}")
    print(f"    capture (unwind 16 frames)         {capture:8.0f} ns")
    print(f"    intern (hash, probe, compare)      {intern:8.0f} ns")
    print(f"    live table insert + erase          {live:8.0f} ns")
    print(f"    malloc + free themselves           {allocator:8.0f} ns")
    print(f"    draw, ring pushes, free's event    {rest:8.0f} ns")
    print(f"    the collector's share              {all_in - host:8.0f} ns")


def proc_counts(pid):
    """(host threads' minor faults, the agent's threads' minor faults,
    RSS KiB) of a running process."""
    host = agent = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        faults = int(fields[7])  # minflt: field 10, the 8th after the name
        if name.startswith("heapdrift"):
            agent += faults
        else:
            host += faults
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return host, agent, rss


def soak(example, agent_env, seconds):
    """Runs the server with and without the agent side by side (it is paced:
    two copies fit on two cores) and reads their faults and RSS at 1 s and at
    the end."""
    argv = [example, "--duration-sec", str(seconds + 2), "--rate", "6000"]
    plain = subprocess.Popen(argv, env=dict(os.environ), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    profiled = subprocess.Popen(argv, env=agent_env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    started = time.monotonic()
    readings = []
    try:
        for moment in (1.0, float(seconds)):
            while time.monotonic() - started < moment:
                time.sleep(0.05)
            readings.append((proc_counts(plain.pid), proc_counts(profiled.pid)))
    finally:
        plain.wait()
        profiled.wait()
    print(f"4. Page faults and RSS, the server with and without the agent side by side")
    print(f"  {'at':>6} {'faults: host threads':>22} {'agent':>7} {'(none)':>8} "
          f"{'RSS':>10} {'(none)':>10} {'agent adds':>11}")
    for moment, (none, agent) in zip((1, seconds), readings):
        print(f"  {moment:>5}s {agent[0]:>22} {agent[1]:>7} {none[0]:>8} "
              f"{agent[2] / 1024:8.1f}MB {none[2] / 1024:8.1f}MB "
              f"{(agent[2] - none[2]) / 1024:9.1f}MB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--soak-sec", type=int, default=60)
    parser.add_argument("--quick", action="store_true",
                        help="3 rounds, shorter workloads, a 10 s soak")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    build = Path(args.build).resolve()
    agent = build / "agent" / "libheapdrift.so"
    heapdrift = str(build / "cli" / "heapdrift")
    churn = str(build / "bench" / "churn")
    example = str(build / "examples" / "session_leak")
    rounds = 3 if args.quick else args.rounds
    scale = 0.25 if args.quick else 1.0
    soak_seconds = 10 if args.quick else args.soak_sec
    out = Path(tempfile.mkdtemp(prefix="heapdrift-always-on-"))
    plain = dict(os.environ)
    preloaded = dict(plain, LD_PRELOAD=str(agent), HEAPDRIFT_OUTPUT=str(out / "p.rec"))
    dormant = dict(plain, LD_PRELOAD=str(agent), HEAPDRIFT_DORMANT="1",
                   HEAPDRIFT_CONTROL_DIR=str(out))
    for name in ("HEAPDRIFT_SAMPLE_BYTES", "HEAPDRIFT_MAX_SAMPLES_PER_SEC", "LD_PRELOAD"):
        plain.pop(name, None)

    def under(argv):
        return {"none": (argv, plain),
                "heapdrift run": ([heapdrift, "run", "-o", str(out / "r.rec"), "--"] + argv, plain),
                "preloaded": (argv, preloaded)}

    server = [example, "--duration-sec", f"{8 * scale:g}", "--rate", "6000"]
    results = paired(rounds, under(server), lambda r: (r[1], r[2]), side_by_side=True)
    print_ratios(f"1. Paced server, {8 * scale:g} s, the three side by side each round "
                 "(CPU seconds of the whole command)",
                 {k: [c for c, _ in v] for k, v in results.items()}, "none",
                 GOALS["server cpu"], "s")
    print_ratios("   peak RSS", {k: [m for _, m in v] for k, v in results.items()}, "none",
                 GOALS["server rss"], "MB", 1 / 1024)
    share_runs = 3 if args.quick else 5
    print_share("", agent_share(server, preloaded, share_runs))

    for threads, millions in ((1, 10), (2, 5)):
        argv = [churn, str(threads), f"{millions * scale:g}"]
        configs = under(argv)
        configs["dormant"] = (argv, dormant)
        results = paired(rounds, configs, lambda r: r[0])
        print_ratios(f"2. Churn, {threads} thread{'s' if threads > 1 else ''} x "
                     f"{millions * scale:g}M malloc/free (wall)", results, "none",
                     lambda name: GOALS["dormant" if name == "dormant" else "churn"], "s")
        print_share("preloaded, ", agent_share(argv, preloaded, share_runs))
        print_share("dormant, ", agent_share(argv, dormant, share_runs))

    sample_cost(build)
    soak(example, preloaded, soak_seconds)
    subprocess.run(["rm", "-rf", str(out)])


if __name__ == "__main__":
    main()
