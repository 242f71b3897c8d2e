#!/usr/bin/env python3
"""Reproduce, with CPython's multiprocessing, the error texts that
`mpshare explain` must recognise, and keep them as test data.

    python3 tests/data/capture.py            # writes tests/data/python-X.Y/*.txt
    python3 tests/data/capture.py run NAME   # runs one scenario, error on stderr

Each scenario runs in a fresh interpreter and its standard error is stored
verbatim (tracebacks included), so the tests read exactly what a student
would paste. The tests never need python3: the captured files are committed.
"""
import concurrent.futures as cf
import multiprocessing as mp
import multiprocessing.managers
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


# -- tasks (module level, so they can travel to workers) ---------------------

def first_item(seq):
    return seq[0]


def count_items(manager):
    return 0


def exit_worker(n):
    os._exit(n)


def proxy_from_token(token):
    # No connection here: the proxy is only rebuilt (and connects) in the
    # parent, when the result is unpickled.
    return mp.managers.ListProxy(token, 'pickle', incref=False)


class Cluster:
    def __init__(self, name, client):
        self.name = name
        self.client = client


# -- scenarios: name -> (function, words its output must contain) ------------

def inheritance_only_executor():
    arr = mp.Array('i', [1, 2, 3])
    with cf.ProcessPoolExecutor(2) as ex:
        ex.submit(first_item, arr).result()


def inheritance_only_pool():
    total = mp.Value('i', 0)
    with mp.Pool(2) as pool:
        pool.apply(first_item, (total,))


def closed_manager():
    with mp.Manager() as manager:
        clusters = manager.list(['abcde', 'fghij'])
    print(clusters[0])


def closed_manager_broken_pipe():
    with mp.Manager() as manager:
        clusters = manager.list(['abcde', 'fghij'])
        print(len(clusters))
    print(clusters[0])


def closed_manager_refused():
    manager = mp.Manager()
    clusters = manager.list(['abcde'])
    address = manager.address
    manager._process.kill()          # the server dies, its socket file stays
    manager._process.join()
    try:
        print(clusters[0])
    finally:
        shutil.rmtree(os.path.dirname(address), ignore_errors=True)


def unserializable_client():
    # (A plain socket would travel: multiprocessing passes its fd along.)
    with mp.Manager() as manager:
        clusters = manager.list()
        client = sqlite3.connect(':memory:')
        try:
            clusters.append(Cluster('abcde', client))
        finally:
            client.close()


def unserializable_stream():
    with mp.Manager() as manager:
        clusters = manager.list()
        with open(__file__) as stream:
            clusters.append(Cluster('abcde', stream))


def manager_as_argument():
    with mp.Manager() as manager:
        with cf.ProcessPoolExecutor(2) as ex:
            ex.submit(count_items, manager).result()


def manager_as_argument_pool():
    with mp.Manager() as manager:
        with mp.Pool(2) as pool:
            pool.apply(count_items, (manager,))


def local_function_executor():
    def square(x):
        return x * x
    with cf.ProcessPoolExecutor(2) as ex:
        ex.submit(square, 3).result()


SQUARE = lambda x: x * x  # noqa: E731 -- its name is '<lambda>', not SQUARE


def local_function_module_lambda():
    with cf.ProcessPoolExecutor(2) as ex:
        ex.submit(SQUARE, 3).result()


def local_function_lambda():
    with mp.Pool(2) as pool:
        pool.map(lambda x: x * x, range(3))


def broken_pool():
    with cf.ProcessPoolExecutor(2) as ex:
        futures = [ex.submit(exit_worker, 1) for _ in range(3)]
        for f in futures:
            f.result()


def broken_pool_dead_manager():
    manager = mp.Manager()
    clusters = manager.list(['abcde'])
    token = clusters._token
    manager.shutdown()
    with cf.ProcessPoolExecutor(1) as ex:
        ex.submit(proxy_from_token, token).result()


def remote_error_dead_manager():
    with mp.Manager() as other:
        gone = other.list(['abcde'])
    with mp.Manager() as manager:
        clusters = manager.list()
        clusters.append(gone)


