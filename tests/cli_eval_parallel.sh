#!/usr/bin/env bash
# cli_eval_parallel.sh - `glimp eval --parallel 4` with local models on the
# demo pair (in the repository): the workers share one loaded copy of each
# model, their steps share forward passes and prompt starts one worker
# computed are copied by the others (the same question under another
# policy), and the records equal those of --parallel 1 (sampled at the
# default temperature: seeds are per item), timings and prefill counts aside
# (a worker's cache holds whatever item it ran before). The run reports the
# steps, passes and copied prompt tokens of each model.
set -euo pipefail
GLIMP=${GLIMP_BIN:?GLIMP_BIN not set}
SRC=${GLIMP_SRC:?GLIMP_SRC not set}
M=$SRC/models/demo
dir=$(mktemp -d /tmp/glimp_eval_parallel.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

args=(--slm "$M/slm.gguf" --llm "$M/llm.gguf" --data "$M/bench.jsonl" --grade integer
      --prompt-template "$M/prompt.txt" --limit 6 --seed 1 --policy llm,glimp,slm --tau 1.0
      --threads 1)
for n in 1 4; do
    "$GLIMP" eval "${args[@]}" --parallel $n --out "$dir/p$n" >/dev/null 2>"$dir/err$n" ||
        fail "--parallel $n exited $?: $(cat "$dir/err$n")"
    grep -q "18 items planned, 0 already in .*, 18 run now, 0 failed" "$dir/err$n" ||
        fail "--parallel $n counts: $(cat "$dir/err$n")"
done
grep -q "one item at a time" "$dir/err4" && fail "--parallel 4 ran one item at a time"
copied_all=0
for role in slm llm; do
    line=$(grep "$role.gguf: 4 workers on one copy" "$dir/err4") ||
        fail "no batching report for the $role: $(cat "$dir/err4")"
    read -r steps passes copied < <(sed -E \
        's/.* ([0-9]+) steps in ([0-9]+) forward passes, ([0-9]+) prompt tokens copied.*/\1 \2 \3/' \
        <<<"$line")
    [ "$steps" -gt "$passes" ] || fail "$role: no pass carried several steps: $line"
    copied_all=$((copied_all + copied))
done
# 3 policies per question: a worker starting a question another has computed copies it
[ "$copied_all" -gt 0 ] || fail "no prompt tokens copied between workers: $(cat "$dir/err4")"
# the records without what depends on time or on a worker's cache
norm() {
    sed -E -e 's/"time_ms":\{[^}]*\}//g' -e 's/"[a-z_]*_(ms|s)":[-0-9.eE+]+//g' \
        -e 's/"prefill_tokens":(\{[^}]*\}|[0-9]+)//g' "$1" | sort
}
norm "$dir/p1/items.jsonl" >"$dir/one"
norm "$dir/p4/items.jsonl" >"$dir/four"
[ "$(wc -l <"$dir/one")" -eq 18 ] || fail "items.jsonl of --parallel 1 has $(wc -l <"$dir/one") lines"
cmp -s "$dir/one" "$dir/four" ||
    fail "records differ: $(diff "$dir/one" "$dir/four" | head -c 800)"
echo "cli_eval_parallel: 18 records equal on 1 and 4 workers; $(grep -h 'forward passes' "$dir/err4" | tr '\n' ' ')"
