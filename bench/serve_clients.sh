#!/usr/bin/env bash
# serve_clients.sh - aggregate decode speed of glimp serve under N concurrent
# clients (continuous batching), optionally beside llama.cpp's llama-server
# on the same file, threads and context.
#   bench/serve_clients.sh MODEL.gguf [CLIENTS...]     (default 1 2 4 8 16)
# Environment: GLIMP (default build/glimp), THREADS (2), TOKENS per request
# (128), CTX per slot (1024), GLIMP_ARGS (more glimp serve options, e.g.
# "--spec ngram"), LLAMA_SERVER (path to llama-server; skipped when unset). Each client sends one greedy /v1/completions request of TOKENS
# tokens (random-weight models rarely stop early; the figure counts the
# tokens the answers report); the wall time runs from the first request to
# the last answer. Prints one line per (server, N): aggregate tokens/s, its
# ratio to the same server's 1-client figure and the server's peak RSS.
set -u
MODEL=${1:?usage: bench/serve_clients.sh MODEL.gguf [CLIENTS...]}
shift
CLIENTS=("${@:-1 2 4 8 16}")
read -r -a CLIENTS <<<"${CLIENTS[*]}"
GLIMP=${GLIMP:-build/glimp}
THREADS=${THREADS:-2}
TOKENS=${TOKENS:-128}
CTX=${CTX:-1024}
T=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$T"' EXIT

wait_ready() { # URL
    for _ in $(seq 1 1200); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/health")" = 200 ] && return 0
        sleep 0.1
    done
    echo "server at $1 did not start" >&2
    exit 1
}

# run N URL : prints tokens/s over N concurrent requests
run() {
    local n=$1 url=$2 t0 t1 total=0
    t0=$(date +%s.%N)
    for i in $(seq 1 "$n"); do
        curl -s "$url/v1/completions" -o "$T/r.$i" -d "{\"prompt\":\"Request $i: once upon a time\",
            \"max_tokens\":$TOKENS,\"temperature\":0,\"ignore_eos\":true}" &
    done
    wait $(jobs -p | grep -v -x "$SERVER")
    t1=$(date +%s.%N)
    for i in $(seq 1 "$n"); do
        total=$((total + $(sed -n 's/.*"completion_tokens":\([0-9]*\).*/\1/p' "$T/r.$i")))
    done
    echo "$total $t0 $t1" | awk '{ printf "%.1f", $1 / ($3 - $2) }'
}

bench_server() { # NAME START-COMMAND-PREFIX...
    local name=$1 base=
    shift
    for n in "${CLIENTS[@]}"; do
        "$@" "$n" >"$T/server.log" 2>&1 &

        SERVER=$!
        wait_ready "http://127.0.0.1:$PORT"
        run 1 "http://127.0.0.1:$PORT" >/dev/null # warm-up: pages the weights in
        local tps
        tps=$(run "$n" "http://127.0.0.1:$PORT")
        [ -z "$base" ] && base=$tps
        local rss
        rss=$(awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER/status")
        printf '%-13s clients %3d  %8s t/s aggregate  %5.2fx its 1-client figure  peak RSS %s MiB\n' \
            "$name" "$n" "$tps" "$(echo "$tps $base" | awk '{ print $1 / $2 }')" "$rss"
        kill "$SERVER"
        wait "$SERVER" 2>/dev/null
        SERVER=
    done
}

PORT=$((20000 + RANDOM % 20000))
echo "model $MODEL, $THREADS threads, $TOKENS tokens per request, context $CTX per slot; $(uptime)"
glimp_start() { exec "$GLIMP" serve -m "$MODEL" --template raw --port "$PORT" -t "$THREADS" \
    --ctx "$CTX" --queue "$1" --parallel "$1" ${GLIMP_ARGS:-}; }
bench_server "glimp serve" glimp_start
if [ -n "${LLAMA_SERVER:-}" ]; then
    llama_start() { exec "$LLAMA_SERVER" -m "$MODEL" --port "$PORT" -t "$THREADS" -c $(($1 * CTX)) \
        -np "$1" -cb --no-webui; }
    bench_server "llama-server" llama_start
fi
