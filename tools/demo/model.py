#!/usr/bin/env python3
"""The qwen3 architecture in torch, as the GGUF format and the engine define it.

What it is for: training the demo SLM/LLM offline (tools/demo/train.py) with exactly the
computation the engine runs on the exported GGUF:
  x = token_embd[tok]
  per layer: h = rmsnorm(x) * attn_norm
             q, k, v = Wq h, Wk h, Wv h          (no biases; GQA: n_head_kv <= n_head)
             q, k = per-head rmsnorm(.) * attn_q_norm / attn_k_norm   (over head_dim)
             q, k = RoPE NeoX style: rotate pairs (i, i + head_dim/2), theta_i = pos * base^(-2i/hd)
             x = x + Wo softmax(q k^T / sqrt(hd) + causal) v
             h = rmsnorm(x) * ffn_norm ; x = x + Wdown (silu(Wgate h) * Wup h)
  logits = token_embd (rmsnorm(x) * output_norm)          (tied output)
Linear weights are torch's [out, in], which is ggml's ne = [in, out] row-major: exported as is.
Failure modes: torch exceptions on shape mismatches (programmer errors).
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    n_vocab: int
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    n_ctx: int = 512
    rope_base: float = 10000.0
    rms_eps: float = 1e-6

    def as_dict(self):
        return asdict(self)


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_tables(cfg, n_pos):
    """cos, sin tables (n_pos, head_dim/2) for NeoX RoPE over the whole head."""
    half = cfg.head_dim // 2
    inv = cfg.rope_base ** (-2.0 * torch.arange(half, dtype=torch.float64) / cfg.head_dim)
    ang = torch.arange(n_pos, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()


def rope_apply(x, cos, sin):
    """x (B, T, H, hd); cos/sin (B, T, hd/2): rotate pairs (i, i + hd/2)."""
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    c, s = cos[:, :, None, :], sin[:, :, None, :]
    return torch.cat([a * c - b * s, a * s + b * c], dim=-1)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, hd = cfg.n_embd, cfg.head_dim
        self.cfg = cfg
        self.attn_norm = nn.Parameter(torch.ones(d))                        # (d)
        self.attn_q = nn.Linear(d, cfg.n_head * hd, bias=False)             # (n_head*hd, d)
        self.attn_k = nn.Linear(d, cfg.n_head_kv * hd, bias=False)          # (n_head_kv*hd, d)
        self.attn_v = nn.Linear(d, cfg.n_head_kv * hd, bias=False)          # (n_head_kv*hd, d)
        self.attn_q_norm = nn.Parameter(torch.ones(hd))                     # (hd)
        self.attn_k_norm = nn.Parameter(torch.ones(hd))                     # (hd)
        self.attn_output = nn.Linear(cfg.n_head * hd, d, bias=False)        # (d, n_head*hd)
        self.ffn_norm = nn.Parameter(torch.ones(d))                         # (d)
        self.ffn_gate = nn.Linear(d, cfg.n_ff, bias=False)                  # (n_ff, d)
        self.ffn_up = nn.Linear(d, cfg.n_ff, bias=False)                    # (n_ff, d)
        self.ffn_down = nn.Linear(cfg.n_ff, d, bias=False)                  # (d, n_ff)

    def forward(self, x, cos, sin, mask, cache=None):
        """x (B, T, d). cache: None or a dict with 'k', 'v' (B, n_head_kv, T_past, hd), updated."""
        cfg = self.cfg
        B, T, _ = x.shape
        hd, nh, nkv = cfg.head_dim, cfg.n_head, cfg.n_head_kv
        h = rmsnorm(x, self.attn_norm, cfg.rms_eps)
        q = self.attn_q(h).view(B, T, nh, hd)
        k = self.attn_k(h).view(B, T, nkv, hd)
        v = self.attn_v(h).view(B, T, nkv, hd)
        q = rope_apply(rmsnorm(q, self.attn_q_norm, cfg.rms_eps), cos, sin).transpose(1, 2)
        k = rope_apply(rmsnorm(k, self.attn_k_norm, cfg.rms_eps), cos, sin).transpose(1, 2)
        v = v.transpose(1, 2)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        g = nh // nkv
        k = k.repeat_interleave(g, dim=1)
        v = v.repeat_interleave(g, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        if mask is not None:
            att = att + mask
        y = torch.softmax(att, dim=-1) @ v                                  # (B, nh, T, hd)
        x = x + self.attn_output(y.transpose(1, 2).reshape(B, T, nh * hd))
        h = rmsnorm(x, self.ffn_norm, cfg.rms_eps)
        return x + self.ffn_down(F.silu(self.ffn_gate(h)) * self.ffn_up(h))


class Qwen3(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.token_embd = nn.Parameter(torch.empty(cfg.n_vocab, cfg.n_embd))  # (n_vocab, d)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.output_norm = nn.Parameter(torch.ones(cfg.n_embd))              # (d)
        cos, sin = rope_tables(cfg, cfg.n_ctx)
        self.register_buffer("cos", cos, persistent=False)                   # (n_ctx, hd/2)
        self.register_buffer("sin", sin, persistent=False)                   # (n_ctx, hd/2)
        self._init_weights()

    def _init_weights(self):
        nn.init.normal_(self.token_embd, std=0.02)
        out_std = 0.02 / math.sqrt(2 * self.cfg.n_layer)
        for b in self.blocks:
            for lin in (b.attn_q, b.attn_k, b.attn_v, b.ffn_gate, b.ffn_up):
                nn.init.normal_(lin.weight, std=0.02)
            for lin in (b.attn_output, b.ffn_down):
                nn.init.normal_(lin.weight, std=out_std)

    def n_params(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, tokens, caches=None, pos=None, mask=None):
        """tokens (B, T) -> logits (B, T, n_vocab).

        caches: list of per-layer dicts (KV cache) or None. pos: (B, T) RoPE positions, default
        0..T-1. mask: additive (B, 1, T, S) over the S = cached + T keys, default causal.
        """
        B, T = tokens.shape
        if pos is None:
            pos = torch.arange(T).expand(B, T)
        if mask is None and T > 1:
            mask = torch.full((T, T), float("-inf")).triu(1)
        x = self.token_embd[tokens]
        cos, sin = self.cos[pos], self.sin[pos]
        for i, b in enumerate(self.blocks):
            x = b(x, cos, sin, mask, None if caches is None else caches[i])
        return rmsnorm(x, self.output_norm, self.cfg.rms_eps) @ self.token_embd.t()
