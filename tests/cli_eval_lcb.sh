#!/usr/bin/env bash
# cli_eval_lcb.sh - `glimp eval --data lcb` end to end on the demo pair over
# the first 3 LiveCodeBench problems: the run finishes, every record is an
# lcb record with its per-test verdicts (the demo pair writes no Python, so
# each answer fails: this checks the plumbing, test_eval_lcb*.c the grader),
# and the summary has its pass@k columns. A missing python3 is a clear
# error before any model runs. Needs ../shared/datasets and python3, else 77.
set -euo pipefail
GLIMP=${GLIMP_BIN:?GLIMP_BIN not set}
SRC=${GLIMP_SRC:?GLIMP_SRC not set}
SHARED=${GLIMP_SHARED:-../shared}
[ -f "$SHARED/datasets/lcb_v6.jsonl" ] || { echo "SKIP: $SHARED/datasets/lcb_v6.jsonl absent"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3 on PATH"; exit 77; }
dir=$(mktemp -d /tmp/glimp_cli_lcb.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export GLIMP_DATA_DIR=$SHARED/datasets
# the demo pair was trained on 512 positions; the prompts are longer: garbage, but it runs
pair=(--slm "$SRC/models/demo/slm.gguf" --llm "$SRC/models/demo/llm.gguf" --think-budget 32
      --max-step-tokens 16 --final-max-tokens 24 --threads 1 --seed 1 --ctx 2048)

"$GLIMP" eval --data lcb --limit 3 --policy glimp,slm --tau 1.0 --out "$dir/run" "${pair[@]}" \
  > "$dir/out.txt" 2> "$dir/err.txt" || fail "glimp eval exited $?: $(cat "$dir/err.txt")"
grep -q "glimp eval: lcb (175 problems)" "$dir/err.txt" || fail "dataset: $(cat "$dir/err.txt")"
grep -q "6 items planned, 0 already in .* (skipped), 6 run now, 0 failed" "$dir/err.txt" \
  || fail "counts: $(cat "$dir/err.txt")"
items=$dir/run/items.jsonl
[ "$(wc -l < "$items")" -eq 6 ] || fail "items.jsonl has $(wc -l < "$items") lines"
[ "$(grep -c '"dataset":"lcb"' "$items")" -eq 6 ] || fail "dataset field"
[ "$(grep -c '"reference":null' "$items")" -eq 6 ] || fail "reference field"
[ "$(grep -c '"tests":\[' "$items")" -eq 6 ] || fail "tests field"
[ "$(grep -c '"correct":false' "$items")" -eq 6 ] || fail "the demo pair passed a test?"
grep -q '"problem":"abc387_b"' "$items" || fail "first problem"
grep -q 'You are an expert Python programmer' "$items" || fail "prompt not in the traces"
head -n 1 "$dir/run/summary.csv" | grep -q ',pareto,pass_k,pass_at_k,spec_acceptance$' || fail "summary.csv header"
grep -q "| pass@k |" "$dir/out.txt" || fail "summary table"

# without python3 the run is refused before any model runs
mkdir "$dir/bin"
for t in mkdir rm cat; do ln -s "$(command -v $t)" "$dir/bin/$t"; done
if PATH=$dir/bin "$GLIMP" eval --data lcb --limit 1 --policy slm --out "$dir/run2" "${pair[@]}" \
     > /dev/null 2> "$dir/err2.txt"; then
  fail "ran without python3"
fi
grep -q "python3 not found on PATH" "$dir/err2.txt" || fail "no python3: $(cat "$dir/err2.txt")"
echo "ok"
