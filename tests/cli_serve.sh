#!/usr/bin/env bash
# cli_serve.sh - glimp serve and the openai backend over real HTTP on
# 127.0.0.1 (free ports, no mocks):
#  - two single-model servers (stories260K) as SLM and LLM: `glimp run` with
#    the openai backend makes the same routing decisions (greedy, topk:20,
#    same H_init to 1e-4) as the local-backend run of the same pair, with the
#    streaming probe, with --probe separate, and with a local SLM + remote LLM;
#  - a routed server answers a streaming chat request from curl with
#    reasoning_content, content, glimp fields and [DONE], and a whole one
#    with the trace;
#  - errors: bad JSON / wrong types 400, unknown model 404, unknown path 404,
#    wrong method 405, big body 413, full queue 503; a client that hangs up
#    cancels its request (499 in /metrics, the slot is free again);
#  - SIGTERM stops every server cleanly (exit 0).
# Skips (77) without ../shared or curl.
set -u
B=${GLIMP_BIN:?}
M=${GLIMP_SHARED:-../shared}/models/stories260K.gguf
[ -f "$M" ] || { echo "SKIP: $M not found (set GLIMP_SHARED)"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/lib/serve.bash"

start_server slm -m "$M" --template raw
start_server llm -m "$M" --template raw

# ---- routing decisions: local vs remote ----------------------------------
Q="Once upon a time"
ARGS=(--template-slm raw --template-llm raw --temp 0 --tau 1.0 --think-budget 60
      --max-step-tokens 12 --final-max-tokens 8 --json)
REMOTE=(--slm-url "http://127.0.0.1:$PORT_slm" --slm-model stories260K
        --llm-url "http://127.0.0.1:$PORT_llm/v1" --llm-model stories260K)
# one line per step: writer and H_init (topk) rounded to 1e-4
decisions() {
    grep -o '"index":[0-9]*,"model":"[sl]lm","h_init":{"topk":[-0-9.e]*' "$1" |
        awk -F'[:,]' '{ printf "%s %s %.4f\n", $2, $4, $7 }'
}
"$B" run --slm "$M" --llm "$M" "${ARGS[@]}" "$Q" >"$T/local.json" || fail "local run"
"$B" run "${REMOTE[@]}" "${ARGS[@]}" "$Q" >"$T/stream.json" 2>"$T/stream.err" ||
    { cat "$T/stream.err"; fail "remote run (streaming probe)"; }
"$B" run "${REMOTE[@]}" --probe separate "${ARGS[@]}" "$Q" >"$T/separate.json" ||
    fail "remote run (separate probe)"
"$B" run --slm "$M" --llm-url "http://127.0.0.1:$PORT_llm" --llm-model stories260K \
    "${ARGS[@]}" "$Q" >"$T/mixed.json" || fail "mixed run (local SLM, remote LLM)"
decisions "$T/local.json" >"$T/local.d"
[ "$(wc -l <"$T/local.d")" -ge 3 ] || fail "too few steps: $(cat "$T/local.d")"
grep -q "\"slm\"" "$T/local.d" && grep -q "\"llm\"" "$T/local.d" ||
    fail "tau 1.0 should give both writers: $(cat "$T/local.d")"
for f in stream separate mixed; do
    decisions "$T/$f.json" >"$T/$f.d"
    diff "$T/local.d" "$T/$f.d" >/dev/null || {
        paste "$T/local.d" "$T/$f.d"; fail "$f run decided differently from the local run"; }
done
grep -q '"slm":"openai:stories260K@http://127.0.0.1' "$T/stream.json" || fail "backend name"
grep -q '"exact":null' "$T/stream.json" || fail "remote H_init exact must be null"

# ---- single-model errors ---------------------------------------------------
U="http://127.0.0.1:$PORT_slm"
[ "$(code "$U/v1/completions" -d '{bad json')" = 400 ] || fail "bad JSON must be 400"
grep -q '"type":"invalid_request_error"' "$T/body" || fail "error object: $(cat "$T/body")"
[ "$(code "$U/v1/completions" -d '{"prompt":"Once","max_tokens":"many"}')" = 400 ] ||
    fail "wrong type must be 400"
grep -q '"param":"max_tokens"' "$T/body" || fail "param named: $(cat "$T/body")"
[ "$(code "$U/v1/completions" -d '{"prompt":7}')" = 400 ] || fail "numeric prompt must be 400"
[ "$(code "$U/v1/completions" -d '{"prompt":"a","max_tokens":100000000}')" = 400 ] ||
    fail "max_tokens over the bound must be 400"
[ "$(code "$U/v1/chat/completions" -d '{"messages":[{"role":"user"}]}')" = 400 ] ||
    fail "message without content must be 400"
[ "$(code "$U/v1/completions" -d '{"model":"nope","prompt":"a"}')" = 404 ] ||
    fail "unknown model must be 404"
[ "$(code "$U/nope")" = 404 ] || fail "unknown path must be 404"
[ "$(code "$U/v1/completions")" = 405 ] || fail "GET on completions must be 405"
head -c 1100000 /dev/zero | tr '\0' 'a' >"$T/big"
[ "$(code "$U/v1/completions" --data-binary @"$T/big")" = 413 ] || fail "big body must be 413"
[ "$(code "$U/v1/models")" = 200 ] && grep -q '"id":"stories260K"' "$T/body" || fail "models"
[ "$(code "$U/health")" = 200 ] || fail "health"
curl -s "$U/metrics" >"$T/metrics"
grep -q 'glimp_requests_total{endpoint="/v1/completions",status="400"}' "$T/metrics" &&
    grep -q 'glimp_request_duration_seconds_bucket{le="+Inf"}' "$T/metrics" &&
    grep -q '^glimp_queue_depth 0' "$T/metrics" || fail "metrics: $(cat "$T/metrics")"

# ---- routed pair: streaming chat from curl ----------------------------------
start_server pair --slm "$M" --llm "$M" --template-slm raw --template-llm raw --temp 0 \
    --tau 1.0 --think-budget 40 --max-step-tokens 10 --final-max-tokens 8
P="http://127.0.0.1:$PORT_pair"
curl -sN "$P/v1/chat/completions" -d '{"model":"glimprouter","stream":true,
    "messages":[{"role":"user","content":"Once upon a time"}]}' >"$T/chat.sse" ||
    fail "streaming chat"
