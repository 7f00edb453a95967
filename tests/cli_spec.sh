#!/usr/bin/env bash
# cli_spec.sh - speculative decoding from the command line: `glimp generate
# --draft FILE|ngram` on a same-vocabulary mkmodel pair (random weights, so
# few drafts pass) gives the same greedy text with either drafter, and as
# many tokens as plain decoding; a draft with another vocabulary is refused
# with the reason and generation goes on without it; bad draft options exit
# 2; `glimp run --spec model` on the demo pair reports its acceptance, and
# with an SLM of another vocabulary says why speculation is off.
set -euo pipefail
bin=${GLIMP_BIN:?GLIMP_BIN not set (run through ctest)}
SRC=${GLIMP_SRC:?GLIMP_SRC not set (run through ctest)}
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
demo=$SRC/models/demo
tiny=(--arch qwen3 --layers 2 --dim 64 --heads 4 --kv-heads 2 --ff 128 --ctx 256 --quiet)
"$bin" mkmodel -o "$tmp/big.gguf" "${tiny[@]}" --vocab "$demo/llm.gguf" --seed 1
"$bin" mkmodel -o "$tmp/small.gguf" "${tiny[@]}" --layers 1 --vocab "$demo/llm.gguf" --seed 2
"$bin" mkmodel -o "$tmp/other.gguf" "${tiny[@]}" --vocab-size 600 --seed 3

gen() { "$bin" generate -m "$tmp/big.gguf" -p "Owen has 6 bags" -n 80 --temp 0 -t 1 "$@"; }
gen >"$tmp/plain" 2>"$tmp/plain.err"
gen --draft "$tmp/small.gguf" >"$tmp/model" 2>"$tmp/model.err"
gen --draft ngram >"$tmp/ngram" 2>"$tmp/ngram.err"
gen --draft "$tmp/small.gguf" --draft-min 1 --draft-max 1 >"$tmp/model1" 2>/dev/null
check "model drafter: same text as ngram" cmp -s "$tmp/model" "$tmp/ngram"
check "draft length 1: same text" cmp -s "$tmp/model" "$tmp/model1"
n_plain=$(sed -n 's/.*generated \([0-9]*\) tokens.*/\1/p' "$tmp/plain.err")
check "plain summary" test -n "$n_plain"
check "model drafter: as many tokens as plain" has "$tmp/model.err" "generated $n_plain tokens"
check "ngram: as many tokens as plain" has "$tmp/ngram.err" "generated $n_plain tokens"
check "model drafter: summary" has "$tmp/model.err" "speculation model:"
gen --draft "$tmp/other.gguf" >"$tmp/other" 2>"$tmp/other.err"
check "other vocabulary: reason" has "$tmp/other.err" "vocabulary differs"
check "other vocabulary: speculation off" has "$tmp/other.err" "speculation off:"
check "other vocabulary: same text" cmp -s "$tmp/model" "$tmp/other"
check "draft-min > draft-max: exit 2" test "$(exit_code gen --draft ngram --draft-min 4 --draft-max 2)" = 2
check "draft-max 0: exit 2" test "$(exit_code gen --draft ngram --draft-max 0)" = 2
check "top-k with a draft: exit 2" test "$(exit_code gen --draft ngram --temp 0.7 --top-k 5)" = 2
check "missing draft file: exit 1" test "$(exit_code gen --draft "$tmp/none.gguf")" = 1

q="Emma has 5 bags with 2 stickers in each. Eva has 21 stickers. Whoever has more stickers gives 4 to the other. How many stickers does Eva have now?"
run() { "$bin" run --llm "$demo/llm.gguf" --temp 0 -t 1 "$@" "$q"; }
run --slm "$demo/slm.gguf" --policy llm >"$tmp/run.plain" 2>&1
run --slm "$demo/slm.gguf" --policy llm --spec model >"$tmp/run.spec" 2>&1
check "run --spec model: summary line" grep -q "^speculation model: [0-9]* of [0-9]* drafted" "$tmp/run.spec"
check "run --spec model: same answer" test "$(grep -o 'boxed{[0-9]*}' "$tmp/run.plain" | tail -1)" = "$(grep -o 'boxed{[0-9]*}' "$tmp/run.spec" | tail -1)"
run --slm "$tmp/other.gguf" --template-slm raw --policy llm --spec model --json >"$tmp/run.other" 2>"$tmp/run.other.err"
check "run with another SLM vocabulary: note" has "$tmp/run.other.err" "--spec model: the draft's vocabulary differs"
check "run with another SLM vocabulary: trace says off" grep -q '"spec":{"mode":"off"' "$tmp/run.other"

echo "cli_spec: $pass passed, $fails failed"
test "$fails" -eq 0
