#!/usr/bin/env python3
"""Train the demo SLM and LLM (qwen3 architecture) on the synthetic task, evaluate, export GGUF.

What it is for: making models/demo/{slm,llm}.gguf, bench.jsonl, the loss curves and the numbers
in models/demo/README.md, deterministically from --seed, offline, on CPU (Debian python3-torch).
Run it under `nice`, with OPENBLAS_CORETYPE naming the CPU's kernel family (OpenBLAS 0.3.21
misdetects these CPUs otherwise): SKYLAKEX with AVX-512, HASWELL with AVX2 only
(SKYLAKEX there dies of an illegal instruction):
  OPENBLAS_CORETYPE=SKYLAKEX nice -n 15 /usr/bin/python3 tools/demo/train.py [--stages ...]
Stages (default all, in order): data (problems, tokenizer, bench.jsonl), train (both models,
checkpoints in models/demo/work/), eval (torch accuracy on the benchmark, greedy),
export (GGUF files), plot (curves CSV + SVG), steps (per-step first-token entropy statistics by
kind of step, on the held-out traces),
tokcases (tokenizer_cases.jsonl: texts with their token ids, for the engine's tokenizer tests).
Each stage reads what earlier stages wrote, so a stage can be rerun alone.
Failure modes: exits with a Python exception (missing checkpoint, I/O error); nothing partial is
written over a committed file except by the stage that owns it.
"""
import argparse
import ctypes
import json
import math
import os
import random
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import export_gguf  # noqa: E402
import gen_task  # noqa: E402
from model import Config, Qwen3  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "models", "demo")
WORK = os.path.join(OUT, "work")

# Model shapes. n_vocab is filled in from the tokenizer.
SHAPES = {
    "slm": dict(n_embd=128, n_layer=3, n_head=4, n_head_kv=2, head_dim=32, n_ff=384),
    "llm": dict(n_embd=256, n_layer=8, n_head=8, n_head_kv=2, head_dim=32, n_ff=768),
}
TRAIN = {  # batch in examples; cycles of (steps, peak lr), each a warmup + cosine decay
    "slm": dict(batch=32, cycles=[(1200, 3e-3)]),
    "llm": dict(batch=32, cycles=[(2000, 2.5e-3), (1000, 8e-4), (1000, 5e-4)]),
}
WARMUP = 100  # steps at the start of each cycle
N_TRAIN, N_HELDOUT, N_BENCH, N_MERGES = 60000, 256, 500, 1000


def keep_freed_memory():
    """Keep freed memory in the process instead of returning it to the kernel: every training
    step allocates tensors of tens of MB, which glibc would otherwise map afresh each time, and
    on virtual machines the page faults of that fresh memory cost more than the arithmetic
    (measured, 8 float32 LLM steps: 84 -> 27 s of system time)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(-4, 0)          # M_MMAP_MAX: no mmap'd chunks, everything from the heap
    libc.mallopt(-1, 1 << 40)    # M_TRIM_THRESHOLD: never give the heap's top back
    libc.mallopt(-2, 1 << 30)    # M_TOP_PAD: grow the heap in 1 GB steps


def native_bf16():
    """Whether this CPU has BF16 dot products (AVX-512 BF16): training then runs its matrix
    products in bfloat16 (autocast; weights, optimiser and loss stay float32), about twice as
    fast; elsewhere bfloat16 would be emulated and slower, so training stays float32."""
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512_bf16" in f.read()
    except OSError:
        return False


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---- data -------------------------------------------------------------------------------------

def stage_data(seed):
    """Problems (train / held-out / bench, disjoint questions), tokenizer, bench.jsonl.

    Training and held-out traces carry an arithmetic slip and its correction at
    gen_task.SLIP_RATE; the slipped digits are kept out of the loss ("slips" below: token
    indices per sequence). The benchmark's reference traces are clean."""
    bench = gen_task.make_split(seed * 1000 + 1, N_BENCH)
    taken = frozenset(p.question for p in bench)
    train = gen_task.make_split(seed * 1000 + 2, N_TRAIN + N_HELDOUT, exclude=taken,
                                slip_rate=gen_task.SLIP_RATE)
    rendered = [gen_task.render_chat_spans(p) for p in train]
    texts = [t for t, _ in rendered]
    tok = bpe.Tokenizer(bpe.train(texts[:5000], N_MERGES))
    os.makedirs(WORK, exist_ok=True)
    gen_task.write_bench(bench, os.path.join(OUT, "bench.jsonl"))
    seqs, starts, slips = [], [], []
    for p, (t, spans) in zip(train, rendered):
        ids = tok.encode(t)
        head = gen_task.render_prompt(p.question)[:-len("<think>\n")]
        seqs.append(ids)
        starts.append(len(tok.encode(head)))
        slips.append(token_indices(tok, ids, spans))
    torch.save({"merges": tok.merges, "seqs": seqs, "starts": starts, "slips": slips,
                "heldout": [(p.question, p.steps, p.answer_text, p.answer)
                            for p in train[N_TRAIN:]],
                "bench": [(p.question, p.steps, p.answer_text, p.answer) for p in bench]},
               os.path.join(WORK, "data.pt"))
    with open(os.path.join(WORK, "train_texts_sample.txt"), "w") as f:
        f.write("\n\x00\n".join(texts[:200]))
    log(f"data: vocab {len(tok.tokens)} ({len(tok.merges)} merges), {len(seqs)} train+heldout "
        f"examples, mean {np.mean([len(s) for s in seqs]):.1f} tokens, bench {len(bench)}")


