# Live handles stored in manager containers or sent to tasks.
import socket
import sqlite3
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import Manager, Queue


class Cluster:
    def __init__(self, path):
        self.path = path
        self.credentials = open(path)


class Client:
    def __init__(self):
        self.lock = threading.Lock()


def use(x):
    return x


def main():
    with Manager() as manager:
        clusters = manager.list()
        clusters.append(Cluster("/etc/hostname"))  # expect: unserializable-handle
        registry = manager.dict()
        registry["db"] = sqlite3.connect(":memory:")  # expect: unserializable-handle
    f = open("/etc/hostname")
    with ProcessPoolExecutor() as ex:
        ex.submit(use, f).result()  # expect: unserializable-handle
        sock = socket.socket()
        ex.submit(use, sock)  # expect: unserializable-handle
        client = Client()
        ex.submit(use, client)  # expect: unserializable-handle
    q = Queue()
    q.put(f)  # expect: unserializable-handle


if __name__ == "__main__":
    main()
