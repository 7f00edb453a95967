#!/usr/bin/env bash
# cli_serve_ops.sh - operating glimp serve over real HTTP on 127.0.0.1:
#  - API keys from an environment variable or a file (401 without the key,
#    200 with it, /health open; unset variable, empty file, both sources and
#    a key on the command line are usage errors; a file others can read
#    gets a warning);
#  - binding a non-loopback address without a key warns (in a network
#    namespace of its own, so nothing is reachable from outside);
#  - SIGTERM: new connections are refused, a running request finishes within
#    the grace period; past it a stream ends with an error event and [DONE]
#    and a whole answer is a 503 with an error object; exit 0.
# Uses the demo SLM and a random model made with mkmodel (in the repo, so
# nothing to skip for but curl).
set -u
B=${GLIMP_BIN:?}
SRC=${GLIMP_SRC:?}
M=$SRC/models/demo/slm.gguf
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/lib/serve.bash"
# wait_active URL N : until /metrics shows N running requests
wait_active() {
    for _ in $(seq 1 600); do
        curl -s -H "Authorization: Bearer ${KEY:-}" "$1/metrics" |
            grep -q "^glimp_active_requests $2" && return 0
        sleep 0.05
    done
    fail "never $2 running requests at $1"
}

# ---- API keys ---------------------------------------------------------------
KEY=k-$RANDOM$RANDOM
GLIMP_TEST_KEY=$KEY start_server env -m "$M" --api-key-env GLIMP_TEST_KEY
U="http://127.0.0.1:$PORT_env"
[ "$(code "$U/v1/models")" = 401 ] || fail "no key must be 401"
grep -q '"code":"invalid_api_key"' "$T/body" || fail "401 error object: $(cat "$T/body")"
[ "$(code -H "Authorization: Bearer nope" "$U/v1/models")" = 401 ] || fail "wrong key must be 401"
[ "$(code -H "Authorization: Bearer $KEY" "$U/v1/models")" = 200 ] || fail "right key: $(cat "$T/body")"
[ "$(code "$U/health")" = 200 ] || fail "/health must need no key"
grep -q "without an API key" "$T/env.err" && fail "warning on loopback"
printf '%s\n' "$KEY" >"$T/key"
chmod 600 "$T/key"
start_server file -m "$M" --api-key-file "$T/key"
[ "$(code -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT_file/v1/models")" = 200 ] ||
    fail "key from a file"
[ "$(code "http://127.0.0.1:$PORT_file/v1/models")" = 401 ] || fail "file key: no key must be 401"
grep -q "readable by other users" "$T/file.err" && fail "warning for a private key file"
chmod 644 "$T/key"
"$B" serve -m "$M" --port 0 --api-key-file "$T/key" >"$T/o" 2>"$T/e" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q "listening" "$T/o" 2>/dev/null && break; sleep 0.1; done
grep -q "readable by other users" "$T/e" || fail "no warning for a key file others can read"
usage_error() { # ARGS... : must exit 2 with a message
    "$B" serve -m "$M" --port 0 "$@" >"$T/o" 2>"$T/e"
    local rc=$?
    [ $rc = 2 ] && [ -s "$T/e" ] || fail "serve $* : exit $rc, $(cat "$T/e")"
}
(unset GLIMP_TEST_KEY; usage_error --api-key-env GLIMP_TEST_KEY)
grep -q "GLIMP_TEST_KEY is not set" "$T/e" || fail "unset variable message: $(cat "$T/e")"
: >"$T/empty"
usage_error --api-key-file "$T/empty"
usage_error --api-key-file "$T/key" --api-key-env HOME
usage_error --api-key "$KEY"
usage_error --max-connections 5 --parallel 4 --queue 4
grep -q "must exceed parallel + queue" "$T/e" || fail "cap message: $(cat "$T/e")"

# ---- non-loopback without a key: a warning (own network namespace) ---------
if unshare -n true 2>/dev/null; then
    unshare -n "$B" serve -m "$M" --host 0.0.0.0 --port 0 >"$T/o" 2>"$T/e" &
    NS=$!
    PIDS+=("$NS")
    for _ in $(seq 1 100); do grep -q "without an API key" "$T/e" && break; sleep 0.1; done
    grep -q "warning: listening on 0.0.0.0 without an API key" "$T/e" ||
        fail "no warning for 0.0.0.0 without a key: $(cat "$T/e")"
    kill "$NS"
else
    echo "note: unshare -n not permitted; the non-loopback warning is not checked"
fi

# ---- SIGTERM: finish within the grace, then end what is left -----------------
KEY=
"$B" mkmodel -o "$T/slow.gguf" --arch llama --layers 4 --dim 512 --heads 8 --ff 1536 \
    --vocab "$M" --ctx 8192 --quiet || fail "mkmodel"
start_server grace -m "$T/slow.gguf" --template raw --parallel 1 -t 1 --shutdown-grace 60
G="http://127.0.0.1:$PORT_grace"
curl -s "$G/v1/completions" -d '{"prompt":"Once","max_tokens":500,"temperature":0}' \
    -o "$T/finish.json" -w '%{http_code}' >"$T/finish.code" &
CURL=$!
wait_active "$G" 1
kill -TERM "$PID_grace"
for _ in $(seq 1 100); do grep -q "stopping" "$T/grace.err" && break; sleep 0.05; done
curl -s -m 5 "$G/health" >/dev/null
[ $? = 7 ] || fail "a new connection after SIGTERM must be refused"
wait "$CURL"
[ "$(cat "$T/finish.code")" = 200 ] && grep -q '"completion_tokens":500' "$T/finish.json" ||
    fail "the running request must finish within the grace: $(cat "$T/finish.code") $(head -c 300 "$T/finish.json")"
wait "$PID_grace" || fail "exit $? after SIGTERM"

start_server cut -m "$T/slow.gguf" --template raw --parallel 2 -t 1 --shutdown-grace 0.5
C="http://127.0.0.1:$PORT_cut"
curl -sN "$C/v1/completions" -d '{"prompt":"Once","max_tokens":4000,"temperature":0,
    "stream":true}' >"$T/cut.sse" &
S1=$!
curl -s "$C/v1/completions" -d '{"prompt":"Once","max_tokens":4000,"temperature":0}' \
    -o "$T/cut.json" -w '%{http_code}' >"$T/cut.code" &
S2=$!
wait_active "$C" 2
kill -TERM "$PID_cut"
wait "$S1" "$S2"
wait "$PID_cut" || fail "exit $? after SIGTERM"
grep -q '"code":"server_shutting_down"' "$T/cut.sse" || fail "no error event: $(tail -c 400 "$T/cut.sse")"
[ "$(tail -n 2 "$T/cut.sse" | head -n 1)" = "data: [DONE]" ] || fail "no [DONE]: $(tail -c 300 "$T/cut.sse")"
[ "$(cat "$T/cut.code")" = 503 ] && grep -q '"code":"server_shutting_down"' "$T/cut.json" ||
    fail "whole answer past the grace: $(cat "$T/cut.code") $(cat "$T/cut.json")"
echo "cli_serve_ops: all checks passed"
