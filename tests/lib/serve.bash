# serve.bash - sourced by the CLI tests of glimp serve (not a test itself):
# a temporary folder $T, removed at exit together with every server started;
#   fail MSG...            prints FAIL: MSG and exits 1
#   start_server NAME ARGS glimp serve ARGS on a free port; sets PORT_<NAME>
#                          and PID_<NAME> once it listens
#   stop_server NAME       SIGTERM; the server must exit 0
#   code CURL-ARGS...      curl's status code; the body goes to $T/body
#   alone_vs_batched ALONE BATCHED PATH N
#                          sends request I = 0..N-1 (body: `body_of I`, defined by the
#                          caller) to the server at URL ALONE one by one, then to BATCHED all
#                          at once; each answer through the caller's `strip_answer` (what may
#                          differ between the runs) into $T/alone.I / $T/batch.I, which must
#                          be equal
#   passes_shared URL      /metrics at URL must show batch passes that carried several steps;
#                          sets BATCH_SHARING to "STEPS steps in PASSES passes"
#   random_model FILE      mkmodel writes a random Q8_0 qwen3 model (4 layers x 256, demo
#                          vocabulary, context 4096): generation runs to max_tokens
# Needs B (the glimp binary) and, for random_model, SRC (the source tree).
T=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

start_server() {
    local name=$1; shift
    "$B" serve --port 0 "$@" >"$T/$name.out" 2>"$T/$name.err" &
    local pid=$!
    PIDS+=("$pid")
    eval "PID_$name=$pid"
    for _ in $(seq 1 600); do
        if grep -q "listening on" "$T/$name.out" 2>/dev/null; then
            eval "PORT_$name=$(sed -n 's/.*:\([0-9]*\) (model.*/\1/p' "$T/$name.out")"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { cat "$T/$name.err"; fail "server $name did not start"; }
        sleep 0.1
    done
    fail "server $name did not start in time"
}

stop_server() {
    local pid
    eval "pid=\$PID_$1"
    kill -TERM "$pid"
    wait "$pid" || fail "server $1 exited with $? after SIGTERM"
}

code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }

alone_vs_batched() {
    local alone=$1 batched=$2 path=$3 n=$4 i pids=()
    for ((i = 0; i < n; i++)); do
        curl -sN "$alone$path" -d "$(body_of "$i")" | strip_answer >"$T/alone.$i"
    done
    for ((i = 0; i < n; i++)); do
        curl -sN "$batched$path" -d "$(body_of "$i")" | strip_answer >"$T/batch.$i" &
        pids+=($!)
    done
    wait "${pids[@]}"
    for ((i = 0; i < n; i++)); do
        [ -s "$T/alone.$i" ] || fail "request $i alone: no answer"
        cmp -s "$T/alone.$i" "$T/batch.$i" ||
            fail "request $i batched differs from alone: $(diff "$T/alone.$i" "$T/batch.$i" | head -c 600)"
    done
}

passes_shared() {
    local m passes steps
    m=$(curl -s "$1/metrics")
    passes=$(sed -n 's/^glimp_batch_passes_total //p' <<<"$m")
    steps=$(sed -n 's/^glimp_batch_steps_total //p' <<<"$m")
    [ -n "$passes" ] && [ "$steps" -gt "$passes" ] ||
        fail "no pass carried several steps: passes '$passes', steps '$steps'"
    BATCH_SHARING="$steps steps in $passes passes"
}

random_model() {
    "$B" mkmodel -o "$1" --arch qwen3 --layers 4 --dim 256 --heads 4 --kv-heads 2 --head-dim 64 \
        --ff 768 --type Q8_0 --vocab "$SRC/models/demo/slm.gguf" --ctx 4096 --quiet ||
        fail "mkmodel"
}
