# Named shared memory: tasks get the name and attach to it.
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory


def fill(name, i):
    shm = shared_memory.SharedMemory(name=name)
    shm.buf[i] = i
    shm.close()


if __name__ == "__main__":
    shm = shared_memory.SharedMemory(create=True, size=8)
    try:
        with ProcessPoolExecutor() as ex:
            for i in range(8):
                ex.submit(fill, shm.name, i)
        print(bytes(shm.buf))
    finally:
        shm.close()
        shm.unlink()
