#!/usr/bin/env python3
"""Check the exported demo GGUF files against torch, with an independent float64 forward pass.

What it is for: proving that models/demo/{slm,llm}.gguf compute what the trained torch models
compute. For each model it tokenizes one benchmark problem with its reference solution, runs
the torch model (weights rounded to F16 as exported) and writes the logits of every position as
an LGT1 file in models/demo/work/, then runs the shared reference forward pass
(`$GLIMP_SHARED/ref/tools/ref_forward.py compare`, float64 numpy on the GGUF as read by gguf-py)
in place and prints its max/mean difference and argmax agreement.
Needs: GGUF_PY pointing at a gguf-py checkout (never part of this project), and the shared
reference folder (GLIMP_SHARED, default ../shared next to the repository).
Failure modes: exits non-zero with a message when a file or tool is missing, or when the
difference exceeds --tol (default 0.01, F16 weights and float32 torch vs float64 numpy).
"""
import argparse
import os
import struct
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_task  # noqa: E402
import train  # noqa: E402


def write_lgt(path, toks, logits):
    """LGT1: magic, n_tokens, n_vocab, n_pos, tokens, positions, float32 logits (all positions)."""
    with open(path, "wb") as f:
        f.write(b"LGT1" + struct.pack("<3i", len(toks), logits.shape[1], len(toks)))
        f.write(np.asarray(toks, "<i4").tobytes())
        f.write(np.arange(len(toks), dtype="<i4").tobytes())
        f.write(np.asarray(logits, "<f4").tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problem", type=int, default=0, help="benchmark problem index")
    ap.add_argument("--tol", type=float, default=0.01)
    args = ap.parse_args()
    shared = os.environ.get("GLIMP_SHARED", os.path.join(train.ROOT, "..", "shared"))
    ref = os.path.join(shared, "ref", "tools", "ref_forward.py")
    if not os.path.exists(ref) or not os.environ.get("GGUF_PY"):
        sys.exit(f"check_export: need {ref} and GGUF_PY (a gguf-py checkout)")
    d, tok = train.load_data()
    q, steps, answer_text, _ = d["bench"][args.problem]
    text = gen_task.render_chat(gen_task.Problem(q, steps, answer_text, 0))
    ids = tok.encode(text)
    worst = 0.0
    for kind in ("slm", "llm"):
        model, _ = train.load_model(kind, f16=True)
        with torch.no_grad():
            lg = model(torch.tensor([ids]))[0].numpy()
        lgt = os.path.join(train.WORK, f"{kind}.torch.logits.bin")
        write_lgt(lgt, ids, lg)
        gguf = os.path.join(train.OUT, f"{kind}.gguf")
        out = subprocess.run([sys.executable, ref, "compare", gguf, lgt], check=True,
                             capture_output=True, text=True).stdout.strip()
        print(f"{kind}: {len(ids)} tokens, ref_forward vs torch: {out}")
        worst = max(worst, float(out.split("maxdiff=")[1].split()[0]))
    if worst > args.tol:
        sys.exit(f"check_export: max difference {worst} > {args.tol}")


if __name__ == "__main__":
    main()
