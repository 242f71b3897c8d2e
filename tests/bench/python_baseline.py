#!/usr/bin/env python3
"""python_baseline.py — what CPython's multiprocessing costs, for comparison

Measures with CPython's own multiprocessing the operations mpshare's
mp-bench measures, so tests/bench/compare.py can print them side by side.
A benchmark tool only: mpshare itself never depends on Python.

Every figure is the best of --repeats runs (noise only ever adds time).
Loops that involve several processes are timed inside the processes, from
the earliest start to the latest end, so process start-up and exit are not
counted; a two-process figure is wall time divided by all operations done.

Placement (--pin): a wakeup that crosses CPUs costs far more than one on
the same CPU, so every process is pinned.
  same   everything on CPU 0 (the default)
  split  the first process on CPU 0, the second on CPU 1: the driving
         process (parent, manager server, second Value incrementer) on 0
         and the processes it talks to (started children, manager clients,
         ping-pong echo, pool workers) on 1
  none   the scheduler chooses

Output: a table, or with --tsv lines "key<TAB>value<TAB>unit" (unit ns or
tasks/s) for compare.py.

SPDX-License-Identifier: LGPL-2.1-or-later
"""

import argparse
import concurrent.futures
import multiprocessing
import os
import socket
import sys
import time

FORK = multiprocessing.get_context("fork")
SPAWN = multiprocessing.get_context("spawn")
FORKSERVER = multiprocessing.get_context("forkserver")

# Work per measurement: (full, --quick). Slow rows get few iterations so a
# full run stays well under two minutes.
SIZES = {
    "incr": (200_000, 2_000),
    "fork_starts": (100, 3),
    "spawn_starts": (8, 1),
    "forkserver_starts": (30, 1),
    "manager_ops": (10_000, 200),
    "pingpong": (30_000, 500),
    "pool_tasks": (10_000, 200),
}

MESSAGE = b"x" * 32   # the ping-pong's small message


# ---- placement ------------------------------------------------------------

class Placement:
    def __init__(self, mode):
        self.mode = mode
        self.two_cpus = len(os.sched_getaffinity(0)) > 1 and 1 in os.sched_getaffinity(0)

    @property
    def first(self):
        return 0

    @property
    def second(self):
        return 1 if self.mode == "split" and self.two_cpus else 0

    def pin(self, cpu):
        if self.mode != "none":
            os.sched_setaffinity(0, {cpu})

    def describe(self):
        if self.mode == "same":
            return "same CPU"
        if self.mode == "split":
            return "split CPUs" if self.two_cpus else "split (1 CPU only)"
        return "unpinned"


PLACE = Placement("same")


def noop():
    pass


# ---- timing of loops run by child processes --------------------------------

def _loop_child(loop, args, n, cpu, barrier, report):
    PLACE.pin(cpu)
    loop(*args, n=1)           # warm-up: connects a manager proxy, faults pages
    barrier.wait()
    t0 = time.perf_counter_ns()
    loop(*args, n=n)
    t1 = time.perf_counter_ns()
    report.send((t0, t1))
    report.close()


def time_loop(loop, args, n, cpus, repeats):
    """ns per operation of loop(*args, n=n) run at once by one child per
    entry of cpus; perf_counter is CLOCK_MONOTONIC, comparable across
    processes"""
    best = float("inf")
    for _ in range(repeats):
        barrier = FORK.Barrier(len(cpus))
        children = []
        for cpu in cpus:
            receiver, sender = FORK.Pipe(duplex=False)
            child = FORK.Process(target=_loop_child,
                                 args=(loop, args, n, cpu, barrier, sender))
            child.start()
            sender.close()
            children.append((child, receiver))
        spans = [receiver.recv() for _, receiver in children]
        for child, receiver in children:
            child.join()
            receiver.close()
            if child.exitcode != 0:
                sys.exit(f"python_baseline: a loop process exited with {child.exitcode}")
        start = min(t0 for t0, _ in spans)
        end = max(t1 for _, t1 in spans)
        best = min(best, (end - start) / (n * len(cpus)))
    return best


# ---- shared-memory Value ---------------------------------------------------

def locked_incr_loop(value, n):
    for _ in range(n):
        with value.get_lock():
            value.value += 1


