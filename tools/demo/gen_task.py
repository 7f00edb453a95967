#!/usr/bin/env python3
"""Synthetic reasoning task for the demo model pair: two people trade items, with decisions.

What it is for: GlimpRouter needs a task whose reasoning steps differ in difficulty the way
real reasoning does. Each problem is a short word problem about two people and one kind of item
(coins, marbles, ...). The solution is written like a reasoning model's trace: one step per fact
or event, separated by blank lines, then `</think>` and a final `\\boxed{N}` answer.

Kinds of steps (this is the design, fixed before training, not tuned to any router result):
  * restating a starting amount ("Ava starts with 23 coins.") -- routine copying;
  * applying an event ("Ava finds 15, so Ava has 23 + 15 = 38 coins.") -- begins predictably
    (the actor, copied from the question in order) but contains small arithmetic mid-step;
  * both amounts ("Now Ava has 38 coins and Ben has 24 coins.") -- routine, always just before
    a decision, so the decision's first token follows from what was just written;
  * deciding who has more or fewer ("Ava has more, since 38 > 24.") -- the FIRST token is the
    decision (a name), like a pivot step in real reasoning whose direction is chosen at its
    start;
  * the closing step (a copy, a sum, or a difference; the difference begins with a decision);
  * self-checks: with probability slip_rate (SLIP_RATE in training) one arithmetic result of
    the trace is written wrong (off by 1, 2 or 10; marked, so training leaves it out of the
    loss) and the next step corrects it ("Wait, 8 * 7 is 56, not 46."): whether a step starts
    with "Wait" depends on whether the step before was right.

All randomness comes from a `random.Random(seed)`; the same seed gives the same problems.
Failure modes: none at run time beyond Python exceptions on bad arguments (argparse).

Usage as a script:  gen_task.py --seed 1 --n 3        # prints rendered examples
"""
import argparse
import json
import random
import re

NAMES = ["Ava", "Ben", "Mia", "Leo", "Zoe", "Sam", "Eva", "Max", "Lily", "Noah",
         "Emma", "Jack", "Ruby", "Owen", "Nina", "Theo", "Iris", "Omar", "Rosa", "Finn"]
ITEMS = ["coins", "marbles", "stickers", "apples", "cards", "stamps", "shells", "beads",
         "pencils", "cookies"]
CONTAINERS = ["bags", "boxes", "jars", "packs"]
MAX_VALUE = 99           # every running amount stays in 1..MAX_VALUE
SLIP_RATE = 0.3          # share of training traces with one arithmetic slip and its correction
SLIP_OPEN, SLIP_CLOSE = "\x01", "\x02"   # mark a slipped number inside a step (never rendered)


class Problem:
    """One problem: question text, reasoning steps, final answer text and integer answer.

    A step may hold one slipped number between SLIP_OPEN and SLIP_CLOSE; render_chat drops the
    marks and reports where the slipped characters are, so training can leave them out of the
    loss (the models learn to catch slips, not to make them)."""

    def __init__(self, question, steps, answer_text, answer):
        self.question = question        # str, the user's message
        self.steps = steps              # list[str], thinking steps without "\n\n"
        self.answer_text = answer_text  # str, text after </think>, contains \boxed{answer}
        self.answer = answer            # int


def _start(rng, name, item):
    """A starting amount: plain, or k containers of m. Returns (sentence, step, value)."""
    if rng.random() < 0.5:
        n = rng.randint(10, 50)
        return f"{name} has {n} {item}.", f"{name} starts with {n} {item}.", n
    k, m = rng.randint(2, 9), rng.randint(2, 9)
    box = rng.choice(CONTAINERS)
    return (f"{name} has {k} {box} with {m} {item} in each.",
            f"{name} has {k} {box} of {m}, so {name} starts with {k} * {m} = {k * m} {item}.",
            k * m)


