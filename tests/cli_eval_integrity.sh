#!/usr/bin/env bash
# cli_eval_integrity.sh - `glimp eval --out DIR` never mixes or duplicates
# records, on the demo pair (models/demo) and small datasets written here:
# a rerun with another seed, temperature, template, KV cache type or data is
# refused naming what differs, while more policies or problems resume;
# --force-new moves the old records to DIR/previous-1; records without
# run.json are refused;
# a run refuses a DIR whose lock another process holds and takes over a
# lock left by a dead one; duplicate problem ids and over-long lines are
# errors naming the lines.
set -euo pipefail
GLIMP=${GLIMP_BIN:?GLIMP_BIN not set}
SRC=${GLIMP_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
models=$SRC/models/demo
dir=$(mktemp -d /tmp/glimp_cli_eval_integrity.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

head -n 4 "$models/bench.jsonl" > "$dir/four.jsonl"
run=(--slm "$models/slm.gguf" --llm "$models/llm.gguf" --grade integer
     --prompt-template "$models/prompt.txt" --think-budget 64 --final-max-tokens 16)
out=$dir/run
# eval ARGS...: runs glimp eval into $out; exit code in $rc, stderr in $dir/err.txt
eval_rc() {
  rc=0
  "$GLIMP" eval "${run[@]}" --out "$out" "$@" > "$dir/out.txt" 2> "$dir/err.txt" || rc=$?
}
records() { wc -l < "$1"; }

eval_rc --data "$dir/four.jsonl" --limit 2 --policy llm,slm --seed 1
[ $rc -eq 0 ] || fail "first run exit $rc: $(cat "$dir/err.txt")"
[ "$(records "$out/items.jsonl")" -eq 4 ] || fail "first run: $(records "$out/items.jsonl") records"
grep -q '"seed":	"1"' "$out/run.json" || fail "run.json: $(cat "$out/run.json")"

# settings that change results: refused, nothing written
eval_rc --data "$dir/four.jsonl" --limit 2 --policy llm,slm --seed 2
[ $rc -eq 1 ] || fail "other seed: exit $rc"
grep -q 'other settings: seed: "1" there, "2" now' "$dir/err.txt" || fail "other seed: $(cat "$dir/err.txt")"
eval_rc --data "$dir/four.jsonl" --limit 2 --policy llm,slm --seed 1 --temp 0.2 --delimiter '\n'
[ $rc -eq 1 ] || fail "other temperature: exit $rc"
grep -q 'delimiter: "\\n\\n" there, "\\n" now; temperature: 0.6 there, 0.2 now' "$dir/err.txt" \
  || fail "other temperature: $(cat "$dir/err.txt")"
eval_rc --data "$dir/four.jsonl" --limit 2 --policy llm,slm --seed 1 --kv-type q8_0
[ $rc -eq 1 ] || fail "other KV cache type: exit $rc"
grep -q 'other settings: kv: (absent) there, "q8_0" now' "$dir/err.txt" \
  || fail "other KV cache type: $(cat "$dir/err.txt")"
mkdir -p "$dir/e" # four.jsonl again (the same name), problem 2 reworded
sed -e '2s/"question": "/"question": "Now: /' "$dir/four.jsonl" > "$dir/e/four.jsonl"
eval_rc --data "$dir/e/four.jsonl" --limit 2 --policy llm,slm --seed 1
[ $rc -eq 1 ] && grep -q 'dataset_content: "4 problems' "$dir/err.txt" \
  || fail "other data: exit $rc: $(cat "$dir/err.txt")"
[ "$(records "$out/items.jsonl")" -eq 4 ] || fail "refused runs wrote records"

# more problems and policies: resumed
eval_rc --data "$dir/four.jsonl" --limit 3 --policy llm,slm,glimp --seed 1
[ $rc -eq 0 ] || fail "resume exit $rc: $(cat "$dir/err.txt")"
grep -q "9 items planned, 4 already in .* (skipped), 5 run now" "$dir/err.txt" \
  || fail "resume: $(cat "$dir/err.txt")"

# --force-new: the old records move aside, the new seed starts from zero
eval_rc --data "$dir/four.jsonl" --limit 2 --policy llm,slm --seed 2 --force-new
[ $rc -eq 0 ] || fail "force-new exit $rc: $(cat "$dir/err.txt")"
grep -q "moved the previous items.jsonl and run.json to $out/previous-1" "$dir/err.txt" \
  || fail "force-new message: $(cat "$dir/err.txt")"
[ "$(records "$out/previous-1/items.jsonl")" -eq 9 ] || fail "previous-1 records"
[ "$(records "$out/items.jsonl")" -eq 4 ] || fail "new records: $(records "$out/items.jsonl")"
grep -q '"seed":	"2"' "$out/run.json" || fail "new run.json"

# records without run.json (written before it existed): settings unknown
rm "$out/run.json"
eval_rc --data "$dir/four.jsonl" --limit 2 --policy llm,slm --seed 2
[ $rc -eq 1 ] && grep -q "settings are unknown" "$dir/err.txt" \
  || fail "no run.json: exit $rc: $(cat "$dir/err.txt")"

# a DIR locked by another process (as a running glimp eval holds it): refused
out=$dir/locked
mkdir -p "$out"
exec 9>> "$out/run.lock"
flock -x 9
echo $$ > "$out/run.lock"
eval_rc --data "$dir/four.jsonl" --limit 2 --policy llm --seed 1
[ $rc -eq 1 ] && grep -q "$out is in use by another run (PID $$," "$dir/err.txt" \
  || fail "locked: exit $rc: $(cat "$dir/err.txt")"
[ ! -e "$out/items.jsonl" ] || fail "a locked DIR got records"
exec 9>&-
# the same lock file, its holder gone: taken over
eval_rc --data "$dir/four.jsonl" --limit 2 --policy llm --seed 1
[ $rc -eq 0 ] && grep -q "took over $out/run.lock, left by PID $$" "$dir/err.txt" \
  || fail "stale lock: exit $rc: $(cat "$dir/err.txt")"
[ ! -e "$out/run.lock" ] || fail "run.lock left behind"

# data: duplicate ids, a line over 16 MiB
out=$dir/data
sed -e '3s/"demo-002"/"demo-000"/' "$dir/four.jsonl" > "$dir/dup.jsonl"
eval_rc --data "$dir/dup.jsonl" --policy llm
[ $rc -eq 1 ] && grep -q "lines 1 and 3: both have id 'demo-000'" "$dir/err.txt" \
  || fail "duplicate ids: exit $rc: $(cat "$dir/err.txt")"
{ head -n 1 "$dir/four.jsonl"; printf '{"id": "big", "answer": 1, "question": "'
  head -c $((17 << 20)) /dev/zero | tr '\0' x; printf '"}\n'; } > "$dir/long.jsonl"
eval_rc --data "$dir/long.jsonl" --policy llm --limit 1
[ $rc -eq 1 ] && grep -q "long.jsonl: line 2: longer than 16 MiB" "$dir/err.txt" \
  || fail "long line: exit $rc: $(cat "$dir/err.txt")"
echo ok
