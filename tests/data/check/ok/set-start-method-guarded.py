# The start method is set under the main guard, once.
import multiprocessing


def hello(name):
    print("hello", name)


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    p = multiprocessing.Process(target=hello, args=("world",))
    p.start()
    p.join()
