#!/usr/bin/env bash
# serve_routed_clients.sh - aggregate speed of the routed pair in glimp serve
# (model "glimprouter") under N concurrent clients: the slots share one copy
# of each model and one stepper per model (continuous batching).
#   bench/serve_routed_clients.sh [CLIENTS...]     (default 1 4 8)
# Environment: GLIMP (default build/glimp), SLM and LLM (default the demo
# pair, models/demo), THREADS (2), TOKENS: max_tokens of each answer (256),
# ROUNDS: requests per client (2). Each client sends ROUNDS greedy chat
# requests, one after another, with questions of the demo benchmark; the wall
# time runs from the first request to the last answer. Prints one line per
# N: requests, completion tokens (thinking + answer) per second, the ratio
# to the 1-client figure, and the server's CPU seconds per 1000 tokens
# (from /proc: what the machine spends, whatever else it runs).
set -u
CLIENTS=("${@:-1 4 8}")
read -r -a CLIENTS <<<"${CLIENTS[*]}"
GLIMP=${GLIMP:-build/glimp}
SLM=${SLM:-models/demo/slm.gguf}
LLM=${LLM:-models/demo/llm.gguf}
BENCH=${BENCH:-models/demo/bench.jsonl}
THREADS=${THREADS:-2}
TOKENS=${TOKENS:-256}
ROUNDS=${ROUNDS:-2}
T=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
PORT=$((20000 + RANDOM % 20000))
URL=http://127.0.0.1:$PORT
[ -n "${KEEP:-}" ] && echo "keeping $T"

cpu_s() { # PID: user + system seconds so far
    awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

question() { # I: the I-th benchmark question (0-based)
    sed -n "$(($1 + 1))p" "$BENCH" | sed -e 's/.*"question": *"\([^"]*\)".*/\1/'
}

client() { # C: ROUNDS requests, one after another
    for r in $(seq 1 "$ROUNDS"); do
        curl -s "$URL/v1/chat/completions" -o "$T/r.$1.$r" -d "{\"model\":\"glimprouter\",
            \"messages\":[{\"role\":\"user\",\"content\":\"$(question $(($1 * ROUNDS + r)))\"}],
            \"temperature\":0,\"max_tokens\":$TOKENS}"
    done
}

echo "routed pair $SLM -> $LLM, $THREADS threads, $ROUNDS requests per client; $(uptime)"
base=
for n in "${CLIENTS[@]}"; do
    "$GLIMP" serve --slm "$SLM" --llm "$LLM" --port "$PORT" -t "$THREADS" --parallel "$n" \
        --queue "$n" >"$T/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 1200); do curl -s -o /dev/null "$URL/health" && break; sleep 0.1; done
    client 999 >/dev/null # warm-up: pages the weights in
    rm -f "$T"/r.*
    c0=$(cpu_s "$SERVER")
    t0=$(date +%s.%N)
    for c in $(seq 0 $((n - 1))); do client "$c" & done
    wait $(jobs -p | grep -v -x "$SERVER")
    t1=$(date +%s.%N)
    c1=$(cpu_s "$SERVER")
    tokens=$(grep -ho '"completion_tokens":[0-9]*' "$T"/r.* | cut -d: -f2 |
        awk '{ s += $1 } END { print s }')
    passes=$(curl -s "$URL/metrics" | sed -n 's/^glimp_batch_\(passes\|steps\)_total //p' | tr '\n' ' ')
    tps=$(echo "$tokens $t0 $t1" | awk '{ printf "%.1f", $1 / ($3 - $2) }')
    [ -z "$base" ] && base=$tps
    printf 'clients %2d  %3d requests  %6d tokens  %8s t/s  %5.2fx  %6.2f CPU s/1k tokens  passes/steps %s\n' \
        "$n" "$((n * ROUNDS))" "$tokens" "$tps" "$(echo "$tps $base" | awk '{ print $1 / $2 }')" \
        "$(echo "$c0 $c1 $tokens" | awk '{ print ($2 - $1) * 1000 / $3 }')" "${passes:-none}"
    kill "$SERVER"
    wait "$SERVER" 2>/dev/null
    SERVER=
done
