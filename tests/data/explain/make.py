#!/usr/bin/env python3
"""Make the texts `mpshare explain` is measured on (see README.md here).

    PYENV_VERSION=3.12.1 python3 tests/data/explain/make.py positive
    PYENV_VERSION=3.13.0 python3 tests/data/explain/make.py positive
    python3 tests/data/explain/make.py negative
    /usr/bin/python3 tests/data/explain/make.py tests     # needs pytest

Each program below is written to a scratch directory and run by the
interpreter running this script, once per start method it lists; its
standard error (and, for test runs, its standard output) is stored
verbatim, except that the scratch directory's path becomes
/home/student/lab so that the files do not change from run to run.
"""
import os
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = '/home/student/lab'
VERSION = '%d.%d' % sys.version_info[:2]

GUARD = '''
if __name__ == '__main__':
    mp.set_start_method(os.environ['MP_START'])
    main()
'''

# name -> (expected id, start methods, program). Programs read the start
# method from MP_START. An "interactive" program is run as an interactive
# session runs it, from standard input (python3 -), and as a notebook
# kernel does, with no file at all for __main__ (python3 -c): a worker
# cannot find its task there.
POSITIVE = {
    'inheritance-only-pool': ('inheritance-only', 'fork spawn forkserver', '''
import multiprocessing as mp, os
def first(v):
    return v.value
def main():
    total = mp.Value('i', 0)
    with mp.Pool(2) as pool:
        pool.apply(first, (total,))
''' + GUARD),
    'inheritance-only-executor': ('inheritance-only', 'fork spawn', '''
import multiprocessing as mp, os
from concurrent.futures import ProcessPoolExecutor
def first(a):
    return a[0]
def main():
    arr = mp.Array('i', [1, 2, 3])
    with ProcessPoolExecutor(2) as ex:
        print(ex.submit(first, arr).result())
''' + GUARD),
    'inheritance-only-queue': ('inheritance-only', 'fork', '''
import multiprocessing as mp, os
def drain(q):
    return q.get()
def main():
    q = mp.Queue()
    q.put(1)
    with mp.Pool(2) as pool:
        pool.apply(drain, (q,))
''' + GUARD),
    'closed-manager': ('closed-manager', 'fork spawn', '''
import multiprocessing as mp, os
def main():
    with mp.Manager() as manager:
        clusters = manager.list(['abcde', 'fghij'])
    print(clusters[0])
''' + GUARD),
    'closed-manager-used-before': ('closed-manager', 'fork', '''
import multiprocessing as mp, os
def main():
    with mp.Manager() as manager:
        clusters = manager.list(['abcde', 'fghij'])
        print(len(clusters))
    print(clusters[0])
''' + GUARD),
    'closed-manager-shutdown': ('closed-manager', 'fork', '''
import multiprocessing as mp, os
def main():
    manager = mp.Manager()
    clusters = manager.list(['abcde'])
    manager.shutdown()
    clusters.append('x')
''' + GUARD),
    'unserializable-client': ('unserializable-handle', 'fork', '''
import multiprocessing as mp, os, sqlite3
class Cluster:
    def __init__(self, name):
        self.name = name
        self.client = sqlite3.connect(':memory:')
def main():
    with mp.Manager() as manager:
        clusters = manager.list()
        clusters.append(Cluster('a'))
''' + GUARD),
    'unserializable-stream-manager': ('unserializable-handle', 'fork', '''
import multiprocessing as mp, os
def main():
    with mp.Manager() as manager, open(__file__) as log:
        jobs = manager.dict()
        jobs['log'] = log
''' + GUARD),
    'unserializable-file-task': ('unserializable-handle', 'fork', '''
import multiprocessing as mp, os
def count_lines(f):
    return len(f.readlines())
def main():
    with open(__file__) as f, mp.Pool(2) as pool:
        print(pool.apply(count_lines, (f,)))
''' + GUARD),
    'unserializable-process-arg': ('unserializable-handle', 'spawn forkserver', '''
import multiprocessing as mp, os, threading
def work(lock):
    with lock:
        pass
def main():
    p = mp.Process(target=work, args=(threading.Lock(),))
    p.start()
    p.join()
''' + GUARD),
    'manager-as-argument': ('manager-as-argument', 'fork', '''
import multiprocessing as mp, os
def count(manager):
    return 0
def main():
    with mp.Manager() as manager, mp.Pool(2) as pool:
        pool.apply(count, (manager,))
''' + GUARD),
    'missing-main-guard': ('missing-main-guard', 'spawn forkserver', '''
import multiprocessing as mp, os
def square(x):
    return x * x
mp.set_start_method(os.environ['MP_START'], force=True)
with mp.Pool(2) as pool:
    print(pool.map(square, range(4)))
'''),
    'missing-main-guard-context': ('missing-main-guard', 'spawn', '''
import multiprocessing as mp, os
def square(x):
    return x * x
mp.set_start_method(os.environ['MP_START'])
if __name__ == '__main__':
    with mp.Pool(2) as pool:
        print(pool.map(square, range(4)))
'''),
    'lock-false-get-lock': ('lock-false', 'fork', '''
import multiprocessing as mp, os
def add(total):
    with total.get_lock():
        total.value += 1
def main():
    total = mp.Value('i', 0, lock=False)
    p = mp.Process(target=add, args=(total,))
    p.start()
    p.join()
    with total.get_lock():
        print(total.value)
''' + GUARD),
    'lock-false-with': ('lock-false', 'fork', '''
import multiprocessing as mp, os
def main():
    total = mp.Value('i', 0, lock=False)
    with total:
        total.value += 1
''' + GUARD),
    'lock-false-array-as-lock': ('lock-false', 'fork', '''
import multiprocessing as mp, os
def main():
    counts = mp.Array('i', 4, lock=False)
    counts.acquire()
''' + GUARD),
    'local-function-pool': ('local-function', 'fork spawn forkserver', '''
import multiprocessing as mp, os
def main():
    def square(x):
        return x * x
    with mp.Pool(2) as pool:
        print(pool.map(square, range(4)))
''' + GUARD),
    'local-function-executor-lambda': ('local-function', 'fork spawn', '''
import multiprocessing as mp, os
from concurrent.futures import ProcessPoolExecutor
def main():
    with ProcessPoolExecutor(2) as ex:
        print(list(ex.map(lambda x: x * x, range(4))))
''' + GUARD),
    'local-function-module-lambda': ('local-function', 'fork', '''
import multiprocessing as mp, os
square = lambda x: x * x
def main():
    with mp.Pool(2) as pool:
        print(pool.map(square, range(4)))
''' + GUARD),
    'local-function-process-target': ('local-function', 'spawn forkserver', '''
import multiprocessing as mp, os
def main():
    def work():
        print('working')
    p = mp.Process(target=work)
    p.start()
    p.join()
''' + GUARD),
    'local-function-interactive': ('local-function', 'spawn forkserver', '''
import multiprocessing as mp, os
from concurrent.futures import ProcessPoolExecutor
def square(x):
    return x * x
if __name__ == '__main__':
    mp.set_start_method(os.environ['MP_START'], force=True)
    with ProcessPoolExecutor(2) as ex:
        print(list(ex.map(square, range(4))))
'''),
    'broken-pool': ('broken-pool', 'fork spawn forkserver', '''
import multiprocessing as mp, os
from concurrent.futures import ProcessPoolExecutor
def crash(n):
    os._exit(n)
def main():
    with ProcessPoolExecutor(2) as ex:
        print(ex.submit(crash, 3).result())
''' + GUARD),
    'broken-pool-later-submit': ('broken-pool', 'fork', '''
import multiprocessing as mp, os, time
from concurrent.futures import ProcessPoolExecutor
def crash(n):
    os._exit(n)
def main():
    ex = ProcessPoolExecutor(2)
    try:
        ex.submit(crash, 3).result()
    except Exception:
        pass
    ex.submit(abs, 1)
''' + GUARD),
}