def bench_locked_incr(results, repeats, quick):
    n = SIZES["incr"][quick]
    value = FORK.Value("i", 0)
    results["value_locked_incr_1p"] = time_loop(
        locked_incr_loop, (value,), n, [PLACE.first], repeats)
    value.value = 0
    results["value_locked_incr_2p"] = time_loop(
        locked_incr_loop, (value,), n, [PLACE.first, PLACE.second], repeats)
    # the lock's job, checked: every increment of the last run arrived
    expected = 2 * (n + 1) * repeats
    if value.value != expected:
        sys.exit(f"python_baseline: locked Value holds {value.value}, expected {expected}")


# ---- process start + join --------------------------------------------------

# A started child inherits its parent's CPU: with --pin split the parent
# steps onto the second CPU around each start, as mp-bench does.
_steering = False


def _steer_before_fork():
    if _steering and PLACE.mode == "split":
        PLACE.pin(PLACE.second)


def _steer_after_fork():
    if _steering and PLACE.mode == "split":
        PLACE.pin(PLACE.first)


def start_join(context, starts):
    global _steering
    # the fork hooks steer a fork start; spawn's fork+exec runs no Python
    # fork hooks, so it is steered around start()
    by_hand = context is not FORK
    _steering = True
    t0 = time.perf_counter_ns()
    for _ in range(starts):
        process = context.Process(target=noop)
        if by_hand:
            _steer_before_fork()
        process.start()
        if by_hand:
            _steer_after_fork()
        process.join()
        if process.exitcode != 0:
            sys.exit(f"python_baseline: a {context.get_start_method()} child "
                     f"exited with {process.exitcode}")
    _steering = False
    return (time.perf_counter_ns() - t0) / starts


def bench_start_join(results, repeats, quick):
    for key, context, size in (("fork_start_join", FORK, "fork_starts"),
                               ("spawn_start_join", SPAWN, "spawn_starts"),
                               ("forkserver_start_join", FORKSERVER, "forkserver_starts")):
        # warm-up: spawn starts its resource tracker once, forkserver its server
        start_join(context, 1)
        results[key] = min(start_join(context, SIZES[size][quick])
                           for _ in range(repeats))


# ---- manager ---------------------------------------------------------------

def manager_append_loop(proxy, n):
    for _ in range(n):
        proxy.append(1)


def manager_get_loop(proxy, n):
    for _ in range(n):
        proxy.get()


def manager_set_loop(proxy, n):
    for i in range(n):
        proxy.set(i)


def bench_manager(results, repeats, quick):
    n = SIZES["manager_ops"][quick]
    # the server process inherits CPU 0 from this one; clients go second
    with FORK.Manager() as manager:
        for clients, suffix in ((1, "1c"), (2, "2c")):
            cpus = [PLACE.second] * clients
            shared_list = manager.list()
            results[f"manager_list_append_{suffix}"] = time_loop(
                manager_append_loop, (shared_list,), n, cpus, repeats)
            if len(shared_list) != clients * (n + 1) * repeats:
                sys.exit("python_baseline: the manager list lost appends")
            del shared_list
            value = manager.Value("i", 0)
            results[f"manager_value_get_{suffix}"] = time_loop(
                manager_get_loop, (value,), n, cpus, repeats)
            results[f"manager_value_set_{suffix}"] = time_loop(
                manager_set_loop, (value,), n, cpus, repeats)
            del value


# ---- the floor: a bare socket ping-pong ------------------------------------

def _echo(sock, parent_end, cpu):
    parent_end.close()        # inherited through fork; the parent's alone
    PLACE.pin(cpu)
    while True:
        data = sock.recv(len(MESSAGE))
        if not data:
            return
        while len(data) < len(MESSAGE):
            data += sock.recv(len(MESSAGE) - len(data))
        sock.sendall(data)


def _round_trips(sock, n):
    for _ in range(n):
        sock.sendall(MESSAGE)
        data = sock.recv(len(MESSAGE))
        while len(data) < len(MESSAGE):
            data += sock.recv(len(MESSAGE) - len(data))


def bench_socket_pingpong(results, repeats, quick):
    n = SIZES["pingpong"][quick]
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    echo = FORK.Process(target=_echo, args=(theirs, ours, PLACE.second))
    echo.start()
    theirs.close()
    _round_trips(ours, 100)   # warm-up, and the echo has pinned itself
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        _round_trips(ours, n)
        best = min(best, (time.perf_counter_ns() - t0) / n)
    ours.shutdown(socket.SHUT_WR)   # EOF ends the echo
    ours.close()
    echo.join()
    results["socket_pingpong"] = best


