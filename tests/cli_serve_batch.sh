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

random_model "$T/m.gguf"
start_server one -m "$T/m.gguf" --template raw --parallel 1 -t 1
start_server four -m "$T/m.gguf" --template raw --parallel 4 --queue 4 --batch-tokens 64 -t 1

long=$(for i in $(seq 1 60); do printf 'Owen has %d bags. ' "$i"; done)
prompts=("Once" "Zoe has 8 boxes of 3" "$long" "The answer is" "Owen gives 5 to Zoe")
# long enough that the five overlap on a busy machine (at 24 tokens a request
# took ~20 ms, and with other tests running the curls sometimes started
# after the one before had finished: no pass was shared)
max_tokens=160
body_of() { # I : request I, the second one streamed
    local stream=false
    [ "$1" = 1 ] && stream=true
    printf '{"prompt":"%s","max_tokens":%d,"temperature":0,"logprobs":2,"stream":%s}' \
        "${prompts[$1]}" "$max_tokens" "$stream"
}
# ids, times and the reused prompt prefix (which slot served what before) may differ
strip_answer() {
    sed -e 's/"id":"[^"]*"//g' -e 's/"created":[0-9]*//g' -e 's/"cached_tokens":[0-9]*//g' |
        grep -v -e '^: keep-alive' -e '^$'
}
alone_vs_batched "http://127.0.0.1:$PORT_one" "http://127.0.0.1:$PORT_four" /v1/completions \
    "${#prompts[@]}"
for i in "${!prompts[@]}"; do
    grep -q "\"completion_tokens\":$max_tokens\|data: \[DONE\]" "$T/alone.$i" ||
        fail "request $i alone: $(head -c 300 "$T/alone.$i")"
done
passes_shared "http://127.0.0.1:$PORT_four"
echo "cli_serve_batch: 5 concurrent requests equal to alone; $BATCH_SHARING"
