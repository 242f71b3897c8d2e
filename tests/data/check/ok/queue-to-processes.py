# A multiprocessing Queue in Process args (allowed: inheritance); workers
# put plain values.
from multiprocessing import Process, Queue


def produce(q, n):
    q.put(n * n)


if __name__ == "__main__":
    q = Queue()
    procs = [Process(target=produce, args=(q, n)) for n in range(4)]
    for p in procs:
        p.start()
    results = sorted(q.get() for _ in procs)
    for p in procs:
        p.join()
    print(results)
