# A client of a manager served elsewhere: connecting starts no process,
# so it may happen at import time.
from multiprocessing.managers import BaseManager


class QueueManager(BaseManager):
    pass


QueueManager.register("get_queue")
manager = QueueManager(address=("127.0.0.1", 50000), authkey=b"lab")


def fetch():
    manager.connect()
    return manager.get_queue().get()


if __name__ == "__main__":
    print(fetch())
