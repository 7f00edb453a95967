#!/usr/bin/env bash
# cli_serve_batch.sh - continuous batching in glimp serve over real HTTP on
# 127.0.0.1: five concurrent greedy requests (one streamed, one with a prompt
# of several chunks) to a server with 4 slots whose steps share forward
# passes must get exactly the answers (text and logprobs) each request gets
# alone from a one-slot server; /metrics shows passes that carried several
# steps. Model: a random Q8_0 model made with mkmodel and the demo
# vocabulary (in the repository), so generation runs to max_tokens.
set -u
B=${GLIMP_BIN:?}
SRC=${GLIMP_SRC:?}
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/lib/serve.bash"

"$B" mkmodel -o "$T/m.gguf" --arch qwen3 --layers 4 --dim 256 --heads 4 --kv-heads 2 \
    --head-dim 64 --ff 768 --type Q8_0 --vocab "$SRC/models/demo/slm.gguf" --ctx 4096 --quiet ||
    fail "mkmodel"
start_server one -m "$T/m.gguf" --template raw --parallel 1 -t 1
start_server four -m "$T/m.gguf" --template raw --parallel 4 --queue 4 --batch-tokens 64 -t 1

long=$(for i in $(seq 1 60); do printf 'Owen has %d bags. ' "$i"; done)
prompts=("Once" "Zoe has 8 boxes of 3" "$long" "The answer is" "Owen gives 5 to Zoe")
body() { # PROMPT STREAM
    printf '{"prompt":"%s","max_tokens":24,"temperature":0,"logprobs":2,"stream":%s}' "$1" "$2"
}
# without ids, creation times and the keep-alive comments of a stream that was
# silent for a while (a slow sanitizer build may send them)
# ids, times and the reused prompt prefix (which slot served what before) may differ
strip_ids() {
    sed -e 's/"id":"[^"]*"//g' -e 's/"created":[0-9]*//g' -e 's/"cached_tokens":[0-9]*//g' |
        grep -v -e '^: keep-alive' -e '^$'
}
for i in "${!prompts[@]}"; do
    s=false; [ "$i" = 1 ] && s=true
    curl -sN "http://127.0.0.1:$PORT_one/v1/completions" -d "$(body "${prompts[$i]}" $s)" |
        strip_ids >"$T/alone.$i"
done
for i in "${!prompts[@]}"; do
    s=false; [ "$i" = 1 ] && s=true
    curl -sN "http://127.0.0.1:$PORT_four/v1/completions" -d "$(body "${prompts[$i]}" $s)" |
        strip_ids >"$T/batch.$i" &
done
wait $(jobs -p | grep -v -F -x -f <(printf '%s\n' "${PIDS[@]}"))
for i in "${!prompts[@]}"; do
    grep -q '"completion_tokens":24\|data: \[DONE\]' "$T/alone.$i" ||
        fail "request $i alone: $(head -c 300 "$T/alone.$i")"
    cmp -s "$T/alone.$i" "$T/batch.$i" ||
        fail "request $i batched differs from alone: $(diff "$T/alone.$i" "$T/batch.$i" | head -c 600)"
done
m=$(curl -s "http://127.0.0.1:$PORT_four/metrics")
passes=$(sed -n 's/^glimp_batch_passes_total //p' <<<"$m")
steps=$(sed -n 's/^glimp_batch_steps_total //p' <<<"$m")
[ -n "$passes" ] && [ "$steps" -gt "$passes" ] ||
    fail "no pass carried several steps: passes '$passes', steps '$steps'"
echo "cli_serve_batch: 5 concurrent requests equal to alone; $steps steps in $passes passes"
