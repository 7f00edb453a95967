#!/usr/bin/env bash
# cli_style.sh - one command-line style for every subcommand: an unknown
# option, an option without its value, a bad value or a missing argument is
# exactly one line on stderr, "glimp CMD: ... (see glimp CMD --help)",
# nothing on stdout, exit 2; --help goes to stdout with exit 0. Also the
# input checks that are not option values (negative tau, empty question,
# report on a folder without items.jsonl, an unknown GLIMP_KERNELS) and the
# messages that used to double their prefix. Needs only the demo models of
# models/demo.
set -uo pipefail
bin=${GLIMP_BIN:?GLIMP_BIN not set (run through ctest)}
src=${GLIMP_SRC:?GLIMP_SRC not set (run through ctest)}
slm=$src/models/demo/slm.gguf
llm=$src/models/demo/llm.gguf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# usage CMD ARGS...: exit 2, one stderr line "glimp CMD: ... (see glimp CMD --help)",
# no stdout. CMD is the subcommand ("" for glimp itself).
usage() {
  local cmd=$1; shift
  local name="glimp${cmd:+ $cmd}" rc=0
  "$bin" ${cmd:+"$cmd"} "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
  local what="$name $*"
  [ "$rc" = 2 ] || fail "$what: exit $rc, not 2"
  [ "$(wc -l <"$tmp/err")" = 1 ] || fail "$what: $(wc -l <"$tmp/err") stderr lines: $(head -3 "$tmp/err")"
  [ ! -s "$tmp/out" ] || fail "$what: wrote to stdout"
  grep -q "^$name: .* (see $name --help)\$" "$tmp/err" || fail "$what: message '$(head -1 "$tmp/err")'"
}
# says PATTERN: the last usage() message matches
says() { grep -qF -- "$1" "$tmp/err" || fail "expected '$1' in '$(head -1 "$tmp/err")'"; }

# --help: stdout, exit 0, nothing on stderr
for cmd in analyze bench calibrate eval generate inspect mkmodel report run serve tokenize; do
  rc=0
  "$bin" "$cmd" --help >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ "$rc" = 0 ] && [ -s "$tmp/out" ] && [ ! -s "$tmp/err" ] || fail "$cmd --help: exit $rc"
  grep -q "^usage: glimp $cmd" "$tmp/out" || fail "$cmd --help: no usage line"
done

usage "" ; says "no command given"
usage "" frobnicate; says "unknown command 'frobnicate'"

models=(--slm "$slm" --llm "$llm")
usage run --tua 1 "${models[@]}" q; says "unknown option '--tua'"
usage run "${models[@]}" q --slm; says "option '--slm' needs a value"
usage run "${models[@]}" --json=1 q; says "option '--json' takes no value"
usage run "${models[@]}" -x q; says "unknown option '-x'"
usage run "${models[@]}" --tau x q; says "--tau: 'x'"
usage run "${models[@]}" --tau -1 q; says "--tau: '-1' is not a number in [0,"
usage run "${models[@]}" --threads 0 q; says "--threads: '0'"
usage run "${models[@]}" --delimiter '\q' q; says "--delimiter"
usage run "${models[@]}" --retries 99 q; says "--retries: '99'"
usage run "${models[@]}" --probe sideways q; says "--probe: 'sideways'"
usage run --slm-url ftp://x --llm "$llm" q; says "--slm-url: 'ftp://x'"
usage run --slm http://127.0.0.1:9 --llm "$llm" q; says "needs --slm-model"
usage run --llm "$llm" q; says "no small model"
usage run --slm "$slm" q; says "no large model"
usage run "${models[@]}" q extra; says "one argument"
usage run "${models[@]}" "  "; says "the question is empty"

eval_ok=(--data x.jsonl --slm "$slm" --llm "$llm")
usage eval --bogus "${eval_ok[@]}"; says "unknown option '--bogus'"
usage eval "${eval_ok[@]}" --tau 1,-2; says "--tau: '-2' is not a number in [0,"
usage eval "${eval_ok[@]}" --policy nope; says "--policy"
usage eval "${eval_ok[@]}" --repeats 0; says "--repeats: '0'"
usage eval "${eval_ok[@]}" --limit -1; says "--limit: '-1'"
usage eval "${eval_ok[@]}" --grade essay; says "--grade: 'essay'"
usage eval "${eval_ok[@]}" --parallel 0; says "--parallel: '0'"
usage eval "${eval_ok[@]}" --slm-url notaurl; says "--slm-url: 'notaurl'"
usage eval --slm "$slm" --llm "$llm"; says "need --data"
usage eval "${eval_ok[@]}" stray; says "unexpected argument 'stray'"

usage calibrate --bogus --data x --slm "$slm"; says "unknown option '--bogus'"
usage calibrate --data x --slm "$slm" --target-share 2; says "--target-share: '2'"
usage calibrate --data x --slm "$slm" --tau 1; says "unknown option '--tau'"
usage calibrate --data x --slm "$slm" --policy llm; says "--policy: 'llm'"
usage calibrate --data x --slm-url x; says "--slm-url: 'x'"
usage calibrate --data x; says "need --slm and --data"

an_ok=(--slm "$slm" --llm "$llm" --data x.jsonl --out "$tmp/an")
usage analyze --bogus "${an_ok[@]}"; says "unknown option '--bogus'"
usage analyze "${an_ok[@]}" --ll-threshold low; says "--ll-threshold: 'low'"
usage analyze "${an_ok[@]}" --from "$tmp"; says "need one of --data and --from"
usage analyze --slm "$slm" --llm "$llm" --out "$tmp/an"; says "need one of --data and --from"
usage analyze --slm "$slm" --llm "$llm" --data x.jsonl; says "need --slm, --llm and --out"
usage analyze --slm http://127.0.0.1:9 --llm "$llm" --data x --out "$tmp/an"; says "--slm: 'http://127.0.0.1:9' is not a GGUF file"
usage analyze "${an_ok[@]}" --policy llm; says "unknown option '--policy'"
usage analyze "${an_ok[@]}" stray; says "unexpected argument 'stray'"

