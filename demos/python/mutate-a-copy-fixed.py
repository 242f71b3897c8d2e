"""mutate-a-copy, fixed: change the copy, then write it back.

C demo: demos/mutate-a-copy.c (mpshare run mutate-a-copy).

Read the object, change it, and assign it back to its place in the
list: the assignment is one request that replaces the server's object.
(With several writers, take a manager Lock around the three steps, or
pop the object and append it back.)
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
    score = scores[0]
    score.points += 10
    scores[0] = score  # write the changed copy back


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
