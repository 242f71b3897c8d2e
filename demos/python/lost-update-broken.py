"""lost-update, broken: `hits.value += ...` from four processes.

C demo: demos/lost-update.c (mpshare run lost-update).

Four processes each count 10 requests into one shared Value. The Value
has a lock, but `+=` takes it for the read and again for the write, not
in between. Here the work sits inside the `+=` (the read happens first,
the call second, the write last), as it does whenever one writes
`total.value += work(x)`: the window is the length of the work, so the
loss shows on every run, not one run in a thousand. The program checks
its total and exits 1 when it is wrong.
"""
import multiprocessing as mp
import os
import sys
import time


def handle(request):
    time.sleep(0.02)  # stands for the real work
    return 1


def serve(requests, hits):
    for request in requests:
        hits.value += handle(request)  # read, work, write: not atomic


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    hits = ctx.Value("i", 0)
    workers = [ctx.Process(target=serve, args=(range(10), hits))
               for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if hits.value != 40:
        sys.exit(f"hits is {hits.value}, expected 40: the total is too small")
    print(f"hits: {hits.value}")


if __name__ == "__main__":
    main()
