#!/usr/bin/env bash
# cli_analyze.sh - `glimp analyze` end to end on the demo pair: three
# problems run by the SLM alone (--data), then the same analysis of a
# `glimp eval --policy slm` folder (--from). Checks the files, that
# steps.csv has one row per SLM step of the traces, that every AUROC is in
# [0, 1], that the histograms are well-formed SVG (with xmllint) and that
# the report is printed. Exit 77 (skip) without the demo models.
set -euo pipefail
GLIMP=${GLIMP_BIN:?GLIMP_BIN not set}
demo=${GLIMP_SRC:?GLIMP_SRC not set}/models/demo
[ -f "$demo/slm.gguf" ] && [ -f "$demo/llm.gguf" ] || { echo "SKIP: no demo models"; exit 77; }
dir=$(mktemp -d /tmp/glimp_cli_analyze.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
pair=(--slm "$demo/slm.gguf" --llm "$demo/llm.gguf" -t 1)
data=(--data "$demo/bench.jsonl" --grade integer --prompt-template "$demo/prompt.txt" --limit 3)

check_out() { # DIR STEPS: the report of STEPS analyzed steps
  local out=$1 steps=$2
  for f in steps.csv signals.csv signals.md hist_h_init.svg hist_h_step.svg hist_ppl_step.svg \
           hist_judge.svg; do
    [ -s "$out/$f" ] || fail "$out/$f missing"
  done
  [ "$(head -1 "$out/steps.csv")" = \
    "problem,step,n_tokens,h_init,h_step,ppl_step,judge,slm_first,llm_first,disagree,llm_tokens,llm_ll,low_ll" ] ||
    fail "steps.csv header: $(head -1 "$out/steps.csv")"
  [ "$(($(wc -l <"$out/steps.csv") - 1))" = "$steps" ] ||
    fail "steps.csv has $(($(wc -l <"$out/steps.csv") - 1)) rows, want $steps"
  [ "$(cut -d, -f1 "$out/signals.csv" | tr '\n' ' ')" = "signal h_init h_step ppl_step judge " ] ||
    fail "signals.csv rows: $(cat "$out/signals.csv")"
  awk -F, 'NR > 1 && !($3 >= 0 && $3 <= 1 && $4 >= 0 && $4 <= 1 && $2 == '"$steps"') { bad = 1 }
           END { exit bad }' "$out/signals.csv" || fail "signals.csv: $(cat "$out/signals.csv")"
  grep -q "^$steps SLM steps analyzed" "$out/signals.md" || fail "signals.md: $(head -2 "$out/signals.md")"
  if command -v xmllint >/dev/null; then
    for f in "$out"/hist_*.svg; do xmllint --noout "$f" || fail "$f is not well-formed"; done
  fi
  grep -q "$steps SLM steps" "$out/hist_h_init.svg" || fail "histogram does not count $steps steps"
}

# --data: the SLM's own traces; every step is the SLM's.
"$GLIMP" analyze "${pair[@]}" "${data[@]}" --out "$dir/a" >"$dir/a.txt" 2>"$dir/a.err" ||
  fail "analyze --data: exit $?: $(cat "$dir/a.err")"
rows=$(($(wc -l <"$dir/a/steps.csv") - 1))
[ "$rows" -ge 6 ] || fail "only $rows steps from 3 problems"
check_out "$dir/a" "$rows"
grep -q "| h_init | $rows |" "$dir/a.txt" || fail "report not printed: $(cat "$dir/a.txt")"
[ "$(cut -d, -f1 "$dir/a/steps.csv" | sort -u | grep -c demo-)" = 3 ] || fail "not 3 problems"

# --from: an eval folder of policy slm; one row per step of its traces.
"$GLIMP" eval "${pair[@]}" "${data[@]}" --policy slm --out "$dir/ev" >/dev/null 2>&1 ||
  fail "eval failed"
slm_steps=$(grep -o '"model":"slm","h_init"' "$dir/ev/items.jsonl" | wc -l)
# (an output folder whose parent does not exist yet is created with it)
"$GLIMP" analyze "${pair[@]}" --from "$dir/ev" --out "$dir/b/nested" >/dev/null 2>"$dir/b.err" ||
  fail "analyze --from: exit $?: $(cat "$dir/b.err")"
check_out "$dir/b/nested" "$slm_steps"
grep -q "3 traces of $dir/ev, $slm_steps SLM steps" "$dir/b.err" || fail "stderr: $(cat "$dir/b.err")"

# Not an eval folder: exit 1 with a message naming it.
rc=0; "$GLIMP" analyze "${pair[@]}" --from "$dir/nothing" --out "$dir/c" >/dev/null 2>"$dir/c.err" || rc=$?
[ "$rc" = 1 ] && grep -q "$dir/nothing/items.jsonl" "$dir/c.err" || fail "missing folder: exit $rc, $(cat "$dir/c.err")"
echo "cli_analyze: all checks passed ($rows + $slm_steps steps)"
