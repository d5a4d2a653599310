#!/usr/bin/env python3
"""Overhead of heapdrift against no profiler and against its peers, in one run.

Configurations (each where installed), and the baseline each is compared to:
  none                       -
  no-op interposer           none  (the floor any LD_PRELOAD tool pays)
  heapdrift                  none  (default rate: 64 KiB mean interval, adaptive)
  heapdrift exact            none  (every allocation recorded)
  heaptrack                  none  (full tracing)
  jemalloc                   -     (libjemalloc2 preloaded, no profiling)
  jemalloc prof              jemalloc  (MALLOC_CONF=prof:true,lg_prof_sample:19)
  tcmalloc                   -     (gperftools' libtcmalloc preloaded)
  gperftools heap profiler   tcmalloc  (HEAPPROFILE set)

Workloads: the churn benchmark (1 and 2 threads; "bare" = malloc/free only),
the session-leak example and redis-server under redis-benchmark (both by CPU
seconds of the profiled process: they run a fixed amount of work or time),
then how heapdrift's cost grows with threads (1, 2, 4, 8 on this machine's
cores) and with stack depth. Configurations alternate within each round so
machine noise spreads evenly; medians of the rounds are printed as ratios to
the baseline's median of the same run, for time and for peak RSS.

usage: bench/overhead.py [BUILD_DIR] [--runs N] [--quick]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIBDIR = Path("/usr/lib/x86_64-linux-gnu")


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


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def run_redis(argv, env, requests):
    """Starts argv (a wrapped redis-server), drives it with redis-benchmark
    (SET then GET), shuts it down; returns the server's (wall, cpu, rss)."""
    port = argv[argv.index("--port") + 1]
    start = time.monotonic()
    server = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    for _ in range(300):
        if subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True).returncode == 0:
            break
        time.sleep(0.05)
    subprocess.run(["redis-benchmark", "-p", port, "-t", "set,get", "-n", str(requests),
                    "-r", "1000000", "-d", "64", "-P", "16", "-q"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], capture_output=True)
    _, _, usage = os.wait4(server.pid, 0)
    return time.monotonic() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


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

    def preload(library, extra=None):
        env = dict(os.environ, LD_PRELOAD=str(library))
        env.update(extra or {})
        return lambda argv: (argv, env)

    rec = {"HEAPDRIFT_OUTPUT": str(out / "b.rec")}
    configs = {  # name -> (wrap(argv) -> (argv, env), baseline)
        "none": (lambda argv: (argv, dict(os.environ)), None),
        "no-op interposer": (preload(build / "bench" / "libnoop_interposer.so"), "none"),
        "heapdrift": (preload(agent, rec), "none"),
        "heapdrift exact": (preload(agent, dict(rec, HEAPDRIFT_SAMPLE_BYTES="1")), "none"),
    }
    if shutil.which("heaptrack"):
        configs["heaptrack"] = (lambda argv: (["heaptrack", "-o", str(out / "heaptrack")] + argv,
                                              dict(os.environ)), "none")
    jemalloc = LIBDIR / "libjemalloc.so.2"
    if jemalloc.exists():
        configs["jemalloc"] = (preload(jemalloc), None)
        configs["jemalloc prof"] = (preload(jemalloc, {
            "MALLOC_CONF": f"prof:true,lg_prof_sample:19,prof_prefix:{out}/jeprof"}), "jemalloc")
    tcmalloc = LIBDIR / "libtcmalloc.so.4"
    if tcmalloc.exists():
        configs["tcmalloc"] = (preload(tcmalloc), None)
        configs["gperftools heap profiler"] = (
            preload(tcmalloc, {"HEAPPROFILE": str(out / "gperf")}), "tcmalloc")

    peers = ["none", "heapdrift", "heapdrift exact", "heaptrack", "jemalloc", "jemalloc prof",
             "tcmalloc", "gperftools heap profiler"]
    redis_port = free_port()
    redis_requests = int(400000 * scale)
    workloads = [
        # name, argv, measure (wall/cpu/redis), configurations
        ("churn, 1 thread", [churn, "1", f"{10 * scale:g}"], "wall", peers),
        ("churn, 2 threads", [churn, "2", f"{5 * scale:g}"], "wall", peers),
        ("churn bare, 1 thread", [churn, "1", f"{30 * scale:g}", "bare"], "wall",
         ["none", "no-op interposer", "heapdrift"]),
        ("churn bare, 2 threads", [churn, "2", f"{15 * scale:g}", "bare"], "wall",
         ["none", "no-op interposer", "heapdrift"]),
        ("session_leak, 10 s", [example, "--duration-sec", f"{10 * scale:g}"], "cpu", peers),
    ]
    if shutil.which("redis-server") and shutil.which("redis-benchmark"):
        workloads.append((
            f"redis, {redis_requests // 1000}k SET+GET",
            ["redis-server", "--port", redis_port, "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], "redis",
            # redis calls jemalloc's own API: another preloaded malloc would break it.
            ["none", "heapdrift", "heapdrift exact", "heaptrack"]))
    for threads in (1, 2, 4, 8):
        workloads.append((f"threads: churn x{threads}", [churn, str(threads), f"{4 * scale:g}"],
                          "wall", ["none", "heapdrift"]))
    for depth in (0, 16, 48):
        workloads.append((f"depth: +{depth} frames", [churn, "1", f"{4 * scale:g}", "written",
                                                      str(depth)], "wall", ["none", "heapdrift"]))

    print(f"{'workload':<26} {'profiler':<25} {'median':>9} {'ratio':>7} {'peak RSS':>10} "
          f"{'ratio':>7}  baseline")
    for name, argv, measure, wanted in workloads:
        names = [c for c in wanted if c in configs]
        samples = {c: [] for c in names}
        for _ in range(runs):
            for config in names:
                wrapped = configs[config][0](argv)
                if measure == "redis":
                    wall, cpu, rss = run_redis(*wrapped, redis_requests)
                else:
                    wall, cpu, rss = run(*wrapped)
                samples[config].append((wall if measure == "wall" else cpu, rss))
        medians = {c: (statistics.median(t for t, _ in samples[c]),
                       statistics.median(r for _, r in samples[c])) for c in names}
        for config in names:
            baseline = configs[config][1] or config
            base_time, base_rss = medians[baseline]
            median, rss = medians[config]
            print(f"{name:<26} {config:<25} {median:8.3f}s {median / base_time:6.2f}x "
                  f"{rss / 1024:8.1f}MB {rss / base_rss:6.2f}x  {baseline}")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
