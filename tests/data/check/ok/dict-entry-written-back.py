# A dict proxy's entry read, extended and stored again.
from multiprocessing import Manager


def record(table, key, item):
    entry = table.get(key, [])
    entry.append(item)
    table[key] = entry


if __name__ == "__main__":
    with Manager() as manager:
        table = manager.dict()
        for i in range(3):
            record(table, "k", i)
        snapshot = dict(table)
    print(snapshot)
