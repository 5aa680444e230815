#!/usr/bin/env python3
"""Startup cost of the extension: `php -r ''` with and without it, side by side.

WHMCS loads the extension into every PHP request, so loading it must cost next to nothing.
Runs both variants interleaved (so machine noise hits both alike) and prints the median and
p95 wall time and the median peak RSS of each, and the difference. Printed, never asserted.

    python3 benches/startup.py [--runs 200] [--extension target/release/libpuq_proxmox_kvm.so]
"""
import argparse
import os
import statistics
import subprocess
import time


def run_once(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if status != 0 or err.strip():
        raise SystemExit(f"{' '.join(cmd)} failed: {err}")
    return elapsed * 1000.0, usage.ru_maxrss / 1024.0  # ms, MiB


def p95(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--extension", default="target/release/libpuq_proxmox_kvm.so")
    parser.add_argument("--php", default="php")
    args = parser.parse_args()
    ext = os.path.abspath(args.extension)
    if not os.path.exists(ext):
        raise SystemExit(f"{ext} is missing: run `cargo build --release` first")

    variants = {
        "without extension": [args.php, "-r", ""],
        "with extension": [args.php, "-d", f"extension={ext}", "-r", ""],
    }
    # Check the extension really loads in the measured command.
    probe = subprocess.run(variants["with extension"][:-2] + ["-r", "echo extension_loaded('puq_proxmox_kvm') ? 'yes' : 'no';"],
                           capture_output=True, text=True)
    if probe.stdout.strip() != "yes":
        raise SystemExit(f"the extension did not load: {probe.stdout}{probe.stderr}")

    results = {name: ([], []) for name in variants}
    for _ in range(5):  # warm the page cache
        for cmd in variants.values():
            run_once(cmd)
    for _ in range(args.runs):
        for name, cmd in variants.items():
            ms, rss = run_once(cmd)
            results[name][0].append(ms)
            results[name][1].append(rss)

    print(f"php -r '' startup, {args.runs} runs each, interleaved ({os.cpu_count()} cores)")
    print(f"{'variant':<20} {'median ms':>10} {'p95 ms':>8} {'peak RSS MiB':>13}")
    summary = {}
    for name, (times, rss) in results.items():
        summary[name] = (statistics.median(times), p95(times), statistics.median(rss))
        print(f"{name:<20} {summary[name][0]:>10.2f} {summary[name][1]:>8.2f} {summary[name][2]:>13.2f}")
    base, ext_ = summary["without extension"], summary["with extension"]
    print(f"{'difference':<20} {ext_[0] - base[0]:>+10.2f} {ext_[1] - base[1]:>+8.2f} {ext_[2] - base[2]:>+13.2f}")
    print("goal: at most +1 ms and +2 MiB")


if __name__ == "__main__":
    main()
