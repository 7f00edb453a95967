#!/usr/bin/env bash
# cli_inspect.sh - `glimp inspect`: exit codes, metadata and tensor listing,
# verdicts (runnable, tokenizer only, missing tensor, missing keys) and clean
# errors on broken files. Uses tiny models made with `glimp mkmodel`, the
# fuzz seed corpus, and the reference files in ../shared when present.
set -euo pipefail
bin=${GLIMP_BIN:?GLIMP_BIN not set (run through ctest)}
src=${GLIMP_SRC:?GLIMP_SRC not set}
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

"$bin" inspect --help >"$tmp/help" && check "--help exits 0" true || check "--help exits 0" false
check "--help shows usage" has "$tmp/help" "usage: glimp inspect"
rc=0; "$bin" inspect 2>/dev/null || rc=$?
check "no file: exit 2" test "$rc" = 2

# a tiny model: runnable, listed in full
"$bin" mkmodel -o "$tmp/m.gguf" --arch qwen2 --layers 2 --dim 64 --heads 4 --kv-heads 2 \
  --ff 128 --vocab-size 300 --type Q8_0 --quiet 2>/dev/null
"$bin" inspect "$tmp/m.gguf" >"$tmp/out"
check "metadata listed" has "$tmp/out" "qwen2.block_count"
check "token array summarised" has "$tmp/out" 'arr[str] 300 items: "<unk>", "<s>", "</s>", "<0x00>", ...'
check "tensor row" grep -qE '^  blk\.1\.attn_q\.bias +F32 +\[64\] +256$' "$tmp/out"
check "matrix row" grep -qE '^  token_embd\.weight +Q8_0 +\[64, 300\] +20400$' "$tmp/out"
check "totals per type" grep -qE '^  Q8_0 +[0-9]+ tensors' "$tmp/out"
check "runnable" has "$tmp/out" "verdict: runnable (qwen2, 2 layers, 300-token llama vocabulary)"

# the same file with a tensor renamed: the verdict names it
cp "$tmp/m.gguf" "$tmp/renamed.gguf"
off=$(grep -obUaF "blk.1.ffn_up.weight" "$tmp/renamed.gguf" | head -1 | cut -d: -f1)
printf 'q' | dd of="$tmp/renamed.gguf" bs=1 seek=$((off + 10)) conv=notrunc status=none
"$bin" inspect "$tmp/renamed.gguf" >"$tmp/out"
check "missing tensor reported" has "$tmp/out" "missing tensor blk.1.ffn_up.weight"
check "not runnable" has "$tmp/out" "verdict: not runnable"

# truncated: exit 1 with the reader's message
head -c 5000 "$tmp/m.gguf" >"$tmp/cut.gguf"
rc=0; "$bin" inspect "$tmp/cut.gguf" >/dev/null 2>"$tmp/err" || rc=$?
check "truncated: exit 1" test "$rc" = 1
check "truncated: message" grep -qE "cut.gguf: .*(truncated|exceeds|needs|past the end)" "$tmp/err"
echo "not gguf at all, just text" >"$tmp/text.gguf"
rc=0; "$bin" inspect "$tmp/text.gguf" >/dev/null 2>"$tmp/err" || rc=$?
check "text file: exit 1" test "$rc" = 1
check "text file: message" has "$tmp/err" "not a GGUF file"
rc=0; "$bin" inspect "$tmp/absent.gguf" >/dev/null 2>"$tmp/err" || rc=$?
check "absent file: exit 1" test "$rc" = 1

# seed corpus: tensors without hyperparameters or vocabulary; a bare vocabulary
"$bin" inspect "$src/tests/fuzz/corpus/tensors.gguf" >"$tmp/out"
check "missing keys reported" has "$tmp/out" "missing key qwen2.block_count"
check "no vocabulary reported" has "$tmp/out" "missing key tokenizer.ggml.tokens"
"$bin" inspect "$src/tests/fuzz/corpus/vocab.gguf" >"$tmp/out"
check "vocabulary only" has "$tmp/out" "verdict: tokenizer only (llama vocabulary, 6 tokens)"

if [ -n "$shared" ] && [ -d "$shared/models" ]; then
  "$bin" inspect "$shared/models/stories260K.gguf" >"$tmp/out"
  check "stories: block_count" grep -qE '^  llama\.block_count +u32 +5$' "$tmp/out"
  check "stories: token_embd" grep -qE '^  token_embd\.weight +F32 +\[64, 512\] +131072$' "$tmp/out"
  check "stories: runnable" has "$tmp/out" "verdict: runnable (llama, 5 layers, 512-token llama vocabulary)"
  "$bin" inspect "$shared/ref/qv.gguf" >"$tmp/out"
  check "qv: F16 embeddings" grep -qE '^  token_embd\.weight +F16 +\[64, 151936\]' "$tmp/out"
  "$bin" inspect "$shared/tokenizer/ggml-vocab-qwen3.gguf" >"$tmp/out"
  check "qwen3 vocab: tokenizer only" has "$tmp/out" "verdict: tokenizer only (gpt2 vocabulary, 151936 tokens)"
else
  echo "note: ../shared not found, reference-file checks skipped"
fi

echo "cli_inspect: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