def token_indices(tok, ids, spans):
    """Indices of the tokens of ids (an encoding of ASCII text) inside the character spans."""
    out, pos = [], 0
    for i, t in enumerate(ids):
        n = len(tok.tokens[t])          # byte-level symbols: one per character of ASCII text
        if any(a <= pos and pos + n <= b for a, b in spans):
            out.append(i)
        pos += n
    return out


def load_data():
    d = torch.load(os.path.join(WORK, "data.pt"))
    return d, bpe.Tokenizer(d["merges"])


def make_config(kind, tok):
    return Config(n_vocab=len(tok.tokens), **SHAPES[kind])


def batch_tensors(seqs, starts, slips, idx, pad):
    """Pad sequences idx to one length: inputs (B, T), targets (B, T) with -100 where masked
    (the user turn, padding and slipped digits)."""
    T = max(len(seqs[i]) for i in idx) - 1
    x = torch.full((len(idx), T), pad, dtype=torch.long)
    y = torch.full((len(idx), T), -100, dtype=torch.long)
    for r, i in enumerate(idx):
        s = torch.tensor(seqs[i], dtype=torch.long)
        n = len(s) - 1
        x[r, :n] = s[:-1]
        y[r, :n] = s[1:]
        y[r, :starts[i] - 1] = -100   # no loss on the user turn
        for j in slips[i]:
            y[r, j - 1] = -100         # nor on a slip: the models learn to correct, not to slip
    return x, y


def length_batches(seqs, rng, n, batch, group=64):
    """One epoch over examples 0..n-1 in batches: a random order, cut into groups of `group`
    batches whose examples are sorted by length (little padding), then the batches shuffled."""
    order = rng.permutation(n)
    out = []
    for g in range(0, n - batch + 1, batch * group):
        chunk = sorted(order[g:g + batch * group], key=lambda i: len(seqs[i]))
        out += [chunk[k:k + batch] for k in range(0, len(chunk) - batch + 1, batch)]
    return [out[i] for i in rng.permutation(len(out))]


# ---- train ------------------------------------------------------------------------------------

