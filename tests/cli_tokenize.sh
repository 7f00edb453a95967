#!/usr/bin/env bash
# cli_tokenize.sh - `glimp tokenize`: ids and pieces, --ids-only, --stdin
# (large input), --special, --no-bos, and clear errors; plus a smoke run of
# `glimp bench --tokenizer`. Needs $GLIMP_BIN; skips (77) without ../shared.
set -u
shared=${GLIMP_SHARED:-../shared}
[ -d "$shared/tokenizer" ] || { echo "SKIP: reference folder $shared not found"; exit 77; }
bin=${GLIMP_BIN:?GLIMP_BIN not set}
qwen2=$shared/tokenizer/ggml-vocab-qwen2.gguf
qwen3=$shared/tokenizer/ggml-vocab-qwen3.gguf
stories=$shared/models/stories260K.gguf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_eq() { [ "$1" = "$2" ] || fail "$3: got [$1], want [$2]"; }

out=$("$bin" tokenize -m "$qwen2" "Hello world") || fail "tokenize exit $?"
echo "$out" | grep -q "^   9707  'Hello'$" || fail "piece line for Hello: $out"
echo "$out" | grep -q "^   1879  ' world'$" || fail "piece line for ' world': $out"
echo "$out" | grep -q "^(2 tokens)$" || fail "token count line: $out"

expect_eq "$("$bin" tokenize -m "$qwen2" --ids-only "Hello world")" "9707 1879" "--ids-only"
expect_eq "$("$bin" tokenize -m "$stories" --ids-only "Once upon a time")" "1 403 407 261 378" "SPM adds BOS"
expect_eq "$("$bin" tokenize -m "$stories" --ids-only --no-bos "Once upon a time")" "403 407 261 378" "--no-bos"
expect_eq "$("$bin" tokenize -m "$qwen3" --ids-only --special "<|im_end|>")" "151645" "--special"
plain=$("$bin" tokenize -m "$qwen3" --ids-only "<|im_end|>")
[ "$plain" != "151645" ] && [ -n "$plain" ] || fail "without --special <|im_end|> must be plain text: [$plain]"
"$bin" tokenize -m "$qwen2" $'tab\there\nnew line \\ \'q\'' | grep -q "'\\\\t'" || fail "escaped tab piece"

# --stdin: the same ids as the argument, and a large input
expect_eq "$(printf 'Hello world' | "$bin" tokenize -m "$qwen2" --ids-only --stdin)" "9707 1879" "--stdin"
for i in $(seq 1 4000); do printf 'Line %d: the quick brown fox jumps over the lazy dog.\n' "$i"; done > "$tmp/big.txt"
n=$("$bin" tokenize -m "$qwen2" --ids-only --stdin < "$tmp/big.txt" | wc -w) || fail "--stdin big"
[ "$n" -gt 40000 ] || fail "--stdin on $(wc -c < "$tmp/big.txt") bytes gave $n ids"

# errors: usage (2) and runtime (1), each with a message
"$bin" tokenize "text" > /dev/null 2> "$tmp/err"; rc=$?
expect_eq "$rc" 2 "missing -m exit code"; grep -q -- "-m FILE.gguf is required" "$tmp/err" || fail "missing -m message"
"$bin" tokenize -m "$qwen2" > /dev/null 2> "$tmp/err"; rc=$?
expect_eq "$rc" 2 "missing text exit code"; grep -q "TEXT or --stdin" "$tmp/err" || fail "missing text message"
"$bin" tokenize -m "$qwen2" --bogus x > /dev/null 2> "$tmp/err"; rc=$?
expect_eq "$rc" 2 "unknown option exit code"; grep -q "unknown option '--bogus'" "$tmp/err" || fail "unknown option message"
"$bin" tokenize -m "$tmp/missing.gguf" x > /dev/null 2> "$tmp/err"; rc=$?
expect_eq "$rc" 1 "missing file exit code"; grep -q "missing.gguf" "$tmp/err" || fail "missing file message: $(cat "$tmp/err")"

# bench smoke run (figures are printed, not checked)
"$bin" bench --tokenizer "$qwen2" --mb 0.05 --runs 1 > "$tmp/bench" || fail "bench exit $?"
grep -q "^encode .* MB/s" "$tmp/bench" || fail "bench output: $(cat "$tmp/bench")"

[ "$fails" -eq 0 ] && echo "cli_tokenize: all checks passed"
exit $((fails > 0))