# Python texts from outside multiprocessing: none may name a pitfall.
NEGATIVE = {
    'keyerror': 'd = {"a": 1}\nprint(d["b"])\n',
    'keyerror-nested': 'cfg = {"db": {}}\nprint(cfg["db"]["host"])\n',
    'socket-refused': 'import socket\ns = socket.create_connection(("127.0.0.1", 9))\n',
    'socket-unix-missing': 'import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect("/nonexistent/sock")\n',
    'socket-send-closed': ('import socket\na, b = socket.socketpair()\nb.close()\n'
                           'for i in range(100):\n    a.sendall(b"x" * 65536)\n'),
    'deepcopy-lock': 'import copy, threading\nclass Job:\n    def __init__(self):\n        self.lock = threading.Lock()\ncopy.deepcopy(Job())\n',
    'deepcopy-socket': 'import copy, socket\ncopy.deepcopy({"conn": socket.socket()})\n',
    'deepcopy-generator': 'import copy\ncopy.deepcopy((x for x in range(3)))\n',
    'pickle-lambda': 'import pickle\nsquare = lambda x: x * x\npickle.dumps(square)\n',
    'pickle-local': 'import pickle\ndef outer():\n    def inner():\n        pass\n    return inner\npickle.dumps(outer())\n',
    'pickle-file': 'import pickle\nwith open(__file__) as f:\n    pickle.dumps({"log": f})\n',
    'pickle-module': 'import pickle, os\npickle.dumps(os)\n',
    'pickle-thread-local': 'import pickle, threading\npickle.dumps(threading.local())\n',
    'pickle-sqlite': 'import pickle, sqlite3\npickle.dumps(sqlite3.connect(":memory:"))\n',
    'unpickle-missing-class': ('import pickle, sys\nclass Point:\n    pass\ndata = pickle.dumps(Point())\n'
                               'del sys.modules["__main__"].Point\npickle.loads(data)\n'),
    'json-set': 'import json\njson.dumps({"ids": {1, 2}})\n',
    'asyncio-nested-run': 'import asyncio\nasync def main():\n    asyncio.run(asyncio.sleep(0))\nasyncio.run(main())\n',
    'asyncio-timeout': 'import asyncio\nasync def main():\n    await asyncio.wait_for(asyncio.sleep(1), 0.01)\nasyncio.run(main())\n',
    'asyncio-connection-refused': ('import asyncio\nasync def main():\n'
                                   '    await asyncio.open_connection("127.0.0.1", 9)\nasyncio.run(main())\n'),
    'thread-pool-keyerror': ('from concurrent.futures import ThreadPoolExecutor\n'
                             'def look(d):\n    return d["missing"]\n'
                             'with ThreadPoolExecutor(2) as ex:\n    ex.submit(look, {}).result()\n'),
    'thread-pool-deepcopy-lock': ('import copy, threading\nfrom concurrent.futures import ThreadPoolExecutor\n'
                                  'with ThreadPoolExecutor(2) as ex:\n'
                                  '    ex.submit(copy.deepcopy, threading.Lock()).result()\n'),
    'file-not-found': 'open("results/data.csv")\n',
    'eof-input': 'name = input("name? ")\n',
    'permission-denied': 'open("/proc/1/mem", "rb").read(1)\n',
    'zero-division': 'values = []\nprint(sum(values) / len(values))\n',
    'recursion': 'def f(n):\n    return f(n + 1)\nf(0)\n',
    'module-not-found': 'import numpyy\n',
    'type-unhashable': 'seen = set()\nseen.add([1, 2])\n',
    'subprocess-failed': 'import subprocess\nsubprocess.run(["false"], check=True)\n',
    'logging-error': 'import logging\nlogging.basicConfig()\nlogging.error("total %d", "x")\n',
    'attribute-none': 'result = None\nprint(result.value)\n',
    'thread-exception': ('import threading\ndef work():\n    raise ValueError("bad row 3")\n'
                         't = threading.Thread(target=work)\nt.start()\nt.join()\n'),
}

