#!/usr/bin/env python3
"""compare.py — mpshare beside CPython's multiprocessing, with the targets

The one command (after `meson setup build && ninja -C build`):

    meson test -C build --benchmark --verbose compare-cpython compare-cpython-split

which runs, for each placement,

    python3 tests/bench/compare.py build/tests/bench/mp-bench --pin same|split [--quick]

It runs mp-bench --tsv, then python_baseline.py --tsv (one after the other,
same placement) and prints one table: operation, mpshare, its floor,
mpshare/floor, CPython, CPython/mpshare ("x times faster"), the targets of
issues #3 and #4 and whether they are met. Missed targets are reported, not
fatal (like mp-bench); --strict makes them the exit status.

The contract with mp-bench: `mp-bench --tsv` prints, one per row,

    key<TAB>mpshare_value<TAB>floor_value<TAB>unit

unit is `ns` (lower is better) or `tasks/s` (higher is better); floor_value
is `-` when the row has no floor. Keys are the ones python_baseline.py
prints, for the rows mpshare has (value_locked_incr_1p/_2p,
fork_start_join, spawn_start_join, forkserver_start_join, manager_{list_append,value_get,
value_set}_{1c,2c}, socket_pingpong, pool_trivial_tasks_per_s); other
keys are shown without a CPython figure. Blank lines and lines starting
with `#` are ignored.

SPDX-License-Identifier: LGPL-2.1-or-later
"""

import argparse
import math
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent

LABELS = {
    "value_locked_incr_1p": "locked Value increment, 1 process",
    "value_locked_incr_2p": "locked Value increment, 2 processes",
    "fork_start_join": "process start+join, fork",
    "spawn_start_join": "process start+join, spawn",
    "forkserver_start_join": "process start+join, forkserver",
    "manager_list_append_1c": "manager list append, 1 client",
    "manager_value_get_1c": "manager Value get, 1 client",
    "manager_value_set_1c": "manager Value set, 1 client",
    "manager_list_append_2c": "manager list append, 2 clients",
    "manager_value_get_2c": "manager Value get, 2 clients",
    "manager_value_set_2c": "manager Value set, 2 clients",
    "socket_pingpong": "socket ping-pong (the floor)",
    "socket_pingpong_2pairs": "socket ping-pong, 2 pairs at once",
    "pool_trivial_tasks_per_s": "pool trivial tasks",
}


class Target:
    """one target of the issues: a bound on mpshare/floor or on how many
    times faster than CPython mpshare is"""

    def __init__(self, against, bound, same_cpu_only=False):
        self.against = against          # "floor" or "cpython"
        self.bound = bound
        self.same_cpu_only = same_cpu_only

    def describe(self):
        if self.against == "floor":
            return f"<={self.bound:g}x floor"
        return f">={self.bound:g}x CPython"

    def met(self, row):
        """True, False, or None when the run lacks the figures"""
        ratio = row.vs_floor if self.against == "floor" else row.speedup
        if ratio is None:
            return None
        return ratio <= self.bound if self.against == "floor" else ratio >= self.bound


MANAGER_TARGETS = [Target("floor", 1.2), Target("cpython", 2, same_cpu_only=True)]

# issue #3: locked increment <= 2x a bare robust mutex, fork start+join <= 1.5x
# bare fork, spawn <= 2x bare fork+exec; issue #4: manager op <= 1.2x the
# socket ping-pong and >= 2x CPython on one CPU, spawn >= 20x CPython, pool
# >= 5x CPython's tasks/s
TARGETS = {
    "value_locked_incr_1p": [Target("floor", 2)],
    "value_locked_incr_2p": [Target("floor", 2)],
    "fork_start_join": [Target("floor", 1.5)],
    "spawn_start_join": [Target("floor", 2), Target("cpython", 20)],
    "pool_trivial_tasks_per_s": [Target("cpython", 5)],
    **{f"manager_{op}_{c}": MANAGER_TARGETS
       for op in ("list_append", "value_get", "value_set") for c in ("1c", "2c")},
}


class Row:
    def __init__(self, key):
        self.key = key
        self.unit = None
        self.mpshare = None
        self.floor = None
        self.cpython = None

    @property
    def vs_floor(self):
        if self.mpshare is None or self.floor is None:
            return None
        return self.mpshare / self.floor

    @property
    def speedup(self):
        if self.mpshare is None or self.cpython is None:
            return None
        if self.unit == "tasks/s":
            return self.mpshare / self.cpython
        return self.cpython / self.mpshare


def fail(message):
    sys.exit(f"compare.py: {message}")


