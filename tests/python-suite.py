#!/usr/bin/env python3
"""Run every program of demos/python/ under every CPython found here.

    python-suite.py --mpshare BUILD/demos/mpshare          the test (TAP)
    python-suite.py --mpshare ... --capture tests/data     regenerate the
                                                           captured texts

For each interpreter (python3.X on PATH, and each 3.8+ version that
`pyenv versions --bare` lists), each start method a program applies to
(fork, spawn, forkserver; set through MP_START_METHOD) and each program
named in demos/python/programs.json, both halves run:

- the broken half must fail (status 1) with the text programs.json
  documents on its standard error; when that text carries two numbers
  (got and want), they must differ: the silent failure was observed;
  its standard error, fed to `mpshare explain --ids`, must name the
  pitfall programs.json gives first;
- the fixed half must succeed (status 0) with the documented result on
  standard output and nothing on standard error.

--capture writes, for one interpreter per Python version, the standard
error of every broken half to DIR/python-X.Y/NAME.txt (after the same
checks), so tests/test-explain.c reads real texts on machines without
Python. The meson target `python-captures` runs it.

Every program runs in a fresh temporary directory (its TMPDIR and its
working directory) in a session of its own, killed whole on a timeout;
the directory must be empty when it ends.
"""
import argparse
import concurrent.futures as cf
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

METHODS = ("fork", "spawn", "forkserver")
MIN_MINOR = 8            # 2.x, 3.6 and 3.7 are out of scope
TIMEOUT_S = 60           # a backstop: a program takes about a second


def probe(executable):
    """(version, real executable) of a working CPython, or None."""
    code = ("import platform, sys; print(platform.python_implementation(), "
            "'.'.join(map(str, sys.version_info[:3])), "
            "sys.version_info[:2] >= (3, %d), "
            "' '.join(__import__('multiprocessing').get_all_start_methods()), "
            "sys.executable, sep='\\n')" % MIN_MINOR)
    try:
        out = subprocess.run([executable, "-c", code], capture_output=True,
                             text=True, timeout=30,
                             env=dict(os.environ, PYENV_VERSION=""))
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.splitlines()
    if out.returncode != 0 or len(lines) != 5:
        return None
    impl, version, recent, methods, real = lines
    if impl != "CPython" or recent != "True":
        return None
    return version, os.path.realpath(real), methods.split()


def pyenv_pythons():
    """The python3 of each version pyenv lists, where pyenv exists."""
    pyenv = shutil.which("pyenv")
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    if pyenv is None and os.access(os.path.join(root, "bin", "pyenv"), os.X_OK):
        pyenv = os.path.join(root, "bin", "pyenv")
    if pyenv is None:
        return []
    # pyenv finds its root through $HOME, which CI may not set
    env = dict(os.environ)
    if "PYENV_ROOT" not in env and os.path.isdir(root):
        env["PYENV_ROOT"] = root
    try:
        bare = subprocess.run([pyenv, "versions", "--bare"], text=True,
                              capture_output=True, timeout=30, env=env).stdout
        root = subprocess.run([pyenv, "root"], text=True, capture_output=True,
                              timeout=30, env=env).stdout.strip() or root
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = []
    for version in bare.split():
        m = re.fullmatch(r"3\.(\d+)\.\d+[a-z0-9]*", version)
        if m and int(m.group(1)) >= MIN_MINOR:
            found.append(os.path.join(root, "versions", version, "bin", "python3"))
    return found


def find_pythons():
    """[(version, executable, start methods)], one per real executable."""
    candidates = []
    for minor in range(MIN_MINOR, 30):
        path = shutil.which("python3.%d" % minor)
        if path:
            candidates.append(path)
    candidates += pyenv_pythons()
    seen, pythons = set(), []
    for path in candidates:
        found = probe(path)
        if found is None or found[1] in seen:
            continue
        seen.add(found[1])
        pythons.append(found)
    pythons.sort(key=lambda p: tuple(int(x) for x in p[0].split(".")))
    return pythons


