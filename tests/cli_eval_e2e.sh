#!/usr/bin/env bash
# cli_eval_e2e.sh - `glimp eval` end to end with the real router: two tiny
# random-weight models from `glimp mkmodel` (an SLM and a larger LLM) over
# the first 5 GSM8K problems, four policies and two taus; checks every
# output and the routing the policies imply, then that a rerun skips every
# item, `glimp report` rebuilds the same summary, and `glimp calibrate`
# prints a tau. Needs ../shared/datasets, else exit 77.
set -euo pipefail
GLIMP=${GLIMP_BIN:?GLIMP_BIN not set}
SHARED=${GLIMP_SHARED:-../shared}
[ -f "$SHARED/datasets/gsm8k.jsonl" ] || { echo "SKIP: $SHARED/datasets/gsm8k.jsonl absent (set GLIMP_SHARED)"; exit 77; }
dir=$(mktemp -d /tmp/glimp_cli_eval.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export GLIMP_DATA_DIR=$SHARED/datasets

"$GLIMP" mkmodel -o "$dir/slm.gguf" --arch llama --layers 2 --dim 64 --heads 4 --ff 128 \
  --vocab-size 512 --ctx 2048 --seed 1 --quiet || fail "mkmodel slm"
"$GLIMP" mkmodel -o "$dir/llm.gguf" --arch llama --layers 3 --dim 96 --heads 4 --ff 192 \
  --vocab-size 512 --ctx 2048 --seed 2 --quiet || fail "mkmodel llm"
# no chat template in these models: raw prompts; small budgets
printf 'Q: {question}\nA:' > "$dir/prompt.txt"
common=(--slm "$dir/slm.gguf" --llm "$dir/llm.gguf" --template-slm raw --template-llm raw
        --prompt-template "$dir/prompt.txt" --think-budget 48 --max-step-tokens 24
        --final-max-tokens 12 --threads 1 --seed 3)
# tau 3.5 is above ln 20, the largest top-20 entropy: glimp then never calls the LLM
"$GLIMP" eval --data gsm8k --limit 5 --policy glimp,llm,slm,random:0.3 --tau 0.5,3.5 \
  --out "$dir/run" "${common[@]}" > "$dir/out.txt" 2> "$dir/err.txt" \
  || fail "glimp eval exited $?: $(cat "$dir/err.txt")"
grep -q "25 items planned, 0 already in .* (skipped), 25 run now, 0 failed" "$dir/err.txt" \
  || fail "counts: $(cat "$dir/err.txt")"
[ "$(wc -l < "$dir/run/items.jsonl")" -eq 25 ] || fail "items.jsonl has $(wc -l < "$dir/run/items.jsonl") lines"
for f in items.jsonl summary.csv summary.md accuracy_latency.svg h_init_hist.svg llm_share_tau.svg; do
  [ -s "$dir/run/$f" ] || fail "$f missing"
done
if command -v xmllint >/dev/null; then
  for f in "$dir"/run/*.svg; do xmllint --noout "$f" || fail "$f is not well-formed"; done
fi
csv=$(cat "$dir/run/summary.csv")
[ "$(wc -l < "$dir/run/summary.csv")" -eq 6 ] || fail "summary.csv: $csv"
# llm: every step by the LLM; slm and glimp at tau 3.5: none
grep -q '^llm,,5,.*,1\.000000,1\.000000,' <<< "$csv" || fail "llm row: $csv"
grep -q '^slm,,5,.*,0\.000000,' <<< "$csv" || fail "slm row: $csv"
grep -q '^glimp,3.5,5,.*,0\.000000,' <<< "$csv" || fail "glimp 3.5 row: $csv"
grep -q '"trace":{"question":"Q: Janet' "$dir/run/items.jsonl" || fail "trace not recorded"
grep -q '"reference":"18"' "$dir/run/items.jsonl" || fail "reference of problem 0"
grep -q "| policy | tau |" "$dir/out.txt" || fail "summary table not printed"

# resumable: nothing left to do
"$GLIMP" eval --data gsm8k --limit 5 --policy glimp,llm,slm,random:0.3 --tau 0.5,3.5 \
  --out "$dir/run" "${common[@]}" > /dev/null 2> "$dir/err2.txt" || fail "rerun: $(cat "$dir/err2.txt")"
grep -q "25 items planned, 25 already in .* (skipped), 0 run now" "$dir/err2.txt" \
  || fail "rerun counts: $(cat "$dir/err2.txt")"

cp "$dir/run/summary.csv" "$dir/before.csv"
"$GLIMP" report "$dir/run" > /dev/null || fail "report"
cmp -s "$dir/before.csv" "$dir/run/summary.csv" || fail "report changed summary.csv"

"$GLIMP" calibrate --slm "$dir/slm.gguf" --data gsm8k --limit 3 --target-share 0.25 --template-slm raw \
  --prompt-template "$dir/prompt.txt" --think-budget 48 --max-step-tokens 24 --threads 1 \
  > "$dir/cal.txt" 2>/dev/null || fail "calibrate exited $?"
grep -q "tau for an LLM step share of 0.25: [0-9]" "$dir/cal.txt" || fail "calibrate: $(cat "$dir/cal.txt")"
grep -q "steps from 3 problems of gsm8k" "$dir/cal.txt" || fail "calibrate counts: $(cat "$dir/cal.txt")"

# hstep: the tau calibrate picks is the score quantile of the SLM's own drafts,
# which glimp eval records when every draft stands (an infinite tau)
"$GLIMP" calibrate --policy hstep --slm "$dir/slm.gguf" --data gsm8k --limit 4 --target-share 0.25 --seed 3 \
  --template-slm raw --prompt-template "$dir/prompt.txt" --think-budget 48 --max-step-tokens 24 \
  --threads 1 > "$dir/cal_h.txt" 2>/dev/null || fail "calibrate hstep exited $?"
grep -q "^H_step (mean token entropy) of [0-9]* steps from 4 problems" "$dir/cal_h.txt" \
  || fail "calibrate hstep: $(cat "$dir/cal_h.txt")"
tau=$(sed -n 's/^tau for an LLM step share of 0.25: //p' "$dir/cal_h.txt")
if command -v python3 >/dev/null; then
  "$GLIMP" eval --data gsm8k --limit 4 --policy hstep --tau 1e9 --out "$dir/drafts" \
    "${common[@]}" > /dev/null 2>&1 || fail "eval hstep drafts"
  python3 - "$dir/drafts/items.jsonl" "$tau" <<'PY' || fail "calibrated hstep tau $tau"
import json, sys
scores = [s["draft"]["score"] for line in open(sys.argv[1])
          for s in json.loads(line)["trace"]["steps"] if s["draft"]["score"] is not None]
above = sum(v >= float(sys.argv[2]) for v in scores)
# the (1 - share) quantile, interpolated: the share above it is 0.25 within one step
assert abs(above - 0.25 * len(scores)) <= 1, (above, len(scores))
PY
fi

rc=0; "$GLIMP" eval --data gsm8k --slm "$dir/slm.gguf" --llm "$dir/llm.gguf" --policy bogus 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "unknown policy: exit $rc, want 2"
echo ok
