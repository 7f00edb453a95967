# serve.bash - sourced by the CLI tests of glimp serve (not a test itself):
# a temporary folder $T, removed at exit together with every server started;
#   fail MSG...            prints FAIL: MSG and exits 1
#   start_server NAME ARGS glimp serve ARGS on a free port; sets PORT_<NAME>
#                          and PID_<NAME> once it listens
#   stop_server NAME       SIGTERM; the server must exit 0
#   code CURL-ARGS...      curl's status code; the body goes to $T/body
# Needs B (the glimp binary).
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
