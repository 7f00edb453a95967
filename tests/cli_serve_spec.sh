#!/usr/bin/env bash
# cli_serve_spec.sh - speculative decoding in single-model glimp serve
# (--spec ngram) over real HTTP on 127.0.0.1, on the demo LLM (its traces
# repeat amounts and names, so prompt lookup finds drafts): greedy answers,
# with logprobs, streamed or whole, must equal those of a server without
# speculation token for token, with one slot and with three slots whose
# verify passes share the stepper's forward passes with the other slots'
# steps; /metrics counts drafted and accepted tokens. A sampled request
# answers normally. `--spec model` with one model is refused (no draft).
set -u
B=${GLIMP_BIN:?}
SRC=${GLIMP_SRC:?}
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/lib/serve.bash"

M="$SRC/models/demo/llm.gguf"
start_server off -m "$M" --parallel 1 -t 1
start_server one -m "$M" --parallel 1 -t 1 --spec ngram --draft-max 8
start_server three -m "$M" --parallel 3 -t 1 --spec ngram
off="http://127.0.0.1:$PORT_off"

questions=(
    "Owen has 6 bags with 8 marbles in each. Zoe has 8 jars with 3 marbles in each. Whoever has more marbles gives 5 to the other. How many marbles does Zoe have?"
    "Mia has 45 stamps. Leo has 7 boxes with 9 stamps in each. Leo gives 6 to Mia. How many stamps do they have in total?"
    "Ava has 23 shells. Ben has 31 shells. Ava finds 12 more shells. Whoever has fewer shells gets 4 from the other. How many more shells does the one with more have?"
)
body_of() { # I: chat for 0 and 1 (1 streamed), completions with logprobs for 2
    case $1 in
    0) printf '{"messages":[{"role":"user","content":"%s"}],"max_tokens":300,"temperature":0}' \
        "${questions[0]}" ;;
    1) printf '{"messages":[{"role":"user","content":"%s"}],"max_tokens":300,"temperature":0,"stream":true}' \
        "${questions[1]}" ;;
    2) printf '{"prompt":"<|im_start|>user\\n%s<|im_end|>\\n<|im_start|>assistant\\n<think>\\n","max_tokens":300,"temperature":0,"logprobs":3}' \
        "${questions[2]}" ;;
    esac
}
path_of() { [ "$1" = 2 ] && echo /v1/completions || echo /v1/chat/completions; }
strip_answer() { # what the order of requests and the speed change: ids, times, cached
    # tokens, SSE keep-alive comments (a slow build may send one) and blank lines
    sed -e 's/"id":"[^"]*"//g' -e 's/"created":[0-9]*//g' -e 's/"usage":{.*}//' \
        -e '/^:/d' -e '/^$/d'
}

for i in 0 1 2; do
    curl -sN "$off$(path_of $i)" -d "$(body_of $i)" | strip_answer >"$T/off.$i"
    [ -s "$T/off.$i" ] || fail "request $i without speculation: no answer"
done
grep -q '"token_logprobs"' "$T/off.2" || fail "no logprobs: $(head -c 300 "$T/off.2")"

for name in one three; do
    eval "url=http://127.0.0.1:\$PORT_$name"
    pids=()
    for i in 0 1 2; do
        curl -sN "$url$(path_of $i)" -d "$(body_of $i)" | strip_answer >"$T/$name.$i" &
        pids+=($!)
    done
    wait "${pids[@]}"
    for i in 0 1 2; do
        cmp -s "$T/off.$i" "$T/$name.$i" ||
            fail "request $i with --spec ngram ($name) differs from without: \
$(diff "$T/off.$i" "$T/$name.$i" | head -c 600)"
    done
    m=$(curl -s "$url/metrics")
    drafted=$(sed -n 's/^glimp_spec_drafted_tokens_total //p' <<<"$m")
    accepted=$(sed -n 's/^glimp_spec_accepted_tokens_total //p' <<<"$m")
    [ -n "$drafted" ] && [ -n "$accepted" ] && [ "$accepted" -gt 0 ] ||
        fail "$name: metrics show drafted '$drafted', accepted '$accepted'"
    eval "counts_$name='$accepted of $drafted'"
done
passes_shared "http://127.0.0.1:$PORT_three"

# sampled: an answer that ends as answers do
curl -s "http://127.0.0.1:$PORT_three/v1/chat/completions" -d "{\"messages\":[{\"role\":\"user\",
    \"content\":\"${questions[0]}\"}],\"max_tokens\":300,\"temperature\":0.8,\"seed\":7}" >"$T/sampled"
grep -q '"finish_reason":"\(stop\|length\)"' "$T/sampled" ||
    fail "sampled request: $(head -c 300 "$T/sampled")"

"$B" serve -m "$M" --spec model --port 0 >"$T/model.out" 2>&1 &&
    fail "--spec model with one model was accepted"
grep -q "routed pair" "$T/model.out" || fail "--spec model refusal: $(cat "$T/model.out")"

stop_server three
stop_server one
stop_server off
echo "cli_serve_spec: 3 answers equal with and without speculation; accepted $counts_one" \
    "drafts (1 slot), $counts_three (3 slots, $BATCH_SHARING)"