def lock_false_value():
    total = mp.Value('i', 0, lock=False)
    with total.get_lock():
        total.value += 1


def lock_false_array():
    squares = mp.Array('i', 6, lock=False)
    with squares.get_lock():
        squares[0] = 0


MAIN_GUARD_SCRIPT = '''\
import multiprocessing as mp
import os

def square(x):
    print(x * x)

print('top-level code runs in pid', os.getpid(), flush=True)
ctx = mp.get_context('spawn')
p = ctx.Process(target=square, args=(3,))
p.start()
p.join()
'''

CONTEXT_SET_SCRIPT = '''\
import multiprocessing as mp
import os

mp.set_start_method('spawn')

def square(x):
    print(x * x)

print('top-level code runs in pid', os.getpid(), flush=True)
p = mp.Process(target=square, args=(3,))
p.start()
p.join()
'''

SPAWN_MAIN_SCRIPT = '''\
import concurrent.futures as cf
import multiprocessing as mp

if __name__ == '__main__':
    # Defined under the guard: a spawned worker never defines it.
    def square(x):
        return x * x

    with cf.ProcessPoolExecutor(1, mp_context=mp.get_context('spawn')) as ex:
        print(ex.submit(square, 3).result())
'''

SCENARIOS = {
    'inheritance-only-executor': (inheritance_only_executor, 'through inheritance'),
    'inheritance-only-pool': (inheritance_only_pool, 'through inheritance'),
    'closed-manager': (closed_manager, 'ForkAwareLocal'),
    'closed-manager-broken-pipe': (closed_manager_broken_pipe, 'Error'),
    'closed-manager-refused': (closed_manager_refused, 'ConnectionRefusedError'),
    'unserializable-client': (unserializable_client, 'cannot pickle'),
    'unserializable-stream': (unserializable_stream, 'cannot pickle'),
    'manager-as-argument': (manager_as_argument, 'AuthenticationString'),
    'manager-as-argument-pool': (manager_as_argument_pool, 'AuthenticationString'),
    'local-function-executor': (local_function_executor, 'local object'),
    'local-function-lambda': (local_function_lambda, '<lambda>'),
    'local-function-module-lambda': (local_function_module_lambda, '<lambda>'),
    'local-function-spawn-main': (SPAWN_MAIN_SCRIPT, "Can't get attribute"),
    'broken-pool': (broken_pool, 'BrokenProcessPool'),
    'broken-pool-dead-manager': (broken_pool_dead_manager, 'BrokenProcessPool'),
    'remote-error-dead-manager': (remote_error_dead_manager, 'RemoteError'),
    'lock-false-value': (lock_false_value, 'get_lock'),
    'lock-false-array': (lock_false_array, 'get_lock'),
    'missing-main-guard': (MAIN_GUARD_SCRIPT, 'bootstrapping phase'),
    'missing-main-guard-context': (CONTEXT_SET_SCRIPT, 'context has already been set'),
}


def capture(name, outdir, scratch):
    what, expect = SCENARIOS[name]
    if isinstance(what, str):
        # The main guard needs a script of its own: spawn re-runs it.
        script = os.path.join(scratch, name.replace('-', '_') + '.py')
        with open(script, 'w') as f:
            f.write(what)
        argv = [sys.executable, script]
    else:
        argv = [sys.executable, os.path.abspath(__file__), 'run', name]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                          cwd=scratch)
    if expect not in proc.stderr:
        sys.exit(f'{name}: expected {expect!r} in its stderr, got:\n{proc.stderr}')
    with open(os.path.join(outdir, name + '.txt'), 'w') as f:
        f.write(proc.stderr)
    print(f'{name}: {proc.stderr.strip().splitlines()[-1][:70]}')


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'run':
        SCENARIOS[sys.argv[2]][0]()
        return
    outdir = os.path.join(HERE, 'python-%d.%d' % sys.version_info[:2])
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for name in SCENARIOS:
            capture(name, outdir, scratch)


if __name__ == '__main__':
    main()
