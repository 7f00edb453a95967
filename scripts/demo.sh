#!/usr/bin/env bash
# demo.sh - what `make demo` runs after building: GlimpRouter on the project's
# own demo pair (models/demo). First one routed question with its step trace,
# then the paper's comparison on the demo benchmark: the LLM alone, the SLM
# alone, glimp at tau 0.5 / 1.0 / 1.5, random routing at each glimp's LLM step
# share (the matched-share control), hstep and pplstep calibrated to glimp
# tau 1.0's share (`glimp calibrate --policy`), and specreason (tau 7). Prints
# the summary table and leaves items.jsonl, run.json, summary.{md,csv} and the
# SVG plots (accuracy_latency.svg marks the Pareto front) in $DEMO_OUT/seed-S.
#
# The demo models are so small that a forward pass is mostly fixed costs, so
# batching items gains nothing; instead two evaluations run side by side, one
# thread each (lanes a and b, each its own resumable folder), and `glimp
# report` summarises their records together.
#   DEMO_LIMIT=N     benchmark problems (default 200; all: 500; `make demo-quick`: 20)
#   DEMO_OUT=DIR     output root (default build/demo); seed S writes DIR/seed-S,
#                    and rerunning with that seed resumes there
#   DEMO_SEED=S      run seed (default 1)
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
pair=(--slm "$models/slm.gguf" --llm "$models/llm.gguf" -t 1)
data=(--data "$models/bench.jsonl" --grade integer --prompt-template "$models/prompt.txt"
      --limit "$limit" --seed "$seed")
taus=(0.5 1.0 1.5)
join() { local IFS=,; echo "$*"; }

# The question of the first benchmark problem, from its JSON line.
question=$(head -n 1 "$models/bench.jsonl" | sed -e 's/.*"question": *"\([^"]*\)".*/\1/')
echo "== glimp run: one demo question, each step tagged [index writer H_init]"
echo
"$glimp" run "${pair[@]}" --seed "$seed" "$question"
echo

mkdir -p "$out/lane-a" "$out/lane-b"
lane() { # lane a|b, then policy list and tau list
  "$glimp" eval "${pair[@]}" "${data[@]}" --out "$out/lane-$1" --policy "$2" --tau "$3" \
      >/dev/null 2>"$out/lane-$1/stderr.txt" ||
    { cat "$out/lane-$1/stderr.txt" >&2; return 1; }
}
both() { # waits for two background jobs; fails if either did
  local rc=0
  wait "$1" || rc=1
  wait "$2" || rc=1
  return $rc
}
summarise() { # the two lanes' records, summarised as one run
  cp "$out/lane-a/run.json" "$out/run.json"
  cat "$out/lane-a/items.jsonl" "$out/lane-b/items.jsonl" > "$out/items.jsonl"
  "$glimp" report "$out" > /dev/null
}

echo "== glimp eval: $limit benchmark problems: llm, slm, glimp at tau ${taus[*]}"
lane a glimp "$(join "${taus[@]}")" & a=$!
lane b llm,slm 1.0 & b=$!
both $a $b
summarise

# The LLM step share of glimp at tau $1 (summary.csv column llm_step_share).
share_at() {
  awk -F, -v tau="$1" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
      $col["policy"] == "glimp" && $col["tau"] + 0 == tau + 0 {
        printf "%.4f", $col["llm_step_share"] }' "$out/summary.csv"
}
random=()
for t in "${taus[@]}"; do
  s=$(share_at "$t")
  [ -n "$s" ] || { echo "demo: no glimp tau $t row in $out/summary.csv" >&2; exit 1; }
  # a share of 0 is no routing at all: random:0 is the slm row
  awk -v s="$s" 'BEGIN { exit !(s > 0) }' && random+=("random:$s")
done
share=$(share_at 1.0)
echo "== glimp eval: random routing at each glimp's LLM step share (${random[*]:-none});"
echo "   specreason (the LLM judges each SLM step 0-9 and rewrites it below 7)"
echo "   hstep and pplstep at glimp tau 1.0's LLM step share ($share)"
lane_a2() {
  [ ${#random[@]} -eq 0 ] || lane a "$(join "${random[@]}")" 1.0
  lane a specreason 7
}
lane_b2() {
  local p tau
  awk -v s="$share" 'BEGIN { exit !(s > 0 && s < 1) }' || return 0
  for p in hstep pplstep; do
    tau=$("$glimp" calibrate --policy "$p" --slm "$models/slm.gguf" -t 1 "${data[@]}" \
              --target-share "$share" 2>/dev/null | sed -n 's/^tau for an LLM step share.*: //p')
    [ -n "$tau" ] || { echo "demo: glimp calibrate --policy $p gave no tau" >&2; return 1; }
    lane b "$p" "$tau"
  done
}
lane_a2 & a=$!
lane_b2 & b=$!
both $a $b
summarise
echo
cat "$out/summary.md"
echo
echo "demo: plots and per-item records in $out/ (accuracy_latency.svg, h_init_hist.svg," \
     "llm_share_tau.svg, items.jsonl)"