def _event(rng, who, other, have, item):
    """A random event for `who` that keeps amounts in range.

    Returns (sentence, steps, new amounts dict) or None when no event fits.
    """
    a, b = have[who], have[other]
    kind = rng.choice(["find", "lose", "buy", "give"])
    if kind == "find":
        n = rng.randint(3, 30)
        if a + n > MAX_VALUE:
            return None
        return (f"{who} finds {n} more {item}.",
                [f"{who} finds {n}, so {who} has {a} + {n} = {a + n} {item}."],
                {who: a + n, other: b})
    if kind == "lose":
        if a <= 5:
            return None
        n = rng.randint(2, min(30, a - 1))
        return (f"{who} loses {n} {item}.",
                [f"{who} loses {n}, so {who} has {a} - {n} = {a - n} {item}."],
                {who: a - n, other: b})
    if kind == "buy":
        k, m = rng.randint(2, 5), rng.randint(2, 9)
        if a + k * m > MAX_VALUE:
            return None
        box = rng.choice(CONTAINERS)
        return (f"{who} buys {k} {box} with {m} {item} in each.",
                [f"{who} buys {k} {box} of {m}, which is {k} * {m} = {k * m} {item}.",
                 f"{who} now has {a} + {k * m} = {a + k * m} {item}."],
                {who: a + k * m, other: b})
    if a <= 5:
        return None
    n = rng.randint(2, min(20, a - 1))
    if b + n > MAX_VALUE:
        return None
    return (f"{who} gives {n} {item} to {other}.",
            [f"{who} gives {n} to {other}, so {who} has {a} - {n} = {a - n} {item}.",
             f"{other} gets {n}, so {other} has {b} + {n} = {b + n} {item}."],
            {who: a - n, other: b + n})


def _both(x, y, have, item):
    """The step before every decision: both amounts, copied from earlier steps."""
    return f"Now {x} has {have[x]} {item} and {y} has {have[y]} {item}."


def _whoever(rng, x, y, have, item):
    """'Whoever has more/fewer ...' rule: both amounts, the decision, then its transfer steps."""
    if have[x] == have[y]:
        return None
    more = rng.random() < 0.5
    hi, lo = (x, y) if have[x] > have[y] else (y, x)
    n = rng.randint(2, 20)
    if have[hi] <= n or have[lo] + n > MAX_VALUE:
        return None
    if more:
        sentence = f"Whoever has more {item} gives {n} to the other."
        decide = f"{hi} has more, since {have[hi]} > {have[lo]}."
    else:
        sentence = f"Whoever has fewer {item} gets {n} from the other."
        decide = f"{lo} has fewer, since {have[lo]} < {have[hi]}."
    g, t = have[hi], have[lo]   # either way the one with more gives to the one with fewer
    steps = [_both(x, y, have, item), decide,
             f"{hi} gives {n} to {lo}, so {hi} has {g} - {n} = {g - n} {item}.",
             f"{lo} gets {n}, so {lo} has {t} + {n} = {t + n} {item}."]
    return sentence, steps, {hi: g - n, lo: t + n}


def _ending(rng, x, y, have, item):
    """The question asked and its closing steps. Returns (question, steps, answer, text)."""
    kind = rng.choice(["one", "together", "difference"])
    if kind == "one":
        who = rng.choice([x, y])
        n = have[who]
        return (f"How many {item} does {who} have now?",
                [f"So {who} has {n} {item} in the end."], n,
                f"{who} has {n} {item}. The answer is \\boxed{{{n}}}.")
    if kind == "together":
        s = have[x] + have[y]
        return (f"How many {item} do {x} and {y} have together?",
                [f"Together they have {have[x]} + {have[y]} = {s} {item}."], s,
                f"Together they have {s} {item}. The answer is \\boxed{{{s}}}.")
    if have[x] == have[y]:
        return None
    hi, lo = (x, y) if have[x] > have[y] else (y, x)
    d = have[hi] - have[lo]
    return (f"How many more {item} does the one with more have?",
            [_both(x, y, have, item),
             f"{hi} has more, so the difference is {have[hi]} - {have[lo]} = {d} {item}."], d,
            f"{hi} has {d} more {item}. The answer is \\boxed{{{d}}}.")


