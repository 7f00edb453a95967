#!/usr/bin/env bash
# serve_ttft.sh - time to first token of a new request while STREAMS other
# requests keep generating, on glimp serve and optionally llama.cpp's
# llama-server (same file, threads and context per slot):
#   cold   - the new request's prompt (~PROMPT tokens) is unlike the others';
#   shared - it starts with the same long text as the running requests'
#            prompts (a common system prompt), then a question of its own;
#   alone  - the cold request with nothing else running (the floor).
#   bench/serve_ttft.sh MODEL.gguf
# Environment: GLIMP (default build/glimp), THREADS (2), STREAMS (8), PROMPT
# (512), CTX per slot (2048), BATCH_TOKENS (glimp serve --batch-tokens values,
# default "64 512"), LLAMA_SERVER (path; skipped when unset). The new request
# asks for one token, not streamed: its wall time is the time to first token.
# Loopback only; every server and client is stopped at exit.
set -u
MODEL=${1:?usage: bench/serve_ttft.sh MODEL.gguf}
GLIMP=${GLIMP:-build/glimp}
THREADS=${THREADS:-2}
STREAMS=${STREAMS:-8}
PROMPT=${PROMPT:-512}
CTX=${CTX:-2048}
BATCH_TOKENS=${BATCH_TOKENS:-64 512}
T=$(mktemp -d)
SERVER=
STREAM_PIDS=()
stop_all() {
    for p in "${STREAM_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
    wait 2>/dev/null
    STREAM_PIDS=()
    SERVER=
}
trap 'stop_all; rm -rf "$T"' EXIT
PORT=$((20000 + RANDOM % 20000))
URL="http://127.0.0.1:$PORT"

# text of about N tokens (6 per sentence) with a tag that makes it unique
text() { # N TAG
    local i
    for ((i = 0; i < $1 / 6; i++)); do printf '%s has %d bags. ' "$2" "$i"; done
}
system=$(text "$PROMPT" Owen)

wait_ready() {
    for _ in $(seq 1 1200); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health")" = 200 ] && return 0
        sleep 0.1
    done
    echo "server did not start" >&2
    exit 1
}

# starts STREAMS streaming requests (prompt: the shared text + their own
# line) and waits until each has produced a token
start_streams() {
    local i
    rm -f "$T"/s.*
    for ((i = 0; i < STREAMS; i++)); do
        curl -sN "$URL/v1/completions" -o "$T/s.$i" -d "{\"prompt\":\"$system Stream $i.\",
            \"max_tokens\":1500,\"temperature\":0,\"stream\":true,\"ignore_eos\":true}" &
        STREAM_PIDS+=($!)
    done
    for ((i = 0; i < STREAMS; i++)); do
        for _ in $(seq 1 3000); do grep -q '^data: {' "$T/s.$i" 2>/dev/null && break; sleep 0.05; done
    done
}

# seconds until the one-token answer to PROMPT-TEXT
ttft() {
    curl -s -o "$T/r" -w '%{time_total}' "$URL/v1/completions" \
        -d "{\"prompt\":\"$1\",\"max_tokens\":1,\"temperature\":0}"
}

measure() { # NAME START-FUNCTION [ARG]
    local name=$1 start=$2 arg=${3:-} alone cold shared
    "$start" 1 "$arg" >"$T/server.log" 2>&1 &
    SERVER=$!
    wait_ready
    ttft "$(text 32 Warm)" >/dev/null # pages the weights in
    alone=$(ttft "$(text "$PROMPT" Alone)")
    stop_all
    "$start" $((STREAMS + 1)) "$arg" >"$T/server.log" 2>&1 &
    SERVER=$!
    wait_ready
    ttft "$(text 32 Warm)" >/dev/null
    start_streams
    cold=$(ttft "$(text "$PROMPT" Zoe)")
    shared=$(ttft "$system A question of its own.")
    stop_all
    printf '%-28s alone %6.3f s   with %d streams: cold %6.3f s  shared prefix %6.3f s\n' \
        "$name" "$alone" "$STREAMS" "$cold" "$shared"
}

glimp_start() { # PARALLEL BATCH_TOKENS
    exec "$GLIMP" serve -m "$MODEL" --template raw --port "$PORT" -t "$THREADS" --ctx "$CTX" \
        --parallel "$1" --queue 1 --batch-tokens "$2"
}
llama_start() { # PARALLEL
    exec "$LLAMA_SERVER" -m "$MODEL" --port "$PORT" -t "$THREADS" -c $(($1 * CTX)) -np "$1" \
        -cb --no-webui
}

echo "model $MODEL, $THREADS threads, prompt ~$PROMPT tokens, $STREAMS streams, context $CTX per slot; $(uptime)"
for bt in $BATCH_TOKENS; do measure "glimp serve --batch-tokens $bt" glimp_start "$bt"; done
[ -n "${LLAMA_SERVER:-}" ] && measure "llama-server" llama_start
