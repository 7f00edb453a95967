#!/usr/bin/env bash
# cli_generate.sh - `glimp generate` and `glimp bench -m` from the command
# line: greedy generation (--temp 0) on stories260K reproduces llama.cpp's
# text (stories260K.expected.txt, gen_text), the summary line goes to
# stderr, --help works, bad arguments exit 2; `glimp bench -m` on a tiny
# model prints its prefill and decode lines (figures not checked: no timing
# assertions). Skips (77) without ../shared.
set -u
bin=${GLIMP_BIN:?GLIMP_BIN not set (run through ctest)}
shared=${GLIMP_SHARED:-../shared}
[ -d "$shared" ] || { echo "SKIP: reference folder $shared not found"; exit 77; }
model="$shared/models/stories260K.gguf"
expected="$shared/models/stories260K.expected.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $what" >&2; fails=$((fails + 1)); fi
}
exit_code() { local rc=0; "$@" >/dev/null 2>"$tmp/err" || rc=$?; echo "$rc"; }

# The reference text: the quoted gen_text value with its C escapes undone
# (\" first, then \n and \\ by printf %b).
line=$(grep '^gen_text: "' "$expected") || { echo "FAIL: no gen_text in $expected"; exit 1; }
value=${line#gen_text: \"}
value=${value%\"}
value=${value//\\\"/\"}
printf '%b' "$value" >"$tmp/want"
n_gen=$(sed -n 's/^n_gen: //p' "$expected")
prompt=$(sed -n 's/^prompt: "\(.*\)"$/\1/p' "$expected")

# greedy: the text on stdout (plus the final newline) is llama.cpp's
"$bin" generate -m "$model" -p "$prompt" -n "$n_gen" --temp 0 -t 1 >"$tmp/out" 2>"$tmp/err"
check "generate exits 0" test $? = 0
printf '\n' >>"$tmp/want"
check "greedy text equals llama.cpp's gen_text" cmp -s "$tmp/out" "$tmp/want"
check "summary line" grep -qE "^glimp generate: prompt 5 tokens, generated $n_gen tokens; prefill [0-9.]+ tokens/s, decode [0-9.]+ tokens/s \(1 threads?\)$" "$tmp/err"
# two threads give the same greedy text
"$bin" generate -m "$model" -p "$prompt" -n "$n_gen" --temp 0 -t 2 >"$tmp/out2" 2>/dev/null
check "same text on 2 threads" cmp -s "$tmp/out2" "$tmp/want"

"$bin" generate --help >"$tmp/help"
check "--help exits 0" test $? = 0
check "--help usage" grep -q "^usage: glimp generate -m MODEL.gguf -p PROMPT" "$tmp/help"

check "no arguments: exit 2" test "$(exit_code "$bin" generate)" = 2
check "no prompt: exit 2" test "$(exit_code "$bin" generate -m "$model")" = 2
check "unknown option: exit 2" test "$(exit_code "$bin" generate -m "$model" -p x --bogus)" = 2
check "bad -n: exit 2" test "$(exit_code "$bin" generate -m "$model" -p x -n abc)" = 2
check "bad --temp: exit 2" test "$(exit_code "$bin" generate -m "$model" -p x --temp nope)" = 2
check "missing model: exit 1" test "$(exit_code "$bin" generate -m "$tmp/none.gguf" -p x)" = 1

# bench -m: one prefill and one decode line, on the tiny model
"$bin" bench -m "$model" -p 16 -n 8 -r 2 -t 1 >"$tmp/bench" 2>&1
check "bench exits 0" test $? = 0
check "bench model line" grep -qE "^model: .*stories260K.gguf \(llama, .* 1 threads?, kernels " "$tmp/bench"
check "bench bandwidth line" grep -qE "^memory bandwidth: [0-9.]+ GB/s \(1 threads" "$tmp/bench"
check "bench prefill line" grep -qE "^prefill pp16: +[0-9.]+ \+- [0-9.]+ tokens/s \(2 runs\), [0-9.]+% of the roofline$" "$tmp/bench"
check "bench decode line" grep -qE "^decode +tg8: +[0-9.]+ \+- [0-9.]+ tokens/s \(2 runs\), [0-9.]+% of the roofline" "$tmp/bench"
# --depth and --kv-type: tests after a context; a Q8_0 cache needs heads of 32 (this model's are 8)
"$bin" bench -m "$model" -p 8 -n 4 -r 1 -t 1 --depth 20 --kv-type f32 >"$tmp/bench" 2>&1
check "bench --depth: exit 0" test $? = 0
check "bench --depth: header" grep -qE "kv f32, depth 20$" "$tmp/bench"
check "bench --kv-type q8_0 on 8-wide heads: exit 1" test "$(exit_code "$bin" bench -m "$model" -p 8 -n 4 -r 1 --kv-type q8_0)" = 1
check "bench --kv-type bad: exit 2" test "$(exit_code "$bin" bench -m "$model" --kv-type q4)" = 2
check "generate --kv-type bad: exit 2" test "$(exit_code "$bin" generate -m "$model" -p hi --kv-type q4)" = 2
check "bench bad -p: exit 2" test "$(exit_code "$bin" bench -m "$model" -p -3)" = 2

echo "cli_generate: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
