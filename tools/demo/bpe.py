#!/usr/bin/env python3
"""Byte-level BPE tokenizer for the demo models: training, encoding, decoding.

What it is for: the demo SLM and LLM share one small vocabulary stored in their GGUF files as a
`gpt2`-type tokenizer with the `qwen2` pre-tokenizer, so the engine's own tokenizer encodes
prompts exactly as the models were trained. This module produces that vocabulary and the
training token ids, following the same rules the engine applies:
  1. control tokens (`<|im_start|>` ...) are split out of the text first;
  2. each remaining piece is cut by the Qwen2 pre-tokenizer regex
     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+
     (digits one by one);
  3. every pre-token's bytes are mapped through GPT-2's byte-to-unicode table and merged by
     merge rank (lowest rank first) until no merge applies.
The task text is ASCII, so \\p{L} and \\p{N} are written as [A-Za-z] and [0-9] here (Python's
`re` has no Unicode classes); `pretokenize` refuses non-ASCII text rather than guess.

Vocabulary layout: ids 0..255 are the single bytes (byte b -> id b), then one id per merge in
rank order, then the control tokens.
"""
import re
from collections import Counter

CONTROL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]

_PRETOKEN = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]"
    r"| ?[^\sA-Za-z0-9]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
_CONTROL = re.compile("(" + "|".join(re.escape(t) for t in CONTROL_TOKENS) + ")")


def bytes_to_unicode():
    """GPT-2's reversible map from the 256 byte values to printable unicode characters."""
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1))
            + list(range(ord("\xae"), ord("\xff") + 1)))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


B2U = bytes_to_unicode()
U2B = {u: b for b, u in B2U.items()}


def pretokenize(text):
    """Split ASCII text (no control tokens) into pre-tokens like the Qwen2 regex does."""
    if not text.isascii():
        raise ValueError("demo tokenizer: non-ASCII text is outside the task's alphabet")
    return _PRETOKEN.findall(text)


def _symbols(pretoken):
    return [B2U[b] for b in pretoken.encode("utf-8")]


def train(texts, n_merges):
    """Learn up to n_merges merges from texts; ties broken by the smaller pair (deterministic).

    Returns the list of merges as (left, right) pairs of unicode-mapped strings, in rank order.
    """
    words = Counter()
    for t in texts:
        for piece in _CONTROL.split(t):
            if piece and piece not in CONTROL_TOKENS:
                words.update(pretokenize(piece))
    seqs = {w: _symbols(w) for w in words}
    merges = []
    while len(merges) < n_merges:
        pairs = Counter()
        for w, s in seqs.items():
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += words[w]
        if not pairs:
            break
        best_count = max(pairs.values())
        if best_count < 2:
            break
        best = min(p for p, c in pairs.items() if c == best_count)
        merges.append(best)
        joined = best[0] + best[1]
        for w, s in seqs.items():
            i, out = 0, []
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(joined)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return merges


class Tokenizer:
    """Encoder/decoder over a merge list; ids as in the module docstring."""

    def __init__(self, merges):
        self.merges = list(merges)
        self.rank = {p: i for i, p in enumerate(self.merges)}
        self.tokens = [B2U[b] for b in range(256)] + [a + b for a, b in self.merges]
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("demo tokenizer: duplicate token strings in merges")
        self.tokens += CONTROL_TOKENS
        self.id_of = {t: i for i, t in enumerate(self.tokens)}
        self.n_normal = len(self.tokens) - len(CONTROL_TOKENS)
        self._cache = {}

    def token_types(self):
        """GGUF token_type per id: 1 = NORMAL, 3 = CONTROL."""
        return [1] * self.n_normal + [3] * len(CONTROL_TOKENS)

    def _encode_pretoken(self, pre):
        hit = self._cache.get(pre)
        if hit is not None:
            return hit
        s = _symbols(pre)
        while len(s) > 1:
            ranked = [(self.rank.get((a, b), len(self.rank)), i)
                      for i, (a, b) in enumerate(zip(s, s[1:]))]
            r, i = min(ranked)
            if r == len(self.rank):
                break
            s = s[:i] + [s[i] + s[i + 1]] + s[i + 2:]
        ids = [self.id_of[x] for x in s]
        self._cache[pre] = ids
        return ids

    def encode(self, text):
        """Token ids of text; control-token strings become their control ids."""
        ids = []
        for piece in _CONTROL.split(text):
            if not piece:
                continue
            if piece in CONTROL_TOKENS:
                ids.append(self.id_of[piece])
            else:
                for pre in pretokenize(piece):
                    ids.extend(self._encode_pretoken(pre))
        return ids

    def decode(self, ids):
        """Text of ids (control tokens rendered as their strings)."""
        out = bytearray()
        for i in ids:
            t = self.tokens[i]
            if i >= self.n_normal:
                out += t.encode("utf-8")
            else:
                out += bytes(U2B[c] for c in t)
        return out.decode("utf-8", errors="replace")
