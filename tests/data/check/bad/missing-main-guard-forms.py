# Processes, executors, managers and the start method, at import time.
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor as PPE
from multiprocessing import Process, set_start_method


def work(n):
    print(n)


def run_all():
    with PPE() as ex:
        list(ex.map(work, range(3)))


def main():
    run_all()


set_start_method("fork")  # expect: missing-main-guard
p = Process(target=work, args=(1,))
p.start()  # expect: missing-main-guard
p.join()
with PPE(max_workers=2) as ex:  # expect: missing-main-guard
    ex.submit(work, 2)
for i in range(2):
    mp.Process(target=work, args=(i,)).start()  # expect: missing-main-guard
manager = mp.Manager()  # expect: missing-main-guard
main()  # expect: missing-main-guard