def stage_train(kind, seed):
    """Train one model: AdamW (betas 0.9/0.95, weight decay 0.1 on matrices, gradient clip
    1.0) over TRAIN[kind]'s cycles, each WARMUP steps of warmup to its peak lr, then cosine decay
    to 10% of that peak (a later cycle is a warm restart); data order from numpy
    RandomState(seed).

    The checkpoint models/demo/work/<kind>.pt (weights, optimiser, data order and position,
    torch RNG) is written every 100 steps; a rerun resumes from it exactly where it stopped,
    also when cycles were appended to TRAIN[kind] since (the schedule of a step depends only on
    the cycles up to it, so the result is that of one uninterrupted run).
    """
    d, tok = load_data()
    cfg = make_config(kind, tok)
    hp = TRAIN[kind]
    steps = sum(n for n, _ in hp["cycles"])
    path = os.path.join(WORK, f"{kind}.pt")
    torch.manual_seed(seed)
    model = Qwen3(cfg)
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": other, "weight_decay": 0.0}],
                            lr=hp["cycles"][0][1], betas=(0.9, 0.95))
    seqs, starts, slips = d["seqs"], d["starts"], d["slips"]
    n_train = len(seqs) - N_HELDOUT
    held = list(range(n_train, len(seqs)))
    pad = tok.id_of["<|endoftext|>"]
    rng = np.random.RandomState(seed)
    curve, train_s, done = [], 0.0, 0
    batches, pos = length_batches(seqs, rng, n_train, hp["batch"]), 0
    if os.path.exists(path):
        ck = torch.load(path, weights_only=False)
        if ck["cfg"] == cfg.as_dict() and resumable(ck["hp"], hp):
            model.load_state_dict(ck["state"])
            opt.load_state_dict(ck["opt"])
            rng.set_state(ck["rng"])
            torch.set_rng_state(ck["torch_rng"])
            curve, train_s, done = ck["curve"], ck["train_s"], ck["steps_done"]
            batches, pos = ck["batches"], ck["pos"]
            log(f"train {kind}: resuming after step {done}")
    mixed = native_bf16()
    log(f"train {kind}: {model.n_params()} params, {steps} steps x {hp['batch']} examples, "
        f"cycles (steps, peak lr) {hp['cycles']}, products in {'bfloat16' if mixed else 'float32'}")
    t0 = time.time() - train_s
    for step in range(done + 1, steps + 1):
        lr = scheduled_lr(hp["cycles"], step)
        for g in opt.param_groups:
            g["lr"] = lr
        if pos == len(batches):
            batches, pos = length_batches(seqs, rng, n_train, hp["batch"]), 0
        x, y = batch_tensors(seqs, starts, slips, batches[pos], pad)
        pos += 1
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mixed):
            logits = model(x)
        loss = F.cross_entropy(logits.float().reshape(-1, cfg.n_vocab), y.reshape(-1),
                               ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        row = {"step": step, "train_loss": loss.item(), "lr": lr, "time_s": time.time() - t0}
        if step % 100 == 0 or step == steps:
            row["heldout_loss"] = heldout_loss(model, seqs, starts, slips, held, pad, cfg)
            log(f"{kind} step {step} loss {row['train_loss']:.4f} "
                f"held-out {row['heldout_loss']:.4f} ({row['time_s']:.0f} s)")
        curve.append(row)
        if step % 100 == 0 or step == steps:
            tmp = path + ".tmp"
            torch.save({"cfg": cfg.as_dict(), "hp": dict(hp, cycles=cycles_until(hp, step)),
                        "state": model.state_dict(),
                        "opt": opt.state_dict(), "rng": rng.get_state(),
                        "torch_rng": torch.get_rng_state(), "batches": batches, "pos": pos,
                        "curve": curve, "train_s": row["time_s"], "steps_done": step,
                        "n_params": model.n_params()}, tmp)
            os.replace(tmp, path)


def scheduled_lr(cycles, step):
    """The lr of step (1-based): warmup, then cosine decay to 10% of the peak, cycle by cycle."""
    for n, peak in cycles:
        if step <= n:
            warm = min(1.0, step / WARMUP)
            return peak * warm * (0.1 + 0.45 * (1 + math.cos(math.pi * step / n)))
        step -= n
    raise ValueError("step beyond the last cycle")


def cycles_until(hp, step):
    """The cycles that step (1-based) has started: what a checkpoint at that step has seen."""
    out, end = [], 0
    for c in hp["cycles"]:
        if end >= step:
            break
        out.append(c)
        end += c[0]
    return out


def resumable(saved, hp):
    """A checkpoint trained with saved continues under hp: same batch, saved's cycles a prefix
    of hp's (a finished run resumes into cycles appended since)."""
    cyc = [tuple(c) for c in saved["cycles"]]
    return saved["batch"] == hp["batch"] and cyc == [tuple(c) for c in hp["cycles"][:len(cyc)]]


@torch.no_grad()
def heldout_loss(model, seqs, starts, slips, held, pad, cfg):
    tot, n = 0.0, 0
    for i in range(0, len(held), 64):
        x, y = batch_tensors(seqs, starts, slips, held[i:i + 64], pad)
        lg = model(x)
        tot += F.cross_entropy(lg.reshape(-1, cfg.n_vocab), y.reshape(-1), ignore_index=-100,
                               reduction="sum").item()
        n += (y != -100).sum().item()
    return tot / n


def load_model(kind, f16=True):
    """The trained model; with f16, matrices rounded to F16 exactly as exported."""
    ck = torch.load(os.path.join(WORK, f"{kind}.pt"))
    cfg = Config(**ck["cfg"])
    model = Qwen3(cfg)
    state = ck["state"]
    if f16:
        state = {k: (v.half().float() if v.dim() == 2 else v) for k, v in state.items()}
    model.load_state_dict(state)
    model.eval()
    return model, ck


# ---- eval -------------------------------------------------------------------------------------

@torch.no_grad()
def generate(model, prompts, stop_id, pad_id, max_new):
    """Greedy decoding after each prompt (lists of ids), all rows at once with a KV cache.

    Prompts are left-padded; each row keeps its own RoPE positions (0 at its first token) and
    never attends to padding.
    Returns, per row, the new token ids up to and including stop_id.
    """
    B, L = len(prompts), max(len(p) for p in prompts)
    lens = torch.tensor([len(p) for p in prompts])
    x = torch.full((B, L), pad_id, dtype=torch.long)
    for r, p in enumerate(prompts):
        x[r, L - len(p):] = torch.tensor(p)
    pos = (torch.arange(L)[None, :] - (L - lens)[:, None]).clamp_min(0)        # (B, L)
    valid = pos.new_ones(B, L, dtype=torch.bool) & (torch.arange(L)[None, :] >= (L - lens)[:, None])
    allowed = torch.ones(L, L, dtype=torch.bool).tril()[None] & valid[:, None, :]
    allowed |= torch.eye(L, dtype=torch.bool)[None]     # padding rows attend to themselves
    neg = torch.tensor(float("-inf"))
    mask = torch.where(allowed, torch.tensor(0.0), neg)[:, None]             # (B, 1, L, L)
    caches = [dict() for _ in model.blocks]
    logits = model(x, caches, pos, mask)[:, -1]
    cur = lens.clone()
    out = [[] for _ in range(B)]
    done = torch.zeros(B, dtype=torch.bool)
    for _ in range(max_new):
        t = torch.argmax(logits, -1)
        for r in range(B):
            if not done[r]:
                out[r].append(int(t[r]))
                done[r] = t[r] == stop_id
        if bool(done.all()) or int(cur.max()) + 1 >= model.cfg.n_ctx:
            break
        valid = torch.cat([valid, torch.ones(B, 1, dtype=torch.bool)], 1)
        mask = torch.where(valid, torch.tensor(0.0), neg)[:, None, None, :]   # (B, 1, 1, S)
        logits = model(t[:, None], caches, cur[:, None], mask)[:, -1]
        cur += 1
    return out


BOXED = re.compile(r"\\boxed\{(-?\d+)\}")


def boxed_answer(text):
    m = BOXED.findall(text)
    return int(m[-1]) if m else None


def accuracy(model, tok, bench):
    """Greedy: fraction of benchmark problems whose last \\boxed{} equals the answer; mean new
    tokens."""
    prompts = [tok.encode(gen_task.render_prompt(q)) for q, _, _, _ in bench]
    outs = []
    for i in range(0, len(prompts), 50):
        outs += generate(model, prompts[i:i + 50], tok.id_of["<|im_end|>"],
                         tok.id_of["<|endoftext|>"], 400)
    right = sum(boxed_answer(tok.decode(o)) == b[3] for o, b in zip(outs, bench))
    return right / len(bench), sum(len(o) for o in outs) / len(bench)


def stage_eval():
    """Greedy accuracy in torch (the engine's `glimp eval --temp 0` must match it; sampled
    accuracy is the demo's own run, through the engine)."""
    d, tok = load_data()
    res = {}
    for kind in ("slm", "llm"):
        model, ck = load_model(kind)
        g, n_tok = accuracy(model, tok, d["bench"])
        res[kind] = {"acc_greedy": g, "mean_tokens": n_tok,
                     "n_params": ck["n_params"], "train_s": ck["train_s"],
                     "final_heldout_loss": ck["curve"][-1]["heldout_loss"], "cfg": ck["cfg"],
                     "hp": ck["hp"]}
        log(f"eval {kind}: greedy {g:.3f}, {n_tok:.0f} tokens/problem")
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(res, f, indent=1)


# ---- export -----------------------------------------------------------------------------------

def stage_export():
    _, tok = load_data()
    for kind in ("slm", "llm"):
        model, ck = load_model(kind, f16=False)
        state = {k: v.numpy() for k, v in model.state_dict().items()}
        path = os.path.join(OUT, f"{kind}.gguf")
        export_gguf.export(path, f"glimp-demo-{kind}", model.cfg, state, tok)
        log(f"export {path}: {os.path.getsize(path)} bytes")


# ---- plot -------------------------------------------------------------------------------------

def stage_plot():
    curves = {k: torch.load(os.path.join(WORK, f"{k}.pt"))["curve"] for k in ("slm", "llm")}
    with open(os.path.join(OUT, "curves.csv"), "w") as f:
        f.write("model,step,train_loss,heldout_loss,lr,time_s\n")
        for k, c in curves.items():
            for r in c:
                h = r.get("heldout_loss")
                f.write(f"{k},{r['step']},{r['train_loss']:.5f},{'' if h is None else f'{h:.5f}'},"
                        f"{r['lr']:.6g},{r['time_s']:.1f}\n")
    write_svg(curves, os.path.join(OUT, "curves.svg"))


def write_svg(curves, path):
    """Loss (log scale) against training step, one smoothed train line + held-out dots per model."""
    W, H, L, B = 640, 360, 60, 40
    steps = max(r["step"] for c in curves.values() for r in c)
    lo, hi = math.log10(0.005), math.log10(5.0)

    def xy(step, loss):
        y = (math.log10(max(loss, 0.005)) - lo) / (hi - lo)
        return L + (W - L - 20) * step / steps, H - B - (H - B - 20) * y

    colors = {"slm": "#d95f02", "llm": "#1b9e77"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    for v in (0.01, 0.1, 1.0):
        _, y = xy(0, v)
        out.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - 20}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    for s in range(0, steps + 1, max(1, steps // 6 // 100 * 100)):
        x, _ = xy(s, 1)
        out.append(f'<text x="{x:.1f}" y="{H - B + 16}" text-anchor="middle">{s}</text>')
    out.append(f'<text x="{W / 2}" y="{H - 6}" text-anchor="middle">training step</text>')
    out.append(f'<text x="14" y="{H / 2}" transform="rotate(-90 14 {H / 2})" text-anchor="middle">loss (nats/token, log scale)</text>')
    for i, (k, c) in enumerate(curves.items()):
        pts, acc = [], []
        for r in c:
            acc.append(r["train_loss"])
            if r["step"] % 10 == 0:
                pts.append(xy(r["step"], sum(acc) / len(acc)))
                acc = []
        out.append(f'<polyline fill="none" stroke="{colors[k]}" stroke-width="1.5" points="'
                   + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        for r in c:
            if "heldout_loss" in r:
                x, y = xy(r["step"], r["heldout_loss"])
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colors[k]}"/>')
        out.append(f'<text x="{W - 30}" y="{30 + 16 * i}" text-anchor="end" fill="{colors[k]}">'
                   f'{k.upper()}: train (line), held-out (dots)</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ---- steps ------------------------------------------------------------------------------------

DECISION = re.compile(r"^\w+ has (more|fewer)(,| since)")


def step_kind(step, previous):
    """decision (a name chosen by comparing amounts), self-check (the step after a slip:
    "Wait, ..."), after-clean (the step after an arithmetic step without a slip, where a
    "Wait" would be wrong) or other."""
    if DECISION.match(step):
        return "decision"
    if step.startswith("Wait"):
        return "self-check"
    if previous is not None and gen_task.ARITH.search(previous):
        return "after-clean"
    return "other"


@torch.no_grad()
def stage_steps():
    """On the held-out traces (arithmetic slips at the training rate), at the start of every
    thinking step: each model's first-token entropy (top-20 renormalised, natural log, as the
    router's default estimator) and whether its top-1 token is the reference one, by kind of
    step (step_kind)."""
    d, tok = load_data()
    models = [load_model(k)[0] for k in ("slm", "llm")]
    rows = {}
    for q, steps, answer_text, _ in d["heldout"]:
        plain = [s.replace(gen_task.SLIP_OPEN, "").replace(gen_task.SLIP_CLOSE, "") for s in steps]
        prefix, starts = gen_task.render_prompt(q), []
        for s in plain:
            starts.append(len(tok.encode(prefix)))
            prefix += s + "\n\n"
        ids = tok.encode(gen_task.render_chat(gen_task.Problem(q, plain, answer_text, 0)))
        logits = [m(torch.tensor([ids]))[0] for m in models]
        for k, (s, i) in enumerate(zip(plain, starts)):
            row = []
            for lg in logits:
                top = torch.topk(torch.softmax(lg[i - 1].double(), -1), 20).values
                top = top / top.sum()
                row += [float(-(top * top.log()).sum()), int(torch.argmax(lg[i - 1])) == ids[i]]
            rows.setdefault(step_kind(s, plain[k - 1] if k else None), []).append(row)
    res = {}
    for k, r in sorted(rows.items()):
        a = np.array(r, dtype=float)
        res[k] = {"n_steps": len(r), "slm_h_init_mean": a[:, 0].mean(),
                  "slm_h_init_median": float(np.median(a[:, 0])),
                  "slm_first_token_top1_ok": a[:, 1].mean(), "llm_h_init_mean": a[:, 2].mean(),
                  "llm_first_token_top1_ok": a[:, 3].mean()}
        log(f"steps {k}: {res[k]}")
    with open(os.path.join(OUT, "steps.json"), "w") as f:
        json.dump(res, f, indent=1)


def stage_tokcases():
    """models/demo/tokenizer_cases.jsonl: texts and their token ids (for the C tokenizer tests)."""
    d, tok = load_data()
    texts = [gen_task.render_chat(gen_task.Problem(q, s, t, 0)) for q, s, t, _ in d["bench"][:10]]
    texts += [gen_task.render_prompt(q) + "".join(x + "\n\n" for x in s[:2])
              for q, s, _, _ in d["bench"][10:20]]
    with open(os.path.join(OUT, "tokenizer_cases.jsonl"), "w") as f:
        for t in texts:
            f.write(json.dumps({"text": t, "ids": tok.encode(t)}) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stages", default="data,train,eval,export,plot,steps,tokcases")
    ap.add_argument("--models", default="slm,llm", help="models for the train stage")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    keep_freed_memory()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    for st in args.stages.split(","):
        if st == "data":
            stage_data(args.seed)
        elif st == "train":
            for kind in args.models.split(","):
                stage_train(kind, args.seed)
        elif st == "eval":
            stage_eval()
        elif st == "export":
            stage_export()
        elif st == "plot":
            stage_plot()
        elif st == "steps":
            stage_steps()
        elif st == "tokcases":
            stage_tokcases()
        else:
            sys.exit(f"unknown stage {st}")


if __name__ == "__main__":
    main()
