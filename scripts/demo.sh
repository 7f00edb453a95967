#!/usr/bin/env bash
# demo.sh - what `make demo` runs after building: GlimpRouter on the project's
# own demo pair (models/demo). First one routed question with its step trace,
# then the demo benchmark under four policies: the LLM alone, the SLM alone,
# glimp at the default tau, and random routing at the share glimp sent to the
# LLM (the matched-share control). Prints the summary table and leaves
# items.jsonl, run.json, summary.{md,csv} and the SVG plots in $DEMO_OUT/seed-S.
#   DEMO_LIMIT=N   benchmark problems (default 200, all; `make demo-quick`: 20)
#   DEMO_OUT=DIR   output root (default build/demo); seed S writes DIR/seed-S, and
#                  rerunning with that seed resumes there
#   DEMO_SEED=S    run seed (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
glimp=build/glimp
models=models/demo
limit=${DEMO_LIMIT:-200}
seed=${DEMO_SEED:-1}
out=${DEMO_OUT:-build/demo}/seed-$seed # a run's records are one seed's (docs/eval.md)
[ -x "$glimp" ] || { echo "demo: $glimp is missing: run make first" >&2; exit 1; }
for f in "$models/slm.gguf" "$models/llm.gguf" "$models/bench.jsonl" "$models/prompt.txt"; do
  [ -f "$f" ] || { echo "demo: $f is missing" >&2; exit 1; }
done
pair=(--slm "$models/slm.gguf" --llm "$models/llm.gguf")
data=(--data "$models/bench.jsonl" --grade integer --prompt-template "$models/prompt.txt")

# The question of the first benchmark problem, from its JSON line.
question=$(head -n 1 "$models/bench.jsonl" | sed -e 's/.*"question": *"\([^"]*\)".*/\1/')
echo "== glimp run: one demo question, each step tagged [index writer H_init]"
echo
"$glimp" run "${pair[@]}" --seed "$seed" "$question"
echo

echo "== glimp eval: $limit benchmark problems, policies llm, slm, glimp (tau 1.0)"
mkdir -p "$out"
"$glimp" eval "${pair[@]}" "${data[@]}" --limit "$limit" --seed "$seed" --out "$out" \
    --policy llm,slm,glimp --tau 1.0 >/dev/null

# The LLM step share glimp routed (summary.csv column llm_step_share).
share=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
                 $col["policy"] == "glimp" { printf "%.4f", $col["llm_step_share"] }' \
            "$out/summary.csv")
[ -n "$share" ] || { echo "demo: no glimp row in $out/summary.csv" >&2; exit 1; }
echo "== glimp eval: random routing at glimp's LLM step share ($share)"
"$glimp" eval "${pair[@]}" "${data[@]}" --limit "$limit" --seed "$seed" --out "$out" \
    --policy "llm,slm,glimp,random:$share" --tau 1.0 >/dev/null
echo
cat "$out/summary.md"
echo
echo "demo: plots and per-item records in $out/ (accuracy_latency.svg, h_init_hist.svg," \
     "llm_share_tau.svg, items.jsonl)"
