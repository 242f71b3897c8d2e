# Results copied out of the proxies before the manager's block ends.
from multiprocessing import Manager


def squares(n):
    with Manager() as manager:
        result = manager.list()
        for i in range(n):
            result.append(i * i)
        return list(result)


def counts():
    with Manager() as manager:
        table = manager.dict()
        table["a"] = 1
        table = dict(table)
    return table["a"]


if __name__ == "__main__":
    print(squares(4), counts())
