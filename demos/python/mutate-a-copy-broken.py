"""mutate-a-copy, broken: changing an object read from a manager list.

C demo: demos/mutate-a-copy.c (mpshare run mutate-a-copy).

`scores[0]` returns a copy, unpickled in the worker; setting its field
changes that copy only. Nothing fails: the parent reads the list back,
sees the old value and says so (exit 1).
"""
import dataclasses
import multiprocessing as mp
import os
import sys


@dataclasses.dataclass
class Score:
    name: str
    points: int


def add_bonus(scores):
    scores[0].points += 10  # changes a copy of scores[0]


def main():
    ctx = mp.get_context(os.environ.get("MP_START_METHOD") or None)
    with ctx.Manager() as manager:
        scores = manager.list([Score("ada", 1)])
        worker = ctx.Process(target=add_bonus, args=(scores,))
        worker.start()
        worker.join()
        points = scores[0].points
    if points != 11:
        sys.exit(f"scores[0].points is {points} after add_bonus(), "
                 f"expected 11: the change did not stick")
    print(f"points: {points}")


if __name__ == "__main__":
    main()
