# A Value made with lock=False, written by one child only; the parent reads
# it after join.
import multiprocessing as mp


def produce(v):
    for i in range(1000):
        v.value += i


if __name__ == "__main__":
    v = mp.Value("q", 0, lock=False)
    p = mp.Process(target=produce, args=(v,))
    p.start()
    p.join()
    print(v.value)
