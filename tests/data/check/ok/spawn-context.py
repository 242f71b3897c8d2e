# A spawn context with top-level targets and synchronized args.
import multiprocessing as mp


def work(total, n):
    with total.get_lock():
        total.value += n


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    total = ctx.Value("i", 0)
    procs = [ctx.Process(target=work, args=(total, n)) for n in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print(total.value)
