# Threads share memory: a lambda, a thread lock and an open file are fine
# with a ThreadPoolExecutor.
import threading
from concurrent.futures import ThreadPoolExecutor

lock = threading.Lock()
count = 0


def bump(n):
    global count
    with lock:
        count += n


if __name__ == "__main__":
    with open(__file__) as f, ThreadPoolExecutor(4) as ex:
        list(ex.map(lambda line: bump(len(line)), f))
        ex.submit(bump, 1).result()
    print(count)
