# main() starts processes, and is called only under the guard.
import multiprocessing


def work(q):
    q.put("done")


def main():
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=work, args=(q,))
    p.start()
    print(q.get())
    p.join()


if __name__ == "__main__":
    main()
