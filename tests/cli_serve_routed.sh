#!/usr/bin/env bash
# cli_serve_routed.sh - the routed pair of `glimp serve` (model "glimprouter")
# and /metrics over real HTTP on 127.0.0.1 (free ports, curl), on the demo
# pair models/demo/{slm,llm}.gguf (in the repository):
#  - a question the context cannot hold with its answer is a 400
#    context_length_exceeded (an error event alone when streaming), as in
#    single-model mode;
#  - thinking that fills the context ends ("think_end":"context") and the
#    answer follows;
#  - `stop` ends the final answer (not part of it): finish_reason "stop"
#    and stop_reason, streamed and not;
#  - usage: prompt_tokens > 0, total = prompt + completion;
#  - /metrics labels a single model's tokens by its name, the pair's by
#    slm/llm, and counts the tokens of requests whose client hung up
#    (single model and pair, on slow random-weight models);
#  - one client's back-to-back requests on one slot without a queue: all 200.
set -u
B=${GLIMP_BIN:?}
SRC=${GLIMP_SRC:-..}
SLM=$SRC/models/demo/slm.gguf
LLM=$SRC/models/demo/llm.gguf
[ -f "$SLM" ] && [ -f "$LLM" ] || { echo "SKIP: demo pair not found (set GLIMP_SRC)"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/lib/serve.bash"
Q="Owen has 6 bags with 8 marbles in each. Zoe has 8 jars with 3 marbles in each. Whoever has more marbles gives 5 to the other. Owen finds 32 more marbles. How many more marbles does the one with more have?"
chat() { # chat URL EXTRA_JSON : the question with greedy sampling and EXTRA fields
    curl -sN "$1/v1/chat/completions" -d "{\"messages\":[{\"role\":\"user\",\"content\":\"$Q\"}],
        \"temperature\":0$2}"
}
# the text of every "field" delta of an SSE file, joined
deltas() { grep -o "\"$2\":\"[^\"]*\"" "$1" | sed "s/^\"$2\":\"//; s/\"$//" | tr -d '\n'; }

# ---- context overflow: 400 context_length_exceeded ---------------------------
start_server small -t 1 --slm "$SLM" --llm "$LLM" --ctx 60
U="http://127.0.0.1:$PORT_small"
[ "$(code "$U/v1/chat/completions" -d "{\"messages\":[{\"role\":\"user\",\"content\":\"$Q\"}]}")" = 400 ] ||
    fail "context overflow must be 400: $(cat "$T/body")"
grep -q '"code":"context_length_exceeded"' "$T/body" &&
    grep -q '"type":"invalid_request_error"' "$T/body" || fail "error object: $(cat "$T/body")"
chat "$U" ',"stream":true' >"$T/over.sse"
grep -q '^data: {"error":{.*"code":"context_length_exceeded"' "$T/over.sse" ||
    fail "streamed overflow: $(cat "$T/over.sse")"
grep -q '"role":"assistant"' "$T/over.sse" && fail "no role chunk before the error event"
curl -s "$U/metrics" | grep -q 'endpoint="/v1/chat/completions",status="400"} 2' ||
    fail "both overflows count as 400: $(curl -s "$U/metrics" | grep requests_total)"
stop_server small

# ---- thinking fills the context: the answer follows ----------------------------
start_server mid -t 1 --slm "$SLM" --llm "$LLM" --ctx 128
U="http://127.0.0.1:$PORT_mid"
chat "$U" ',"max_tokens":24' >"$T/mid.json"
grep -q '"think_end":"context"' "$T/mid.json" || fail "think_end context: $(head -c 800 "$T/mid.json")"
grep -q '"content":"[^"]' "$T/mid.json" || fail "an answer after a full context: $(head -c 800 "$T/mid.json")"
stop_server mid

# ---- stop strings on the answer; usage -----------------------------------------
start_server pair -t 1 --slm "$SLM" --llm "$LLM"
U="http://127.0.0.1:$PORT_pair"
chat "$U" '' >"$T/free.json"
grep -q '"content":"[^"]*\\\\boxed{' "$T/free.json" ||
    fail "the demo answer has a \\boxed{}: $(head -c 600 "$T/free.json")"
chat "$U" ',"stop":["\\boxed"]' >"$T/stop.json"
grep -q '"content":"[^"]*answer is ' "$T/stop.json" && ! grep -q '"content":"[^"]*boxed' "$T/stop.json" ||
    fail "stop must end the answer: $(head -c 600 "$T/stop.json")"
grep -q '"finish_reason":"stop","stop_reason":"\\\\boxed"' "$T/stop.json" ||
    fail "finish_reason/stop_reason: $(grep -o '"finish_reason.\{0,60\}' "$T/stop.json")"
grep -q '"finish_reason":"stop","stop_reason":null' "$T/free.json" ||
    fail "end of turn is finish_reason stop: $(grep -o '"finish_reason.\{0,60\}' "$T/free.json")"
chat "$U" ',"stop":["\\boxed"],"stream":true' >"$T/stop.sse"
A=$(deltas "$T/stop.sse" content)
case "$A" in *"answer is "*) ;; *) fail "streamed answer: $A" ;; esac
case "$A" in *boxed*) fail "stop must end the streamed answer: $A" ;; esac
grep -q '"finish_reason":"stop","stop_reason":"\\\\boxed"' "$T/stop.sse" || fail "streamed finish_reason"
[ "$(deltas "$T/stop.sse" reasoning_content)" = "$(deltas "$T/stop.json" reasoning_content)" ] ||
    fail "streamed reasoning differs from the whole answer's"