# ---- ProcessPoolExecutor ---------------------------------------------------

def bench_pool(results, repeats, quick):
    n = SIZES["pool_tasks"][quick]
    best = 0.0
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=2, mp_context=FORK,
            initializer=PLACE.pin, initargs=(PLACE.second,)) as pool:
        concurrent.futures.wait([pool.submit(noop) for _ in range(20)])
        for _ in range(repeats):
            t0 = time.perf_counter_ns()
            futures = [pool.submit(noop) for _ in range(n)]
            concurrent.futures.wait(futures)
            elapsed = time.perf_counter_ns() - t0
            for future in futures:
                future.result()
            best = max(best, n * 1e9 / elapsed)
    results["pool_trivial_tasks_per_s"] = best


# ---- output ----------------------------------------------------------------

ROWS = [
    ("value_locked_incr_1p", "ns", "locked Value('i') increment, 1 process"),
    ("value_locked_incr_2p", "ns", "locked Value('i') increment, 2 processes"),
    ("fork_start_join", "ns", "Process start+join, fork"),
    ("spawn_start_join", "ns", "Process start+join, spawn"),
    ("forkserver_start_join", "ns", "Process start+join, forkserver"),
    ("manager_list_append_1c", "ns", "manager list.append, 1 client"),
    ("manager_value_get_1c", "ns", "manager Value.get, 1 client"),
    ("manager_value_set_1c", "ns", "manager Value.set, 1 client"),
    ("manager_list_append_2c", "ns", "manager list.append, 2 clients"),
    ("manager_value_get_2c", "ns", "manager Value.get, 2 clients"),
    ("manager_value_set_2c", "ns", "manager Value.set, 2 clients"),
    ("socket_pingpong", "ns", "Unix socketpair ping-pong (floor)"),
    ("pool_trivial_tasks_per_s", "tasks/s", "ProcessPoolExecutor(2) no-op tasks"),
]


def format_value(value, unit):
    if unit == "tasks/s":
        return f"{value:,.0f} tasks/s"
    if value >= 1e6:
        return f"{value / 1e6:.2f} ms"
    if value >= 1e3:
        return f"{value / 1e3:.1f} us"
    return f"{value:.1f} ns"


def print_table(results, args):
    print(f"python_baseline: CPython {sys.version.split()[0]}, best of {args.repeats}, "
          f"processes on {PLACE.describe()}, load average {os.getloadavg()[0]:.1f}"
          + (" (--quick: figures are not meaningful)" if args.quick else ""))
    print()
    width = max(len(label) for _, _, label in ROWS)
    print(f"{'operation':<{width}}  {'CPython':>16}")
    print(f"{'---------':<{width}}  {'-------':>16}")
    for key, unit, label in ROWS:
        print(f"{label:<{width}}  {format_value(results[key], unit):>16}")


def print_tsv(results):
    for key, unit, _ in ROWS:
        print(f"{key}\t{results[key]:.1f}\t{unit}")


def main():
    global PLACE
    parser = argparse.ArgumentParser(
        description="Time CPython's multiprocessing on the operations mp-bench "
                    "measures (locked Value, process start, manager, pool).")
    parser.add_argument("--pin", choices=("same", "split", "none"), default="same",
                        help="CPU placement: same (all on CPU 0, the default), "
                             "split (first on CPU 0, second on CPU 1) or none")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each measurement; the best one counts")
    parser.add_argument("--quick", action="store_true",
                        help="a few iterations only (smoke test, figures meaningless)")
    parser.add_argument("--tsv", action="store_true",
                        help="print key<TAB>value<TAB>unit lines instead of a table")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 1
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    PLACE = Placement(args.pin)
    PLACE.pin(PLACE.first)
    os.register_at_fork(before=_steer_before_fork,
                        after_in_parent=_steer_after_fork)

    results = {}
    bench_locked_incr(results, args.repeats, args.quick)
    bench_start_join(results, args.repeats, args.quick)
    bench_manager(results, args.repeats, args.quick)
    bench_socket_pingpong(results, args.repeats, args.quick)
    bench_pool(results, args.repeats, args.quick)

    if args.tsv:
        print_tsv(results)
    else:
        print_table(results, args)


if __name__ == "__main__":
    main()
