# Values without their own lock, guarded by one explicit Lock.
from multiprocessing import Lock, Process, RawArray, Value


def add(v, arr, lock):
    lock.acquire()
    try:
        v.value += 1
        arr[0] += 1
    finally:
        lock.release()


if __name__ == "__main__":
    lock = Lock()
    v = Value("i", 0, lock=False)
    arr = RawArray("i", 1)
    procs = [Process(target=add, args=(v, arr, lock)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print(v.value, arr[0])
