#!/usr/bin/env python3
"""What one `heapdrift serve` costs, in one run.

1. Steady: N processes (default 50; session_leak at a low request rate) stream
   a snapshot a second each for D seconds while the daemon is scraped every
   5 s. Printed: the daemon's CPU as a share of one core, its resident memory
   at each scrape, scrape times. Goal: < 1 % of a core and < 64 MiB for 50.
2. Churn: short-lived processes (steady_leak, 150 ms) connect at R per second
   for T seconds (default 50/s for 72 s: 3,600 processes, an hour of one a
   second), scraped every 5 s. Printed: resident memory, open descriptors and
   scrape time at the start and at the end, as ratios (flat = 1.0).

usage: bench/serve_load.py [BUILD_DIR] [--processes N] [--seconds D]
                           [--churn-rate R] [--churn-seconds T] [--quick]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def resident_mib(pid):
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def scrape(port):
    start = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as answer:
        body = answer.read().decode()
    return time.monotonic() - start, body


def agents(body):
    match = re.search(r"^heapdrift_agents (\d+)", body, re.M)
    return int(match.group(1)) if match else -1


def start_daemon(build, work):
    log = open(work / "serve.log", "w")
    daemon = subprocess.Popen(
        [build / "cli/heapdrift", "serve", "--listen", f"unix:{work}/agents.sock", "--dir",
         work / "recordings", "--http", "127.0.0.1:0", "--group", "session=SessionStore::"],
        stdout=log, stderr=log)
    for _ in range(200):
        match = re.search(r"http://127\.0\.0\.1:(\d+)", (work / "serve.log").read_text())
        if match:
            return daemon, int(match.group(1))
        time.sleep(0.05)
    sys.exit("heapdrift serve did not start: " + (work / "serve.log").read_text())


def agent_env(build, work, interval_ms):
    env = dict(os.environ)
    env.update(LD_PRELOAD=str(build / "agent/libheapdrift.so"),
               HEAPDRIFT_OUTPUT=f"unix:{work}/agents.sock", HEAPDRIFT_INTERVAL_MS=str(interval_ms))
    return env


def steady(build, work, processes, seconds):
    daemon, port = start_daemon(build, work)
    env = agent_env(build, work, 1000)
    programs = [subprocess.Popen([build / "examples/session_leak", "--duration-sec",
                                  str(seconds + 10), "--rate", "50", "--cache-mib", "1"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(processes)]
    time.sleep(5)  # all connected, windows filling
    cpu0, t0 = cpu_seconds(daemon.pid), time.monotonic()
    print(f"steady: {processes} processes, a snapshot a second each, {seconds} s")
    print("   t(s)  agents  RSS(MiB)  scrape(ms)")
    while time.monotonic() - t0 < seconds:
        time.sleep(5)
        took, body = scrape(port)
        print(f"  {time.monotonic() - t0:5.0f}  {agents(body):6d}  {resident_mib(daemon.pid):8.1f}"
              f"  {took * 1000:10.1f}")
    share = (cpu_seconds(daemon.pid) - cpu0) / (time.monotonic() - t0)
    rss = resident_mib(daemon.pid)
    print(f"daemon CPU {share * 100:.2f} % of a core (goal < 1 %: ratio {share / 0.01:.2f}); "
          f"RSS {rss:.1f} MiB (goal < 64: ratio {rss / 64:.2f})")
    for program in programs:
        program.kill()
    for program in programs:
        program.wait()
    daemon.terminate()
    daemon.wait()


def churn(build, work, rate, seconds):
    daemon, port = start_daemon(build, work)
    env = agent_env(build, work, 50)
    running, started = [], 0
    samples = []
    t0 = next_scrape = time.monotonic()
    while time.monotonic() - t0 < seconds:
        now = time.monotonic()
        while started < (now - t0) * rate:
            running.append(subprocess.Popen([build / "tests/steady_leak", "150", "0"], env=env,
                                            stdout=subprocess.DEVNULL))
            started += 1
        running = [p for p in running if p.poll() is None]
        if now >= next_scrape:
            took, body = scrape(port)
            samples.append((now - t0, resident_mib(daemon.pid), descriptors(daemon.pid), took))
            next_scrape = now + 5
        time.sleep(0.005)
    for p in running:
        p.wait()
    time.sleep(6)  # one retention sweep (and trim) after the last
    took, body = scrape(port)
    samples.append((time.monotonic() - t0, resident_mib(daemon.pid), descriptors(daemon.pid), took))
    print(f"churn: {started} processes at {rate}/s over {seconds} s")
    print("   t(s)  RSS(MiB)  fds  scrape(ms)")
    for t, rss, fds, took in samples:
        print(f"  {t:5.0f}  {rss:8.1f}  {fds:3d}  {took * 1000:10.1f}")
    # The first sample 10 s in: the daemon has symbolized the program once.
    idle, last = samples[0], samples[-1]
    first = next((sample for sample in samples if sample[0] >= 10), samples[0])
    print(f"end/10 s in: RSS {last[1] / first[1]:.2f}, scrape time "
          f"{last[3] / max(first[3], 1e-4):.2f}; descriptors {idle[2]} idle, {last[2]} at the end; "
          f"agents left {agents(body)}")
    daemon.terminate()
    daemon.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--processes", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=180)  # windows fill in 120 s
    parser.add_argument("--churn-rate", type=int, default=50)
    parser.add_argument("--churn-seconds", type=int, default=72)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.processes, args.seconds, args.churn_rate, args.churn_seconds = 10, 15, 20, 15
    build = Path(args.build).resolve()
    with tempfile.TemporaryDirectory() as steady_dir:
        steady(build, Path(steady_dir), args.processes, args.seconds)
    with tempfile.TemporaryDirectory() as churn_dir:
        churn(build, Path(churn_dir), args.churn_rate, args.churn_seconds)


if __name__ == "__main__":
    main()
