#!/usr/bin/env bash
# cli_serve_routed_batch.sh - the routed pair of `glimp serve --parallel 4`
# over real HTTP on 127.0.0.1, on the demo pair (in the repository): its
# slots share one copy of each model and one stepper per model, so the SLM's
# probes and steps of concurrent requests share forward passes, and so do
# the LLM's. Five concurrent greedy requests (one streamed) must get exactly
# the answers each gets alone from a one-slot server (timings and prefill
# counts aside), and
# /metrics must show passes that carried several steps. Then the five again,
# one at a time: each lands on the first slot, which copies the question
# (and the steps) from the slot that computed it, and answers the same.
set -u
B=${GLIMP_BIN:?}
SRC=${GLIMP_SRC:-..}
SLM=$SRC/models/demo/slm.gguf
LLM=$SRC/models/demo/llm.gguf
[ -f "$SLM" ] && [ -f "$LLM" ] || { echo "SKIP: demo pair not found (set GLIMP_SRC)"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/lib/serve.bash"

start_server one -t 1 --slm "$SLM" --llm "$LLM" --parallel 1
start_server four -t 1 --slm "$SLM" --llm "$LLM" --parallel 4 --queue 4

questions=(
    "Owen has 6 bags with 8 marbles in each. Zoe has 8 jars with 3 marbles in each. How many marbles?"
    "Emma has 5 bags with 2 stickers in each. Eva has 21 stickers. Whoever has more stickers gives 4 to the other. How many more stickers does the one with more have?"
    "Finn has 12 beads. Nina has 3 boxes with 7 beads in each. How many beads do they have?"
    "Iris has 9 shells. She finds 14 more. How many shells does Iris have?"
    "Jack has 4 jars with 6 coins in each. Noah has 30 coins. Who has more coins?")
body_of() { # I : request I, the second one streamed
    local stream=false
    [ "$1" = 1 ] && stream=true
    printf '{"model":"glimprouter","messages":[{"role":"user","content":"%s"}],"temperature":0,"max_tokens":160,"stream":%s}' "${questions[$1]}" "$stream"
}
# the answer without ids, creation times, timings and prefill counts (a
# slot's cache holds whatever request it ran before; routed usage counts the
# prompt tokens the models evaluated), and the keep-alive comments of a
# stream that was silent for a while
strip_answer() {
    sed -E -e 's/"id":"[^"]*"//g' -e 's/"created":[0-9]+//g' -e 's/"time_ms":\{[^}]*\}//g' \
        -e 's/"[a-z_]*_ms":[-0-9.eE+]+//g' -e 's/"prefill_tokens":(\{[^}]*\}|[0-9]+)//g' \
        -e 's/"(prompt|total)_tokens":[0-9]+//g' | grep -v -e '^: keep-alive' -e '^$'
}
alone_vs_batched "http://127.0.0.1:$PORT_one" "http://127.0.0.1:$PORT_four" /v1/chat/completions \
    "${#questions[@]}"
for i in "${!questions[@]}"; do
    grep -q '"finish_reason":"stop"\|"finish_reason":"length"' "$T/alone.$i" ||
        fail "request $i alone: $(head -c 300 "$T/alone.$i")"
done
passes_shared "http://127.0.0.1:$PORT_four"
for i in "${!questions[@]}"; do
    curl -sN "http://127.0.0.1:$PORT_four/v1/chat/completions" -d "$(body_of "$i")" |
        strip_answer >"$T/again.$i"
    cmp -s "$T/alone.$i" "$T/again.$i" ||
        fail "request $i again differs: $(diff "$T/alone.$i" "$T/again.$i" | head -c 600)"
done
# at most two of the five ran on the first slot, which keeps one: three or more were copied
copied=$(curl -s "http://127.0.0.1:$PORT_four/metrics" |
    sed -n 's/^glimp_prefix_copied_tokens_total //p')
[ -n "$copied" ] && [ "$copied" -gt 0 ] || fail "no prompt tokens copied between slots: '$copied'"
echo "cli_serve_routed_batch: 5 concurrent routed requests equal to alone; $BATCH_SHARING;" \
    "again one by one: $copied prompt tokens copied between slots"