grep -q '"delta":{"role":"assistant"}' "$T/chat.sse" || fail "no role chunk"
grep -q '"reasoning_content":' "$T/chat.sse" || fail "no reasoning_content: $(head -c 600 "$T/chat.sse")"
grep -q '"delta":{"content":' "$T/chat.sse" || fail "no content delta"
grep -q '"glimp":{"step":0,"model":"[sl]lm"' "$T/chat.sse" || fail "no per-step glimp field"
grep -q '"finish_reason":"[a-z]*","usage"' "$T/chat.sse" || grep -q '"finish_reason":"' "$T/chat.sse" ||
    fail "no finish_reason"
[ "$(tail -n 2 "$T/chat.sse" | head -n 1)" = "data: [DONE]" ] || fail "no [DONE] at the end"
curl -s "$P/v1/chat/completions" -d '{"messages":[{"role":"user","content":"Once upon a time"}]}' \
    >"$T/chat.json" || fail "whole chat"
grep -q '"reasoning_content":"' "$T/chat.json" && grep -q '"trace":{"question":"Once upon a time"' \
    "$T/chat.json" || fail "whole chat answer: $(head -c 600 "$T/chat.json")"
[ "$(code "$P/v1/completions" -d '{"prompt":"a"}')" = 404 ] ||
    fail "routed server serves chat only"

# ---- queue full -> 503; a client that hangs up cancels its request ----------
"$B" mkmodel -o "$T/slow.gguf" --arch llama --layers 4 --dim 512 --heads 8 --ff 1536 \
    --vocab "$M" --ctx 4096 --quiet || fail "mkmodel"
start_server slow -m "$T/slow.gguf" --template raw --parallel 1 --queue 0 -t 1
S="http://127.0.0.1:$PORT_slow"
curl -sN "$S/v1/completions" -d '{"prompt":"Once","max_tokens":4000,"temperature":0,
    "stream":true}' >"$T/long.sse" &
CURL=$!
for _ in $(seq 1 300); do
    curl -s "$S/metrics" | grep -q '^glimp_active_requests 1' && break
    sleep 0.1
done
curl -s "$S/metrics" | grep -q '^glimp_active_requests 1' || fail "the long request never ran"
[ "$(code "$S/v1/completions" -d '{"prompt":"a","max_tokens":2}')" = 503 ] ||
    fail "a full queue must answer 503"
grep -q '"code":"server_busy"' "$T/body" || fail "503 error object: $(cat "$T/body")"
kill "$CURL"
wait "$CURL" 2>/dev/null
for _ in $(seq 1 300); do
    curl -s "$S/metrics" >"$T/m2"
    grep -q '^glimp_active_requests 0' "$T/m2" && break
    sleep 0.1
done
grep -q '^glimp_active_requests 0' "$T/m2" || fail "the hung-up request was not cancelled"
grep -q 'status="499"} 1' "$T/m2" || fail "no 499 recorded: $(grep requests_total "$T/m2")"
[ "$(code "$S/v1/completions" -d '{"prompt":"a","max_tokens":2}')" = 200 ] ||
    fail "the slot is not free again"

for s in slm llm pair slow; do stop_server "$s"; done
PIDS=()
echo "cli_serve: all checks passed"