usage serve --bogus -m "$slm"; says "unknown option '--bogus'"
usage serve -m "$slm" --port 99999; says "--port: '99999'"
usage serve -m "$slm" --read-timeout soon; says "--read-timeout: 'soon'"
usage serve -m "$slm" --tau -3; says "--tau: '-3'"
usage serve -m; says "option '-m' needs a value"
usage serve; says "give -m MODEL, or --slm and --llm"
usage serve --slm http://127.0.0.1:9 --llm "$llm"; says "--slm: 'http://127.0.0.1:9'"
usage serve -m "$slm" --api-key-env A --api-key-file B; says "not both"

usage generate --bogus -m "$slm" -p x; says "unknown option '--bogus'"
usage generate -m "$slm" -p x -n lots; says "-n: 'lots'"
usage generate -m "$slm" -p x --temp 999; says "--temp: '999'"
usage generate -m "$slm" -p; says "option '-p' needs a value"
usage generate -m "$slm"; says "-p PROMPT are required"

usage tokenize --bogus -m "$slm" x; says "unknown option '--bogus'"
usage tokenize -m; says "option '-m' needs a value"
usage tokenize -m "$slm"; says "give either TEXT or --stdin"
usage tokenize x; says "-m FILE.gguf is required"

usage bench --bogus; says "unknown option '--bogus'"
usage bench -m "$slm" -p many; says "-p: 'many'"
usage bench -m "$slm" -r 0; says "-r: '0'"
usage bench --tokenizer "$slm" --mb 0; says "--mb: '0'"
usage bench --tokenizer "$slm" --runs x; says "--runs: 'x'"
usage bench --tokenizer; says "option '--tokenizer' needs a value"
usage bench; says "give -m MODEL.gguf"

usage inspect --bogus; says "unknown option '--bogus'"
usage inspect; says "give a GGUF file"
usage inspect "$slm" "$llm"; says "second"

usage mkmodel --bogus; says "unknown option '--bogus'"
usage mkmodel -o "$tmp/m.gguf" --preset gpt-5; says "--preset: 'gpt-5'"
usage mkmodel -o "$tmp/m.gguf" --preset qwen3-0.6b --layers x; says "--layers: 'x'"
usage mkmodel -o "$tmp/m.gguf" --preset qwen3-0.6b --threads 0; says "--threads: '0'"
usage mkmodel --preset qwen3-0.6b -o; says "option '-o' needs a value"
usage mkmodel --arch llama; says "need -o"

usage report --bogus; says "unknown option '--bogus'"
usage report; says "give one folder"

# not usage errors, but one line each and the right exit code
rc=0; "$bin" report "$tmp" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "items.jsonl" "$tmp/err" ||
  fail "report without items.jsonl: exit $rc, '$(cat "$tmp/err")'"
[ ! -e "$tmp/summary.md" ] || fail "report without items.jsonl wrote a summary"
printf '  \n\n' >"$tmp/empty.txt"
rc=0; "$bin" run "${models[@]}" --file "$tmp/empty.txt" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] && grep -q "empty" "$tmp/err" || fail "empty question file: exit $rc, '$(cat "$tmp/err")'"
GLIMP_KERNELS=avx9000 "$bin" --version >/dev/null 2>"$tmp/err" || fail "--version with a bad GLIMP_KERNELS failed"
grep -q "warning: GLIMP_KERNELS=avx9000" "$tmp/err" || fail "no warning for GLIMP_KERNELS=avx9000"
GLIMP_KERNELS=scalar "$bin" --version >/dev/null 2>"$tmp/err"
[ ! -s "$tmp/err" ] || fail "GLIMP_KERNELS=scalar warned: $(cat "$tmp/err")"

# messages name a file once, and the template hint names run's own options
rc=0; "$bin" run --slm "$tmp/nope.gguf" --llm "$llm" q >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && [ "$(grep -o "nope.gguf" "$tmp/err" | wc -l)" = 1 ] ||
  fail "missing model: exit $rc, '$(cat "$tmp/err")'"
"$bin" mkmodel -o "$tmp/plain.gguf" --arch llama --layers 1 --dim 64 --heads 4 --ff 128 \
  --vocab-size 300 --quiet || fail "mkmodel of a template-less model"
rc=0; "$bin" run --slm "$tmp/plain.gguf" --llm "$llm" q >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] && grep -q -- "--template-slm" "$tmp/err" && ! grep -q -- "--template option\|pass --template " "$tmp/err" ||
  fail "template hint: exit $rc, '$(cat "$tmp/err")'"
# (help into a file first: grep -q stops reading early, and with pipefail the writer's
# SIGPIPE would fail the pipeline)
help_of() { "$bin" "$1" --help >"$tmp/help.$1"; cat "$tmp/help.$1"; }
help_of serve >/dev/null; grep -q "required for a server" "$tmp/help.serve" &&
  fail "serve --help: template 'required for a server'"
help_of run >/dev/null; grep -q -- "--slm FILE|URL" "$tmp/help.run" ||
  fail "run --help does not say --slm takes a URL"
help_of eval >/dev/null; grep -q -- "--slm-url" "$tmp/help.eval" || fail "eval --help has no --slm-url"
help_of calibrate >/dev/null; grep -q -- "--slm-url" "$tmp/help.calibrate" ||
  fail "calibrate --help has no --slm-url"

[ $fails -eq 0 ] && echo "cli_style: all checks passed"
exit $((fails > 0))
