# Elements read from manager proxies, changed in place, never written back.
from multiprocessing import Manager


class Cluster:
    def __init__(self, name):
        self.name = name
        self.available = True


def main():
    with Manager() as manager:
        clusters = manager.list([Cluster("a"), Cluster("b")])
        first = clusters[0]
        first.available = False  # expect: mutate-a-copy
        clusters[1].available = False  # expect: mutate-a-copy
        table = manager.dict({"k": []})
        table["k"].append(1)  # expect: mutate-a-copy
        entries = table.get("k")
        entries.append(2)  # expect: mutate-a-copy
        for c in clusters:
            c.name = c.name.upper()  # expect: mutate-a-copy
        ns = manager.Namespace()
        ns.items = []
        ns.items.append(3)  # expect: mutate-a-copy
        for key, value in table.items():
            value.extend([4, 5])  # expect: mutate-a-copy
        print(list(clusters), dict(table), ns.items)


if __name__ == "__main__":
    main()
