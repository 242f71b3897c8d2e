# os._exit in a plain Process: it ends that process only, with its code.
import multiprocessing as mp
import os


def child(code):
    os._exit(code)


if __name__ == "__main__":
    p = mp.Process(target=child, args=(3,))
    p.start()
    p.join()
    print(p.exitcode)