ARITH = re.compile(r"(\d+) ([-+*]) (\d+) = (\d+)")


def _slip(rng, steps):
    """Make one arithmetic result wrong (marked) and follow it with the correcting step."""
    at = [i for i, s in enumerate(steps) if ARITH.search(s)]
    i = rng.choice(at)
    m = ARITH.search(steps[i])
    right = int(m.group(4))
    wrong = right + rng.choice([-10, -2, -1, 1, 2, 10])
    if wrong < 0:
        wrong = right + 1
    s = steps[i]
    slipped = s[:m.start(4)] + SLIP_OPEN + str(wrong) + SLIP_CLOSE + s[m.end(4):]
    fix = f"Wait, {m.group(1)} {m.group(2)} {m.group(3)} is {right}, not {wrong}."
    return steps[:i] + [slipped, fix] + steps[i + 1:]


def make_problem(rng, slip_rate=0.0):
    """Draw one problem; retries internally until every constraint holds. With probability
    slip_rate its trace carries one arithmetic slip and the step that corrects it."""
    while True:
        x, y = rng.sample(NAMES, 2)
        item = rng.choice(ITEMS)
        sx, stx, vx = _start(rng, x, item)
        sy, sty, vy = _start(rng, y, item)
        have = {x: vx, y: vy}
        sentences, steps = [sx, sy], [stx, sty]
        n_events = rng.randint(1, 3)
        rule_at = rng.randint(0, n_events) if rng.random() < 0.75 else -1
        ok = True
        for i in range(n_events + 1):
            if i == rule_at:
                r = _whoever(rng, x, y, have, item)
            elif i < n_events:
                who = rng.choice([x, y])
                r = _event(rng, who, y if who == x else x, have, item)
            else:
                continue
            if r is None:
                ok = False
                break
            sentences.append(r[0])
            steps.extend(r[1])
            have.update(r[2])
        if not ok:
            continue
        end = _ending(rng, x, y, have, item)
        if end is None:
            continue
        question, last, answer, text = end
        steps += last
        if rng.random() < slip_rate:
            steps = _slip(rng, steps)
        return Problem(" ".join(sentences + [question]), steps, text, answer)


def render_chat_spans(p):
    """The exact text the engine's qwen3 (ChatML) template gives for a solved problem, and the
    (start, end) character spans of slipped numbers in it."""
    text = (f"<|im_start|>user\n{p.question}<|im_end|>\n<|im_start|>assistant\n<think>\n"
            + "\n\n".join(p.steps) + f"\n</think>\n\n{p.answer_text}<|im_end|>")
    spans = []
    while SLIP_OPEN in text:
        a = text.index(SLIP_OPEN)
        b = text.index(SLIP_CLOSE)
        text = text[:a] + text[a + 1:b] + text[b + 1:]
        spans.append((a, b - 1))
    return text, spans


def render_chat(p):
    """render_chat_spans without the spans."""
    return render_chat_spans(p)[0]


def render_prompt(question):
    """The generation prompt: user turn, then the assistant turn opened with <think>."""
    return f"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n<think>\n"


def make_split(seed, n, exclude=frozenset(), slip_rate=0.0):
    """n problems from `seed`, skipping questions in `exclude` and duplicates."""
    rng = random.Random(seed)
    out, seen = [], set(exclude)
    while len(out) < n:
        p = make_problem(rng, slip_rate)
        if p.question in seen:
            continue
        seen.add(p.question)
        out.append(p)
    return out


def write_bench(problems, path):
    """Benchmark JSONL: {"id", "question", "answer"} per line, answer an integer."""
    with open(path, "w") as f:
        for i, p in enumerate(problems):
            f.write(json.dumps({"id": f"demo-{i:03d}", "question": p.question,
                                "answer": p.answer}) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=3)
    ap.add_argument("--slip-rate", type=float, default=SLIP_RATE)
    args = ap.parse_args()
    for p in make_split(args.seed, args.n, slip_rate=args.slip_rate):
        print(render_chat(p))
        print("-" * 60)


if __name__ == "__main__":
    main()
