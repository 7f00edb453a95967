#!/usr/bin/env bash
# cli_run_interrupt.sh - Ctrl-C during `glimp run` prints what was done and
# exits 130. Deterministic without timing: the question comes from a FIFO;
# once the process has its SIGINT handler (SigCgt in /proc) and is still
# waiting for the question, it gets SIGINT, then the question. The run then
# stops at its first token: "interrupted after 0 steps", a partial summary
# on stdout and the trace file. Uses the demo models of models/demo.
set -uo pipefail
bin=${GLIMP_BIN:?GLIMP_BIN not set (run through ctest)}
src=${GLIMP_SRC:?GLIMP_SRC not set (run through ctest)}
[ -r /proc/self/status ] || { echo "SKIP: no /proc to see the signal handler"; exit 77; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

mkfifo "$tmp/question"
"$bin" run --slm "$src/models/demo/slm.gguf" --llm "$src/models/demo/llm.gguf" \
  --trace "$tmp/trace.jsonl" <"$tmp/question" >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3>"$tmp/question" # opens once glimp has opened its end (its stdin)
# SIGINT is signal 2: bit 1 of the SigCgt mask (hex)
for _ in $(seq 1 3000); do
  mask=$(sed -n 's/^SigCgt:\t*//p' "/proc/$pid/status" 2>/dev/null)
  [ -n "$mask" ] && (( 0x$mask & 2 )) && break
  sleep 0.01
done
(( 0x${mask:-0} & 2 )) || fail "glimp run never installed a SIGINT handler"
kill -INT "$pid"
echo "What is 2 + 2?" >&3
exec 3>&-
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 130 ] || fail "exit $rc, not 130 ($(cat "$tmp/err"))"
grep -q "glimp run: interrupted after 0 steps" "$tmp/err" || fail "no interrupted line: $(cat "$tmp/err")"
grep -q -- "--- summary: policy glimp" "$tmp/out" || fail "no partial summary on stdout"
grep -q '"summary"\|"n_steps"' "$tmp/trace.jsonl" 2>/dev/null || fail "no trace written"

[ $fails -eq 0 ] && echo "cli_run_interrupt: all checks passed"
exit $((fails > 0))