# Programs without multiprocessing that check their own result and exit
# with what they measured beside what they expected, as the broken halves
# of demos/python/ do (sys.exit), but for other bugs: a check line shaped
# like a pitfall's by its words alone must not name it.
NEGATIVE_CHECKS = {
    'check-header-counted': ('import csv, io, sys\n'
                             'rows = list(csv.reader(io.StringIO("name,n\\nada,1\\nbob,2\\n")))\n'
                             'if len(rows) != 2:\n'
                             '    sys.exit(f"rows is {len(rows)}, expected 2: the header was counted")\n'),
    'check-blank-line': ('import sys\nlines = ["10", "20", "", "30"]\ntotal = 0\n'
                         'for line in lines:\n    if not line:\n        break\n'
                         '    total += int(line)\n'
                         'if total != 60:\n'
                         '    sys.exit(f"total is {total}, expected 60: the rows after the blank line '
                         'were not read")\n'),
    'check-config-reload': ('import dataclasses, sys\n'
                            '@dataclasses.dataclass\nclass Config:\n    port: int\n'
                            'def load():\n    return Config(8080)\n'
                            'config = load()\nconfig.port = 9090\nconfig = load()\n'
                            'if config.port != 9090:\n'
                            '    sys.exit(f"config.port is {config.port} after load(), expected 9090: '
                            'the change did not stick")\n'),
    'check-dict-copy': ('import sys\ndefaults = {"port": 8080}\n'
                        'settings = dict(defaults)\nsettings["port"] = 9090\n'
                        'if defaults["port"] != 9090:\n'
                        '    sys.exit(f"defaults[\'port\'] is {defaults[\'port\']}, expected 9090: '
                        'the change did not stick")\n'),
    'check-merge-short': ('import sys\ndef merge(a, b):\n    out, i, j = [], 0, 0\n'
                          '    while i < len(a) and j < len(b):\n'
                          '        if a[i] <= b[j]:\n            out.append(a[i])\n            i += 1\n'
                          '        else:\n            out.append(b[j])\n            j += 1\n'
                          '    return out\n'
                          'got = merge([1, 4, 9], [2, 3])\n'
                          'if got != [1, 2, 3, 4, 9]:\n'
                          '    sys.exit(f"merge gave {got} in the wrong order, expected [1, 2, 3, 4, 9]")\n'),
    'check-mean-small': ('import statistics, sys\nmean = statistics.mean([1, 2, 3, 4])\n'
                         'if mean != 3:\n'
                         '    sys.exit(f"mean is {mean}, expected 3.0: the sample is too small")\n'),
}

