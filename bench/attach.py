#!/usr/bin/env python3
"""What attaching costs, in one run.

1. Timing: a session_leak server runs under a dormant agent; it is woken over
   its control socket (the protocol of proto/control_protocol.h, spoken here
   directly so that nothing but the agent is timed) N times. Printed: time
   from connect to the agent's "ok", to the recording's header, to the first
   snapshot; and from "stop" to the end of the connection (detached). Then
   the whole `heapdrift attach PID --duration 1s` command, wall time.
2. Entering: fresh session_leak servers started without the agent, each
   entered by `heapdrift attach` (ptrace, dlopen in a borrowed thread):
   time to load the agent (as attach reports it), how long the borrowed
   thread was held, and the tries it took.
3. Overhead on churn (1 and 2 threads, malloc/free as fast as they can):
   none; dormant (asleep the whole run); attached (woken at the start, the
   whole run recorded, default rate); entered (started without the agent,
   `heapdrift attach` for the whole run); preloaded (`HEAPDRIFT_OUTPUT`,
   default rate). Medians of alternating runs, as ratios to none of the same
   run.

usage: bench/attach.py [BUILD_DIR] [--runs N] [--quick]
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def varint(data, offset):
    value, shift = 0, 0
    while offset < len(data):
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7
    return None, offset


def wait_for_socket(control_dir, pid, deadline=10.0):
    path = control_dir / f"{pid}.sock"
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if path.exists():
            return path
        time.sleep(0.01)
    sys.exit(f"no control socket at {path}")


def wake(path, interval_ms=100, settings=()):
    """Connects and asks for a recording; returns (socket, seconds to ok)."""
    start = time.monotonic()
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(str(path))
    request = "heapdrift-wake 1\n" + f"HEAPDRIFT_INTERVAL_MS={interval_ms}\n"
    request += "".join(f"{k}={v}\n" for k, v in settings) + "\n"
    conn.sendall(request.encode())
    answer = b""
    while not answer.endswith(b"\n"):
        answer += conn.recv(1)
    if answer != b"ok\n":
        sys.exit(f"agent refused: {answer!r}")
    return conn, time.monotonic() - start, start


def time_one_attach(path):
    conn, to_ok, start = wake(path)
    data, records, times = b"", 0, {}
    while records < 2:  # the header, then the first snapshot
        chunk = conn.recv(65536)
        if not chunk:
            sys.exit("the agent closed before its first snapshot")
        data += chunk
        offset = 0
        while True:
            length, after = varint(data, offset)
            if length is None or after + length > len(data):
                break
            records += 1
            times[records] = time.monotonic() - start
            offset = after + length
        data = data[offset:]
    stop = time.monotonic()
    conn.shutdown(socket.SHUT_WR)
    while conn.recv(65536):
        pass
    detached = time.monotonic() - stop
    conn.close()
    return to_ok, times[1], times[2], detached


def timing(build, runs, tmp):
    control_dir = tmp / "control"
    env = dict(os.environ, LD_PRELOAD=str(build / "agent" / "libheapdrift.so"),
               HEAPDRIFT_DORMANT="1", HEAPDRIFT_CONTROL_DIR=str(control_dir))
    server = subprocess.Popen([str(build / "examples" / "session_leak"), "--duration-sec", "600"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        path = wait_for_socket(control_dir, server.pid)
        time.sleep(1)
        rows = [time_one_attach(path) for _ in range(runs)]
        print(f"attach timing over {runs} wakes of session_leak (snapshot interval 100 ms), "
              "median [min-max] ms:")
        for index, name in enumerate(["connect -> ok", "connect -> header",
                                      "connect -> first snapshot", "stop -> detached"]):
            values = [row[index] * 1000 for row in rows]
            print(f"  {name:<28} {statistics.median(values):8.2f} "
                  f"[{min(values):.2f}-{max(values):.2f}]")
        cli = build / "cli" / "heapdrift"
        walls = []
        for run in range(max(3, runs // 4)):
            start = time.monotonic()
            subprocess.run([str(cli), "attach", str(server.pid), "--duration", "1s", "-o",
                            str(tmp / f"cli{run}.rec")], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            walls.append(time.monotonic() - start)
        print(f"  `heapdrift attach --duration 1s` wall, median: {statistics.median(walls):.3f} s "
              "(1 s recorded, then the report)")
    finally:
        server.kill()
        server.wait()


def entering(build, runs, tmp):
    cli = build / "cli" / "heapdrift"
    loads, holds, tries = [], [], []
    for run in range(runs):
        server = subprocess.Popen([str(build / "examples" / "session_leak"), "--duration-sec", "60"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            attach = subprocess.run([str(cli), "attach", str(server.pid), "--duration", "200ms",
                                     "-o", str(tmp / f"entered{run}.rec")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            found = re.search(r"in ([0-9.]+) ms \(loaded by thread \d+, held ([0-9.]+) ms, "
                              r"after (\d+) tr", attach.stderr)
            if attach.returncode != 0 or found is None:
                sys.exit(f"attach failed: {attach.stderr}")
            loads.append(float(found.group(1)))
            holds.append(float(found.group(2)))
            tries.append(int(found.group(3)))
        finally:
            server.kill()
            server.wait()
    print(f"\nentering {runs} session_leak servers started without the agent, median [min-max]:")
    for name, values, unit in (("attach -> agent loaded", loads, "ms"),
                               ("borrowed thread held", holds, "ms"),
                               ("threads stopped to find a safe one", tries, "")):
        print(f"  {name:<36} {statistics.median(values):8.2f} [{min(values):g}-{max(values):g}] {unit}")


def run_churn(argv, env, attach_to=None):
    start = time.monotonic()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn = None
    if attach_to == "enter":
        attach = subprocess.Popen([env["HEAPDRIFT_CLI"], "attach", str(child.pid), "--duration",
                                   "1h", "-o", env["HEAPDRIFT_BENCH_REC"]],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        child.wait()
        attach.wait()
        return time.monotonic() - start
    if attach_to is not None:
        conn, _, _ = wake(wait_for_socket(attach_to, child.pid), interval_ms=1000)
        conn.setblocking(False)
    while child.poll() is None:
        if conn is not None:
            try:
                conn.recv(1 << 20)
            except BlockingIOError:
                pass
        time.sleep(0.005)
    wall = time.monotonic() - start
    if conn is not None:
        conn.close()
    return wall


def overhead(build, runs, scale, tmp):
    churn = str(build / "bench" / "churn")
    agent = str(build / "agent" / "libheapdrift.so")
    control_dir = tmp / "churn-control"
    base = dict(os.environ)
    dormant = dict(base, LD_PRELOAD=agent, HEAPDRIFT_DORMANT="1",
                   HEAPDRIFT_CONTROL_DIR=str(control_dir))
    preloaded = dict(base, LD_PRELOAD=agent, HEAPDRIFT_OUTPUT=str(tmp / "churn.rec"))
    entered = dict(base, HEAPDRIFT_CLI=str(build / "cli" / "heapdrift"),
                   HEAPDRIFT_BENCH_REC=str(tmp / "entered-churn.rec"))
    configs = [("none", base, None), ("dormant", dormant, None),
               ("attached", dormant, control_dir), ("entered", entered, "enter"),
               ("preloaded", preloaded, None)]
    print(f"\n{'workload':<20} {'agent':<10} {'median':>9} {'ratio':>7}")
    for threads, millions in ((1, 10 * scale), (2, 5 * scale)):
        argv = [churn, str(threads), f"{millions:g}"]
        samples = {name: [] for name, _, _ in configs}
        for _ in range(runs):
            for name, env, attach_to in configs:
                samples[name].append(run_churn(argv, env, attach_to))
        none = statistics.median(samples["none"])
        for name, _, _ in configs:
            median = statistics.median(samples[name])
            print(f"churn, {threads} thread{'s' if threads > 1 else '':<6} {name:<10} "
                  f"{median:8.3f}s {median / none:6.3f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build", nargs="?", default="build")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    build = Path(args.build).resolve()
    runs = 3 if args.quick else args.runs
    scale = 0.25 if args.quick else 1.0
    with tempfile.TemporaryDirectory(prefix="heapdrift-attach-bench-") as directory:
        tmp = Path(directory)
        timing(build, max(runs, 5) * 2, tmp)
        entering(build, max(runs, 5) * 2, tmp)
        overhead(build, runs, scale, tmp)


if __name__ == "__main__":
    main()
