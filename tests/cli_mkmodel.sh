#!/usr/bin/env bash
# cli_mkmodel.sh - `glimp mkmodel` from the command line: help, presets,
# usage errors (exit 2), reproducible output (same seed -> same bytes),
# presets with overridden sizes, the K-quant fallback note, vocabulary copy,
# and no partial file after a failure. Only tiny models are made; their
# contents are checked with the reader in test_gguf_mkmodel.c.
set -euo pipefail
bin=${GLIMP_BIN:?GLIMP_BIN not set (run through ctest)}
shared=${GLIMP_SHARED:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
has() { grep -qF -- "$2" "$1"; }
exit_code() { local rc=0; "$@" >/dev/null 2>"$tmp/err" || rc=$?; echo "$rc"; }
tiny=(--arch llama --layers 1 --dim 64 --heads 4 --kv-heads 2 --ff 128 --vocab-size 300 --quiet)

"$bin" mkmodel --help >"$tmp/help"
check "--help" has "$tmp/help" "usage: glimp mkmodel"
"$bin" mkmodel --list-presets >"$tmp/presets"
for p in qwen2.5-0.5b qwen3-0.6b qwen3-1.7b qwen3-4b tinyllama-1.1b llama-3.2-1b; do
  check "preset $p listed" grep -q "^$p " "$tmp/presets"
done
check "qwen3-4b shape" grep -qE '^qwen3-4b +qwen3 +36 +2560 +32 +8 +128 +9728 +151936' "$tmp/presets"

check "no output: exit 2" test "$(exit_code "$bin" mkmodel --arch llama)" = 2
check "unknown preset: exit 2" test "$(exit_code "$bin" mkmodel -o "$tmp/x.gguf" --preset gpt-5)" = 2
check "unknown arch: exit 2" test "$(exit_code "$bin" mkmodel -o "$tmp/x.gguf" "${tiny[@]}" --arch gpt2)" = 2
check "unsupported type: exit 2" test "$(exit_code "$bin" mkmodel -o "$tmp/x.gguf" "${tiny[@]}" --type IQ2_XXS)" = 2
check "activation type: exit 2" test "$(exit_code "$bin" mkmodel -o "$tmp/x.gguf" "${tiny[@]}" --type Q8_K)" = 2
check "heads vs dim: exit 2" test "$(exit_code "$bin" mkmodel -o "$tmp/x.gguf" "${tiny[@]}" --heads 3)" = 2
check "kv heads: exit 2" test "$(exit_code "$bin" mkmodel -o "$tmp/x.gguf" "${tiny[@]}" --kv-heads 3)" = 2
check "tiny vocab: exit 1" test "$(exit_code "$bin" mkmodel -o "$tmp/x.gguf" "${tiny[@]}" --vocab-size 100)" = 1
check "tiny vocab: message" has "$tmp/err" "at least 259 tokens"
check "no file left" test ! -e "$tmp/x.gguf"
check "bad dir: exit 1" test "$(exit_code "$bin" mkmodel -o "$tmp/no/such/dir.gguf" "${tiny[@]}")" = 1

# reproducible
"$bin" mkmodel -o "$tmp/a.gguf" "${tiny[@]}" --type Q5_1 --seed 3
"$bin" mkmodel -o "$tmp/b.gguf" "${tiny[@]}" --type Q5_1 --seed 3
"$bin" mkmodel -o "$tmp/c.gguf" "${tiny[@]}" --type Q5_1 --seed 4
check "same seed, same bytes" cmp -s "$tmp/a.gguf" "$tmp/b.gguf"
check "other seed, other bytes" test "$(cmp -s "$tmp/a.gguf" "$tmp/c.gguf"; echo $?)" = 1

# a preset with its sizes overridden (qwen3: head_dim 128, q/k norms), inspected
"$bin" mkmodel -o "$tmp/p.gguf" --preset qwen3-0.6b --layers 1 --dim 128 --heads 2 \
  --kv-heads 1 --ff 256 --vocab-size 300 --type F16 --quiet
"$bin" inspect "$tmp/p.gguf" >"$tmp/out"
check "preset name" has "$tmp/out" '"qwen3-0.6b"'
check "preset head_dim kept" grep -qE '^  qwen3\.attention\.key_length +u32 +128$' "$tmp/out"
check "preset context kept" grep -qE '^  qwen3\.context_length +u32 +40960$' "$tmp/out"
check "preset tied" test "$(grep -c '^  output\.weight' "$tmp/out")" = 0
check "preset model runnable" has "$tmp/out" "verdict: runnable (qwen3, 1 layer, 300-token llama vocabulary)"

# K-quant rows that are not multiples of 256 fall back, and mkmodel says so
"$bin" mkmodel -o "$tmp/k.gguf" --arch qwen2 --layers 1 --dim 96 --heads 3 --kv-heads 1 \
  --ff 256 --vocab-size 300 --type Q6_K 2>"$tmp/err"
check "fallback note" has "$tmp/err" "rows of 96 are not a multiple of Q6_K's block size 256"
check "fallback type named" has "$tmp/err" "written as Q8_0"
"$bin" inspect "$tmp/k.gguf" >"$tmp/out"
check "fallback in file" grep -qE '^  blk\.0\.attn_q\.weight +Q8_0 +\[96, 96\]' "$tmp/out"
check "K-quant kept where it fits" grep -qE '^  blk\.0\.ffn_down\.weight +Q6_K +\[256, 96\]' "$tmp/out"

if [ -n "$shared" ] && [ -f "$shared/tokenizer/ggml-vocab-qwen3.gguf" ]; then
  "$bin" mkmodel -o "$tmp/v.gguf" --arch qwen3 --layers 1 --dim 64 --heads 2 --head-dim 32 \
    --ff 64 --type Q8_0 --vocab "$shared/tokenizer/ggml-vocab-qwen3.gguf" --quiet
  "$bin" inspect "$tmp/v.gguf" >"$tmp/out"
  check "copied vocabulary" has "$tmp/out" 'tokenizer.ggml.pre                           str   "qwen2"'
  check "vocab size follows" grep -qE '^  token_embd\.weight +Q8_0 +\[64, 151936\]' "$tmp/out"
  check "copied vocab runnable" has "$tmp/out" "verdict: runnable (qwen3, 1 layer, 151936-token gpt2 vocabulary)"
else
  echo "note: ../shared not found, vocabulary-copy checks skipped"
fi

echo "cli_mkmodel: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
