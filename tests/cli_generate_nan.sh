#!/usr/bin/env bash
# cli_generate_nan.sh - `glimp generate` on a model whose logits are all NaN
# (a tiny F32 model from `glimp mkmodel` with its output norm and output
# matrix overwritten by NaNs) fails cleanly: exit 1, the sampler's message on
# stderr, nothing on stdout, and no sanitizer report.
set -euo pipefail
GLIMP=${GLIMP_BIN:?GLIMP_BIN not set}
dir=$(mktemp -d /tmp/glimp_cli_gen_nan.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$GLIMP" mkmodel -o "$dir/nan.gguf" --arch llama --layers 1 --dim 64 --heads 4 --ff 128 \
  --vocab-size 300 --ctx 64 --type F32 --untied --quiet || fail "mkmodel"
# the file ends with output_norm.weight (64 floats) and output.weight (64 x 300 floats)
n=$((64 + 64 * 300))
size=$(stat -c %s "$dir/nan.gguf")
printf '\x00\x00\xc0\x7f%.0s' $(seq 1 $n) |
  dd of="$dir/nan.gguf" bs=64K iflag=fullblock oflag=seek_bytes seek=$((size - 4 * n)) conv=notrunc status=none

rc=0
"$GLIMP" generate -m "$dir/nan.gguf" -p "hello" -n 4 > "$dir/out.txt" 2> "$dir/err.txt" || rc=$?
[ $rc -eq 1 ] || fail "exit $rc, want 1: $(cat "$dir/err.txt")"
grep -q "every logit is -inf or NaN" "$dir/err.txt" || fail "stderr: $(cat "$dir/err.txt")"
! grep -q "runtime error" "$dir/err.txt" || fail "sanitizer: $(cat "$dir/err.txt")"
[ ! -s "$dir/out.txt" ] || fail "stdout not empty: $(od -c "$dir/out.txt" | head -3)"
echo ok
