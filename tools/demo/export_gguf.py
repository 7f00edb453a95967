#!/usr/bin/env python3
"""Minimal GGUF v3 writer, and the export of a trained demo model to a qwen3 GGUF file.

What it is for: writing models/demo/{slm,llm}.gguf from tools/demo/train.py without any
third-party GGUF library. Layout written (all little-endian):
  "GGUF", u32 version = 3, u64 n_tensors, u64 n_kv,
  n_kv x (string key, u32 value type, value),           string = u64 length + bytes
  n_tensors x (string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset),
  zero padding to `general.alignment` (32), then the tensor data, each tensor starting at an
  offset (from the data start) that is a multiple of the alignment.
ggml's ne[0] is the row length (fastest-varying), so a torch Linear weight [out, in] is written
row-major with ne = [in, out]. Matrices are F16, norms F32 (as llama.cpp's converter does).
Metadata keys are spelled as llama.cpp spells them.
Failure modes: ValueError on unsupported value types or tensor dtypes; OSError on I/O.
"""
import struct

import numpy as np

GGUF_VERSION = 3
ALIGNMENT = 32

# GGUF metadata value types.
T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY = 4, 5, 6, 7, 8, 9
# ggml tensor types.
GGML_F32, GGML_F16 = 0, 1
LLAMA_FTYPE_MOSTLY_F16 = 1


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(vtype, v):
    if vtype == T_UINT32:
        return struct.pack("<I", v)
    if vtype == T_INT32:
        return struct.pack("<i", v)
    if vtype == T_FLOAT32:
        return struct.pack("<f", v)
    if vtype == T_BOOL:
        return struct.pack("<B", 1 if v else 0)
    if vtype == T_STRING:
        return _str(v)
    raise ValueError(f"gguf writer: unsupported value type {vtype}")


class GGUFWriter:
    """Collects metadata and tensors, then writes one file in a single pass."""

    def __init__(self):
        self.kv = []       # (key, encoded type+value bytes)
        self.tensors = []  # (name, ne list, ggml type, bytes)

    def add(self, key, vtype, value):
        self.kv.append((key, struct.pack("<I", vtype) + _value(vtype, value)))

    def add_array(self, key, elem_type, values):
        body = b"".join(_value(elem_type, v) for v in values)
        self.kv.append((key, struct.pack("<IIQ", T_ARRAY, elem_type, len(values)) + body))

    def add_tensor(self, name, array):
        """array: numpy float array in ggml order, i.e. numpy shape (ne[n-1], ..., ne[0])."""
        if array.dtype == np.float16:
            ttype = GGML_F16
        elif array.dtype == np.float32:
            ttype = GGML_F32
        else:
            raise ValueError(f"gguf writer: unsupported dtype {array.dtype} for {name}")
        ne = list(reversed(array.shape))
        data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        self.tensors.append((name, ne, ttype, data))

    def write(self, path):
        head = b"GGUF" + struct.pack("<IQQ", GGUF_VERSION, len(self.tensors), len(self.kv))
        head += b"".join(_str(k) + v for k, v in self.kv)
        offset, infos = 0, []
        for name, ne, ttype, data in self.tensors:
            infos.append(_str(name) + struct.pack("<I", len(ne))
                         + b"".join(struct.pack("<Q", n) for n in ne)
                         + struct.pack("<IQ", ttype, offset))
            offset += len(data)
            offset += -offset % ALIGNMENT
        head += b"".join(infos)
        with open(path, "wb") as f:
            f.write(head + b"\0" * (-len(head) % ALIGNMENT))
            for _, _, _, data in self.tensors:
                f.write(data + b"\0" * (-len(data) % ALIGNMENT))


CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message.role == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if message.reasoning_content is defined and message.reasoning_content %}"
    "{{- '<think>\\n' + message.reasoning_content.strip('\\n') + '\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{{- message.content + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n<think>\\n' }}{%- endif %}")


def export(path, name, cfg, state, tok):
    """Write a qwen3 GGUF. cfg: model.Config; state: name -> numpy float32; tok: bpe.Tokenizer."""
    w = GGUFWriter()
    a = "qwen3"
    w.add("general.architecture", T_STRING, a)
    w.add("general.name", T_STRING, name)
    w.add("general.alignment", T_UINT32, ALIGNMENT)
    w.add("general.file_type", T_UINT32, LLAMA_FTYPE_MOSTLY_F16)
    w.add(f"{a}.context_length", T_UINT32, cfg.n_ctx)
    w.add(f"{a}.embedding_length", T_UINT32, cfg.n_embd)
    w.add(f"{a}.block_count", T_UINT32, cfg.n_layer)
    w.add(f"{a}.feed_forward_length", T_UINT32, cfg.n_ff)
    w.add(f"{a}.attention.head_count", T_UINT32, cfg.n_head)
    w.add(f"{a}.attention.head_count_kv", T_UINT32, cfg.n_head_kv)
    w.add(f"{a}.attention.key_length", T_UINT32, cfg.head_dim)
    w.add(f"{a}.attention.value_length", T_UINT32, cfg.head_dim)
    w.add(f"{a}.rope.freq_base", T_FLOAT32, cfg.rope_base)
    w.add(f"{a}.attention.layer_norm_rms_epsilon", T_FLOAT32, cfg.rms_eps)
    w.add("tokenizer.ggml.model", T_STRING, "gpt2")
    w.add("tokenizer.ggml.pre", T_STRING, "qwen2")
    w.add_array("tokenizer.ggml.tokens", T_STRING, tok.tokens)
    w.add_array("tokenizer.ggml.token_type", T_INT32, tok.token_types())
    w.add_array("tokenizer.ggml.merges", T_STRING, [f"{l} {r}" for l, r in tok.merges])
    w.add("tokenizer.ggml.eos_token_id", T_UINT32, tok.id_of["<|im_end|>"])
    w.add("tokenizer.ggml.bos_token_id", T_UINT32, tok.id_of["<|endoftext|>"])
    w.add("tokenizer.ggml.padding_token_id", T_UINT32, tok.id_of["<|endoftext|>"])
    w.add("tokenizer.ggml.add_bos_token", T_BOOL, False)
    w.add("tokenizer.chat_template", T_STRING, CHAT_TEMPLATE)

    def mat(key):
        return state[key].astype(np.float16)

    def vec(key):
        return state[key].astype(np.float32)

    w.add_tensor("token_embd.weight", mat("token_embd"))
    for i in range(cfg.n_layer):
        p, q = f"blocks.{i}.", f"blk.{i}."
        w.add_tensor(q + "attn_norm.weight", vec(p + "attn_norm"))
        for t in ("attn_q", "attn_k", "attn_v", "attn_output"):
            w.add_tensor(q + t + ".weight", mat(p + t + ".weight"))
        w.add_tensor(q + "attn_q_norm.weight", vec(p + "attn_q_norm"))
        w.add_tensor(q + "attn_k_norm.weight", vec(p + "attn_k_norm"))
        w.add_tensor(q + "ffn_norm.weight", vec(p + "ffn_norm"))
        for t in ("ffn_gate", "ffn_up", "ffn_down"):
            w.add_tensor(q + t + ".weight", mat(p + t + ".weight"))
    w.add_tensor("output_norm.weight", vec("output_norm"))
    w.write(path)