for f in stop.json stop.sse; do
    read -r p c t < <(grep -o '"usage":{"prompt_tokens":[0-9]*,"completion_tokens":[0-9]*,"total_tokens":[0-9]*' \
        "$T/$f" | tr -c '0-9\n' ' ')
    [ "${p:-0}" -gt 0 ] && [ "$t" = $((p + c)) ] || fail "$f usage: prompt $p completion $c total $t"
done
curl -s "$U/metrics" >"$T/m.pair"
grep -q '^glimp_generated_tokens_total{model="slm"} [1-9]' "$T/m.pair" &&
    grep -q '^glimp_generated_tokens_total{model="llm"} [1-9]' "$T/m.pair" &&
    grep -q '^glimp_prompt_tokens_total [1-9]' "$T/m.pair" || fail "pair metrics: $(cat "$T/m.pair")"
stop_server pair

# ---- /metrics: labels, tokens of hung-up requests -------------------------------
"$B" mkmodel -o "$T/slow.gguf" --arch qwen3 --layers 4 --dim 512 --heads 8 --ff 1536 \
    --vocab "$SLM" --ctx 4096 --quiet || fail "mkmodel"
# waits for the first event of the stream in FILE, hangs up, waits until idle
hang_up_after_first_event() {
    local url=$1 file=$2 body=$3
    : >"$file"
    curl -sN "$url/v1/$4" -d "$body" >"$file" &
    local c=$!
    for _ in $(seq 1 600); do
        [ "$(grep -c '^data: ' "$file")" -ge 3 ] && break
        sleep 0.05
    done
    [ "$(grep -c '^data: ' "$file")" -ge 3 ] || fail "no stream from $url: $(cat "$file")"
    kill "$c"
    wait "$c" 2>/dev/null
    for _ in $(seq 1 300); do
        curl -s "$url/metrics" >"$T/m.now"
        grep -q '^glimp_active_requests 0' "$T/m.now" && return 0
        sleep 0.1
    done
    fail "the hung-up request was not cancelled"
}
start_server single -t 1 -m "$T/slow.gguf" --model-name 'slow"one' --template raw
U="http://127.0.0.1:$PORT_single"
hang_up_after_first_event "$U" "$T/single.sse" \
    '{"prompt":"Once","max_tokens":4000,"temperature":0,"stream":true}' completions
grep -q 'status="499"} 1' "$T/m.now" || fail "no 499: $(grep requests_total "$T/m.now")"
grep -q '^glimp_generated_tokens_total{model="slow\\"one"} [1-9]' "$T/m.now" ||
    fail "single-model tokens by name, cancelled included: $(grep generated_tokens "$T/m.now")"
grep -q 'model="slm"' "$T/m.now" && fail "a single model is not labelled slm"
stop_server single
start_server slowpair -t 1 --slm "$T/slow.gguf" --llm "$T/slow.gguf" --template-slm raw \
    --template-llm raw --policy slm --temp 0 --max-step-tokens 4000 --think-budget 4000
U="http://127.0.0.1:$PORT_slowpair"
hang_up_after_first_event "$U" "$T/pair.sse" \
    '{"messages":[{"role":"user","content":"Once"}],"stream":true}' chat/completions
grep -q '^glimp_generated_tokens_total{model="slm"} [1-9]' "$T/m.now" ||
    fail "pair tokens of a cancelled request: $(grep generated_tokens "$T/m.now")"
stop_server slowpair

# back-to-back requests of one client on a full server (one slot, no queue):
# a request that arrives as soon as the previous answer is complete is served,
# never 503 (the finished request's tidying up on its slot does not count)
# (short answers, so that the 101 requests stay cheap under the sanitizers)
start_server full --slm "$SLM" --llm "$LLM" -t 1 --parallel 1 --queue 0 --temp 0 \
    --think-budget 16 --max-step-tokens 8
U="http://127.0.0.1:$PORT_full/v1/chat/completions"
body='{"messages":[{"role":"user","content":"Ava has 3 coins. How many?"}],"max_tokens":4}'
args=()
for _ in $(seq 1 100); do args+=("$U" -s -o /dev/null -w '%{http_code}\n' -d "$body" --next); done
codes=$(curl "${args[@]}" "$U" -s -o /dev/null -w '%{http_code}\n' -d "$body" | sort | uniq -c)
[ "$(echo "$codes" | awk '{print $1, $2}')" = "101 200" ] ||
    fail "back-to-back requests on one slot without a queue: $codes"
stop_server full

PIDS=()
echo "cli_serve_routed: all checks passed"
