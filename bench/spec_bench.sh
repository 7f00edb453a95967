#!/usr/bin/env bash
# spec_bench.sh - speculative decoding on the demo pair: `glimp run` over the
# first N benchmark questions (greedy), policies llm and glimp, --spec off /
# model / ngram; prints LLM time, LLM tokens, LLM tokens/s, the LLM's rate
# over its steps after each question's first (step_tok/s: the first step's
# time holds the question's prefill, which speculation does not touch),
# acceptance, tokens per LLM forward pass, wall time and correct answers.
# usage: bench/spec_bench.sh [N=20] [THREADS=1]   (from the repository root, after make)
set -euo pipefail
n=${1:-20}
threads=${2:-1}
bin=build/glimp
demo=models/demo
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -n "$n" "$demo/bench.jsonl" >"$tmp/q.jsonl"
printf "%-6s %-6s %9s %7s %9s %10s %7s %8s %9s %7s\n" policy spec llm_ms llm_tok llm_tok/s step_tok/s accept tok/fwd wall_ms correct
for policy in llm glimp; do
  for spec in off model ngram; do
    : >"$tmp/out"
    while IFS= read -r line; do
      q=$(jq -r .question <<<"$line")
      a=$(jq -r .answer <<<"$line")
      "$bin" run --slm "$demo/slm.gguf" --llm "$demo/llm.gguf" --policy "$policy" --temp 0 \
        -t "$threads" --spec "$spec" --json "$q" 2>/dev/null |
        jq -c --arg a "$a" '{ms: .totals.time_ms.llm, tok: .totals.tokens.llm, wall: .totals.wall_ms,
              sms: ([.steps[1:][] | select(.model == "llm") | .gen_ms] | add // 0),
              stok: ([.steps[1:][] | select(.model == "llm") | .n_tokens] | add // 0),
              d: .spec.drafted, acc: .spec.accepted, fwd: .spec.llm_forwards,
              ok: ((.answer.text | capture("boxed\\{(?<n>[0-9]+)\\}").n // "") == $a)}' >>"$tmp/out"
    done <"$tmp/q.jsonl"
    jq -rs --arg p "$policy" --arg s "$spec" '
      (map(.ms) | add) as $ms | (map(.tok) | add) as $tok | (map(.d) | add) as $d |
      (map(.acc) | add) as $acc | (map(.fwd) | add) as $fwd | (map(.wall) | add) as $wall |
      (map(.sms) | add) as $sms | (map(.stok) | add) as $stok |
      [$p, $s, ($ms | floor), $tok, ($tok / $ms * 1000 | floor),
       (if $sms > 0 then ($stok / $sms * 1000 | floor) else "-" end),
       (if $d > 0 then ($acc / $d * 100 | floor | tostring) + "%" else "-" end),
       ($tok / $fwd * 100 | floor / 100), ($wall | floor), (map(select(.ok)) | length)] |
      @tsv' "$tmp/out" | awk -F'\t' '{printf "%-6s %-6s %9s %7s %9s %10s %7s %8s %9s %7s\n", $1,$2,$3,$4,$5,$6,$7,$8,$9,$10}'
  done
done