def run(argv, env, stdin=None, timeout=TIMEOUT_S):
    """(status, stdout, stderr); status None after a timeout."""
    proc = subprocess.Popen(argv, env=env, cwd=env.get("TMPDIR"),
                            stdin=subprocess.PIPE if stdin is not None
                            else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        status = None
        out, err = "", ""
    finally:
        # the program's workers share its session: none may outlive it
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if status is None:
            out, err = proc.communicate()
    return status, out, err


def explain_first(mpshare, text):
    status, out, err = run([mpshare, "explain", "--ids", "-"],
                           dict(os.environ), stdin=text, timeout=60)
    if status != 0:
        return None, "mpshare explain exited %s: %s" % (status, err.strip())
    return (out.split() or [None])[0], None


def check_broken(spec, status, out, err):
    if status is None:
        return "timed out after %d s" % TIMEOUT_S
    if status != 1:
        return "exited %d, expected 1 (a real failure)" % status
    m = re.search(spec["broken"], err, re.MULTILINE)
    if m is None:
        return "its stderr lacks /%s/" % spec["broken"]
    if "got" in m.groupdict() and m.group("got") == m.group("want"):
        return "reported %s = %s as wrong" % (m.group("got"), m.group("want"))
    return None


def check_fixed(spec, status, out, err):
    if status is None:
        return "timed out after %d s" % TIMEOUT_S
    if status != 0:
        return "exited %d: %s" % (status, err.strip()[-300:])
    if err.strip():
        return "wrote to stderr: %s" % err.strip()[-300:]
    if re.search(spec["fixed"], out, re.MULTILINE) is None:
        return "its stdout lacks /%s/: %s" % (spec["fixed"], out.strip())
    return None


def run_cell(cell, args, explain=True):
    """Runs one program; returns (ok, description, stderr of the run)."""
    (version, python, _), method, name, half, spec = cell
    script = os.path.join(args.demos, "%s-%s.py" % (name, half))
    scratch = tempfile.mkdtemp(prefix="mp-python-")
    env = dict(os.environ, MP_START_METHOD=method, TMPDIR=scratch,
               PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    for var in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONWARNINGS", "PYENV_VERSION"):
        env.pop(var, None)
    try:
        status, out, err = run([python, script], env)
        left = os.listdir(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    what = "%s %s %s-%s" % (version, method, name, half)
    if half == "broken":
        problem = check_broken(spec, status, out, err)
        if problem is None and explain:
            first, problem = explain_first(args.mpshare, err)
            if problem is None and first != spec["shows"]:
                problem = "mpshare explain names %s first, expected %s" % (
                    first, spec["shows"])
    else:
        problem = check_fixed(spec, status, out, err)
    if problem is None and left:
        problem = "left behind in its TMPDIR: %s" % ", ".join(left)
    if problem is None:
        summary = "fails as documented, explained as %s" % spec["shows"] \
            if half == "broken" else "right result"
        return True, "%s: %s" % (what, summary), err
    diag = "\n".join("# " + l for l in (err or out).strip().splitlines()[-25:])
    return False, "%s: %s\n%s" % (what, problem, diag), err


SHM = "/dev/shm"


def mapped_inodes():
    """The inode of every /dev/shm file some process here has mapped (a
    named semaphore in use is mapped by each process that opened it). By
    inode, not name: glibc's sem_open() maps a file under a temporary
    name, then links it to the semaphore's name, so its creator's map
    shows the temporary name, deleted."""
    mapped = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/maps" % pid) as maps:
                for line in maps:
                    fields = line.split(None, 5)
                    if len(fields) == 6 and fields[5].startswith(SHM + "/"):
                        mapped.add(int(fields[4]))
        except (OSError, ValueError):
            continue
    return mapped


def remove_leaked_semaphores(since):
    """CPython itself leaks a named semaphore now and then: a forkserver
    or spawn child that dies while bootstrapping (missing-main-guard)
    never unlinks the ones it made. Removes the Python semaphores made
    since @since that no process has open, and names them. Programs run
    side by side: one still running has its semaphores mapped."""
    try:
        names = [n for n in os.listdir(SHM) if n.startswith("sem.mp-")]
    except OSError:
        return []
    in_use = mapped_inodes()
    removed = []
    for name in names:
        path = os.path.join(SHM, name)
        try:
            st = os.stat(path)
            if st.st_ctime >= since and st.st_ino not in in_use:
                os.unlink(path)
                removed.append(name)
        except OSError:
            continue
    return removed


def applicable(spec, python):
    return [m for m in spec.get("methods", METHODS) if m in python[2]]


def default_method(spec, python):
    """The version's own default, else the first method that applies."""
    methods = applicable(spec, python)
    code = "import multiprocessing as m; print(m.get_start_method())"
    default = subprocess.run([python[1], "-c", code], capture_output=True,
                             text=True).stdout.strip()
    return default if default in methods else methods[0]


def capture(args, pythons, programs):
    by_minor = {}
    for python in pythons:
        by_minor.setdefault(".".join(python[0].split(".")[:2]), python)
    cells = []
    for minor, python in sorted(by_minor.items()):
        for name, spec in programs.items():
            cells.append((minor, (python, default_method(spec, python), name,
                                  "broken", spec)))
    started = time.time() - 1
    with cf.ThreadPoolExecutor(args.jobs) as pool:
        # the texts are kept whatever explain makes of them: that is
        # test-explain's question
        results = list(pool.map(lambda c: run_cell(c[1], args, False), cells))
    remove_leaked_semaphores(started)
    failed = [desc for ok, desc, _ in results if not ok]
    if failed:
        sys.exit("not captured, a program did not fail as documented:\n" +
                 "\n".join(failed))
    for minor in by_minor:
        outdir = os.path.join(args.capture, "python-" + minor)
        os.makedirs(outdir, exist_ok=True)
        for old in os.listdir(outdir):
            os.unlink(os.path.join(outdir, old))
    sources = {}
    for (minor, cell), (_, _, err) in zip(cells, results):
        python, method, name = cell[0], cell[1], cell[2]
        with open(os.path.join(args.capture, "python-" + minor,
                               name + ".txt"), "w") as f:
            f.write(err)
        sources.setdefault(minor, []).append((name, python, method))
    for minor, rows in sources.items():
        with open(os.path.join(args.capture, "python-" + minor,
                               "SOURCES.md"), "w") as f:
            about = ("The standard error of each broken program of "
                     "demos/python/, as CPython %s (%s) printed it. Written "
                     "by `meson compile -C build python-captures` "
                     "(tests/python-suite.py --capture); do not edit."
                     % (rows[0][1][0], rows[0][1][1]))
            f.write("# Python %s texts\n\n%s\n\n| file | program | start "
                    "method |\n|---|---|---|\n"
                    % (minor, textwrap.fill(about, 76)))
            for name, python, method in rows:
                f.write("| %s.txt | demos/python/%s-broken.py | %s |\n"
                        % (name, name, method))
        with open(os.path.join(args.capture, "python-" + minor,
                               "expected"), "w") as f:
            f.write("# NAME.txt, the pitfall `mpshare explain` names first, "
                    "the one its last\n# exception line alone gives "
                    "(- none; ~ the text has no exception line)\n")
            for name, _, _ in rows:
                spec = programs[name]
                last = spec.get("last_line", "~") if "last_line" in spec \
                    else "~"
                f.write("%s %s %s\n" % (name, spec["shows"], last or "-"))
        print("python-%s: %d texts" % (minor, len(rows)))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mpshare", required=True, help="the mpshare binary")
    parser.add_argument("--demos", default=os.path.join(here, "..", "demos",
                                                        "python"))
    parser.add_argument("--jobs", type=int, default=6,
                        help="programs run at once (most of their time is "
                        "process start-up and sleeps)")
    parser.add_argument("--capture", metavar="DIR")
    parser.add_argument("--only", nargs="*", help="only these program names")
    args = parser.parse_args()
    args.demos = os.path.abspath(args.demos)

    with open(os.path.join(args.demos, "programs.json")) as f:
        programs = json.load(f)["programs"]
    if args.only:
        programs = {k: v for k, v in programs.items() if k in args.only}
    pythons = find_pythons()
    if not pythons:
        print("1..0 # SKIP no CPython 3.%d or later found (looked for "
              "python3.X on PATH and in `pyenv versions --bare`)" % MIN_MINOR)
        return 0
    if args.capture:
        capture(args, pythons, programs)
        return 0

    cells = [(python, method, name, half, spec)
             for python in pythons
             for name, spec in programs.items()
             for method in applicable(spec, python)
             for half in ("broken", "fixed")
             if half == "broken" or spec.get("fixed") is not None]
    print("# CPythons: " + ", ".join("%s (%s)" % p[:2] for p in pythons))
    print("1..%d" % len(cells), flush=True)
    started = time.time() - 1
    failures = 0
    with cf.ThreadPoolExecutor(args.jobs) as pool:
        for n, (ok, desc, _) in enumerate(
                pool.map(lambda c: run_cell(c, args), cells), 1):
            failures += not ok
            print("%s %d %s" % ("ok" if ok else "not ok", n, desc), flush=True)
    leaked = remove_leaked_semaphores(started)
    if leaked:
        print("# removed %d semaphore(s) CPython left in %s: %s"
              % (len(leaked), SHM, " ".join(leaked)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