def run(what, argv):
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, check=False)
    except OSError as e:
        fail(f"cannot run {what} ({argv[0]}): {e.strerror}")
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        hint = ""
        if "--tsv" in done.stderr:
            hint = ("; it needs --tsv printing key<TAB>mpshare<TAB>floor<TAB>unit "
                    "lines (see the top of compare.py)")
        fail(f"{what} exited with status {done.returncode}{hint}")
    return done.stdout


def parse_number(text, what, line):
    if text == "-":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        fail(f"{what}: not a positive number in line {line!r}")
    return value


def parse_tsv(text, what, n_fields, rows):
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != n_fields:
            fail(f"{what}: expected {n_fields} tab-separated fields, got {line!r}")
        key, unit = fields[0], fields[-1]
        if unit not in ("ns", "tasks/s"):
            fail(f"{what}: unknown unit {unit!r} in line {line!r}")
        row = rows.setdefault(key, Row(key))
        if row.unit is not None and row.unit != unit:
            fail(f"{key}: mp-bench and python_baseline.py disagree on the unit")
        row.unit = unit
        if n_fields == 4:
            row.mpshare = parse_number(fields[1], what, line)
            row.floor = parse_number(fields[2], what, line)
        else:
            row.cpython = parse_number(fields[1], what, line)


def format_value(value, unit):
    if value is None:
        return "-"
    if unit == "tasks/s":
        return f"{value / 1e3:.1f}k/s"
    if value >= 1e6:
        return f"{value / 1e6:.2f} ms"
    if value >= 1e3:
        return f"{value / 1e3:.1f} us"
    return f"{value:.1f} ns"


def format_ratio(ratio):
    return "-" if ratio is None else f"{ratio:.2f}x"


def judge(row, pin):
    """(target text, met text, number missed) of a row"""
    texts, verdicts, missed = [], [], 0
    for target in TARGETS.get(row.key, []):
        if target.same_cpu_only and pin != "same":
            continue
        met = target.met(row)
        texts.append(target.describe())
        verdicts.append({True: "yes", False: "NO", None: "?"}[met])
        missed += met is False
    return ", ".join(texts) or "-", ", ".join(verdicts), missed


def main():
    parser = argparse.ArgumentParser(
        description="Print mpshare's mp-bench beside CPython's multiprocessing, "
                    "with the ratios and the targets of the issues.")
    parser.add_argument("mp_bench", help="path to the mp-bench binary")
    parser.add_argument("--pin", choices=("same", "split", "none"), default="same",
                        help="CPU placement for both runs (default same)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run of both (figures meaningless)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a target is missed")
    args = parser.parse_args()

    common = ["--tsv", "--pin", args.pin] + (["--quick"] if args.quick else [])
    # one after the other: running both at once would skew both
    mp_out = run("mp-bench", [args.mp_bench] + common)
    py_out = run("python_baseline.py",
                 [sys.executable, str(HERE / "python_baseline.py")] + common)

    rows = {}
    parse_tsv(py_out, "python_baseline.py", 3, rows)
    parse_tsv(mp_out, "mp-bench", 4, rows)
    if not any(row.mpshare is not None for row in rows.values()):
        fail("mp-bench printed no rows with --tsv")

    placement = {"same": "all on CPU 0", "split": "second process on CPU 1",
                 "none": "unpinned"}[args.pin]
    print(f"mpshare vs CPython {sys.version.split()[0]} multiprocessing, --pin {args.pin} "
          f"({placement})" + (" --quick: figures are not meaningful" if args.quick else ""))
    print(f"load average {os.getloadavg()[0]:.1f} (other work on the CPUs inflates "
          "the figures); CPy/mp: times faster than CPython\n")

    table = [("operation", "mpshare", "floor", "mp/floor", "CPython",
              "CPy/mp", "target", "met")]
    missed = 0
    for row in rows.values():
        target, met, row_missed = judge(row, args.pin)
        missed += row_missed
        table.append((LABELS.get(row.key, row.key),
                      format_value(row.mpshare, row.unit),
                      format_value(row.floor, row.unit),
                      format_ratio(row.vs_floor),
                      format_value(row.cpython, row.unit),
                      format_ratio(row.speedup),
                      target, met))
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for n, line in enumerate(table):
        cells = [line[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(line[1:6], widths[1:6])]
        cells += [line[6].ljust(widths[6]), line[7]]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))

    print(f"\n{missed} target{'' if missed == 1 else 's'} missed"
          + ("" if args.pin == "same" else
             "; the manager's >=2x CPython target is judged with --pin same only"))
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