# Shell pipelines: Python's own output as a shell shows it.
NEGATIVE_SHELL = {
    'broken-pipe-head': 'python3 -c "for i in range(100000): print(i)" | head -n 1 >/dev/null',
}


def run(argv, code, env=None, how='file'):
    stdin_code = how == 'stdin'
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, 'prog.py')
        with open(path, 'w') as f:
            f.write(code)
        args = argv + {'file': [path], 'stdin': ['-'], 'c': ['-c', code]}[how]
        # a pool whose workers die at start-up restarts them for ever:
        # after a while, the whole group is killed and what it printed kept
        p = subprocess.Popen(args, cwd=scratch, env=env, text=True,
                             start_new_session=True, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(code if stdin_code else '', timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return p.returncode, out.replace(scratch, LAB), err.replace(scratch, LAB)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def positive():
    outdir = os.path.join(HERE, 'positive', 'python-' + VERSION)
    for name, (pitfall, methods, code) in POSITIVE.items():
        for method in methods.split():
            env = dict(os.environ, MP_START=method)
            for how in (['stdin', 'c'] if 'interactive' in name else ['file']):
                rc, out, err = run([sys.executable], code, env, how)
                if rc == 0 or 'Traceback' not in err:
                    print('no error from %s %s' % (name, method), file=sys.stderr)
                    continue
                suffix = '' if how == 'file' else '-' + how
                write(os.path.join(outdir, '%s--%s--%s%s.txt' % (pitfall, name, method, suffix)), err)


def negative():
    outdir = os.path.join(HERE, 'negative')
    for name, code in NEGATIVE.items():
        rc, out, err = run([sys.executable], code)
        # a logging error or a thread's exception is printed, not raised
        if 'Traceback' not in err:
            print('no error from %s' % name, file=sys.stderr)
            continue
        write(os.path.join(outdir, 'python-%s--%s.txt' % (VERSION, name)), err)
    for name, code in NEGATIVE_CHECKS.items():
        rc, out, err = run([sys.executable], code)
        if rc == 0 or not err:
            print('no failed check from %s' % name, file=sys.stderr)
            continue
        write(os.path.join(outdir, 'python-%s--%s.txt' % (VERSION, name)), err)
    for name, cmd in NEGATIVE_SHELL.items():
        p = subprocess.run(['sh', '-c', cmd], stderr=subprocess.PIPE, text=True)
        write(os.path.join(outdir, 'shell--%s.txt' % name), p.stderr)


# the pitfall each test file of tests-src/positive/ shows
TEST_PITFALL = {
    'test_lost_update': 'lost-update',
    'test_manager_counter': 'lost-update',
    'test_order': 'as-completed-order',
    'test_mutate': 'mutate-a-copy',
}


def tests():
    """pytest's and unittest's reports of the silent pitfalls, and of
    failing tests that are no pitfall (negative)."""
    for kind in ('positive', 'negative'):
        src = os.path.join(HERE, 'tests-src', kind)
        for fname in sorted(os.listdir(src)):
            with open(os.path.join(src, fname)) as f:
                code = f.read()
            base = fname[:-3]
            if kind == 'positive':
                outdir = os.path.join(HERE, 'positive', 'tests')
            else:
                outdir = os.path.join(HERE, 'negative')
            for runner in ('pytest', 'pytest-color', 'unittest'):
                if runner == 'unittest' and 'unittest' not in code:
                    continue
                with tempfile.TemporaryDirectory() as scratch:
                    path = os.path.join(scratch, fname)
                    with open(path, 'w') as f:
                        f.write(code)
                    if runner.startswith('pytest'):
                        argv = [sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', fname]
                        argv += ['--color=yes'] if runner == 'pytest-color' else []
                    else:
                        argv = [sys.executable, '-m', 'unittest', base]
                    p = subprocess.run(argv, cwd=scratch, timeout=120, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                    text = p.stdout.replace(scratch, LAB)
                if p.returncode == 0:
                    print('%s passed under %s' % (fname, runner), file=sys.stderr)
                    continue
                name = '%s--%s.txt' % (runner, base)
                if kind == 'positive':
                    name = TEST_PITFALL[base] + '--' + name
                write(os.path.join(outdir, name), text)


IPYTHON = ['closed-manager', 'unserializable-client', 'local-function-pool',
           'broken-pool', 'lock-false-get-lock']


def ipython():
    """Some positives as IPython prints them, colours included."""
    outdir = os.path.join(HERE, 'positive', 'ipython-' + VERSION)
    for name in IPYTHON:
        pitfall, methods, code = POSITIVE[name]
        env = dict(os.environ, MP_START='fork')
        with tempfile.TemporaryDirectory() as scratch:
            path = os.path.join(scratch, 'prog.py')
            with open(path, 'w') as f:
                f.write(code)
            p = subprocess.run([sys.executable, '-m', 'IPython', '--colors=Linux',
                                '--no-banner', '--quick', '-c',
                                'exec(open(%r).read())' % path],
                               cwd=scratch, env=env, timeout=60, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            text = p.stdout.replace(scratch, LAB)
        write(os.path.join(outdir, '%s--%s--fork.txt' % (pitfall, name)), text)


if __name__ == '__main__':
    {'positive': positive, 'negative': negative, 'tests': tests,
     'ipython': ipython}[sys.argv[1]]()
