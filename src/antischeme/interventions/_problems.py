"""A reasoning dataset we generate ourselves: multi-step arithmetic word problems and ordering
puzzles with known answers, at several difficulty levels (no downloads)."""

from __future__ import annotations

import random
from dataclasses import dataclass

_PEOPLE = ["Mia", "Noah", "Ava", "Liam", "Zoe", "Omar", "Lena", "Ravi", "Iris", "Theo", "Nora", "Kai"]
_THINGS = ["marbles", "stickers", "apples", "coins", "books", "pencils", "shells", "cards"]


@dataclass(frozen=True)
class Problem:
    """One problem.

    Args:
        id: Stable id (kind, difficulty, index).
        kind: "arithmetic" or "ordering".
        difficulty: Number of reasoning steps (1 = easiest).
        question: The problem text.
        answer: The correct final answer (a whole number or a name).
    """

    id: str
    kind: str
    difficulty: int
    question: str
    answer: str


def _arithmetic(rng: random.Random, steps: int, index: int) -> Problem:
    person, thing = rng.choice(_PEOPLE), rng.choice(_THINGS)
    value = rng.randint(3, 20)
    sentences = [f"{person} has {value} {thing}."]
    for _ in range(steps):
        op = rng.choice(["buy", "give", "double", "packs"])
        if op == "buy":
            n = rng.randint(2, 15)
            value += n
            sentences.append(f"Then {person} gets {n} more {thing}.")
        elif op == "give" and value > 2:
            n = rng.randint(1, value - 1)
            value -= n
            sentences.append(f"Then {person} gives away {n} {thing}.")
        elif op == "double" and value < 60:
            value *= 2
            sentences.append(f"Then the number of {thing} {person} has doubles.")
        else:
            packs, each = rng.randint(2, 4), rng.randint(2, 6)
            value += packs * each
            sentences.append(f"Then {person} buys {packs} packs with {each} {thing} in each pack.")
    question = " ".join(sentences) + f" How many {thing} does {person} have now?"
    return Problem(f"arithmetic/d{steps}/{index}", "arithmetic", steps, question, str(value))


def _ordering(rng: random.Random, steps: int, index: int) -> Problem:
    people = rng.sample(_PEOPLE, steps + 1)  # tallest first
    facts = [f"{a} is taller than {b}." for a, b in zip(people, people[1:])]
    rng.shuffle(facts)
    ask_tallest = rng.random() < 0.5
    question = " ".join(facts) + (" Who is the tallest?" if ask_tallest else " Who is the shortest?")
    return Problem(f"ordering/d{steps}/{index}", "ordering", steps, question, people[0] if ask_tallest else people[-1])


def reasoning_problems(n: int, *, seed: int = 0, difficulties: tuple[int, ...] = (2, 3, 4)) -> list[Problem]:
    """n problems, alternating kinds and cycling through difficulties, reproducible from the seed.

    Args:
        n: Number of problems.
        seed: Random seed.
        difficulties: Steps per problem to cycle through.
    """
    rng = random.Random(seed)
    problems = []
    for i in range(n):
        steps = difficulties[(i // 2) % len(difficulties)]
        problems.append((_arithmetic if i % 2 == 0 else _ordering)(rng, steps, i))
    return problems
