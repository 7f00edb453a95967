#!/usr/bin/env bash
# cli_run.sh - `glimp run` end to end: stories260K as both models (raw
# template), and a tiny random-weight pair made with `glimp mkmodel` (Qwen3
# SLM, DeepSeek-R1-style LLM: different tokenizers and templates). Checks the
# plain, --quiet, --json and --trace outputs, reproducibility with a seed,
# every policy, and the exit codes of usage errors. Skips (77) without
# ../shared.
set -u
bin=${GLIMP_BIN:?GLIMP_BIN not set}
shared=${GLIMP_SHARED:-../shared}
[ -d "$shared" ] || { echo "SKIP: reference folder $shared not found"; exit 77; }
tmp=${GLIMP_BUILD:-.}/cli_run.tmp
rm -rf "$tmp" && mkdir -p "$tmp"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

stories="$shared/models/stories260K.gguf"
run_s() { "$bin" run --slm "$stories" --llm "$stories" --template-slm raw --template-llm raw \
    --think-budget 40 --max-step-tokens 16 --final-max-tokens 12 -t 1 --seed 3 "$@"; }

# plain: thinking tagged by model and H_init, answer, summary table
out=$(run_s "Once upon a time") || fail "plain run exited $?"
echo "$out" | grep -q '^\[0 [sl]lm H=[0-9.]*\] ' || fail "plain: no step tag: $out"
echo "$out" | grep -q '^=== answer (llm) ===$' || fail "plain: no answer header"
echo "$out" | grep -q '^--- summary: policy glimp, tau 1, entropy topk:20, seed 3' \
    || fail "plain: no summary line"
echo "$out" | grep -q $'\033' && fail "plain: colour codes when piped"

# --json: one object; --quiet: only its answer
json=$(run_s --json "Once upon a time") || fail "--json exited $?"
case "$json" in '{"question":"Once upon a time"'*'"steps":[{"index":0,'*) ;;
    *) fail "--json shape: $json" ;; esac
[ "$(printf '%s\n' "$json" | wc -l)" -eq 1 ] || fail "--json is not one line"
if command -v python3 >/dev/null; then
    answer=$(printf '%s' "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["answer"]["text"])') \
        || fail "--json does not parse"
    quiet=$(run_s --quiet "Once upon a time") || fail "--quiet exited $?"
    [ "$quiet" = "$answer" ] || fail "--quiet '$quiet' != JSON answer '$answer'"
fi

# same seed -> same result except times; question from --file and stdin
strip() { sed -E 's/"[a-z_]*_ms":(\{[^}]*\}|[0-9.e+-]+)//g'; }
printf 'Once upon a time' > "$tmp/q.txt"
j2=$(run_s --json --file "$tmp/q.txt") || fail "--file exited $?"
j3=$(run_s --json < "$tmp/q.txt") || fail "stdin exited $?"
[ "$(echo "$json" | strip)" = "$(echo "$j2" | strip)" ] || fail "same seed, different result (--file)"
[ "$(echo "$json" | strip)" = "$(echo "$j3" | strip)" ] || fail "same seed, different result (stdin)"

# --trace: a line per step, then a summary line
run_s --quiet --trace "$tmp/trace.jsonl" "Once upon a time" > /dev/null || fail "--trace exited $?"
n_steps=$(grep -c '^{"type":"step","index":' "$tmp/trace.jsonl")
[ "$n_steps" -ge 1 ] || fail "trace has no step lines"
[ "$(tail -n 1 "$tmp/trace.jsonl" | cut -c1-18)" = '{"type":"summary",' ] || fail "trace summary line"
[ "$(wc -l < "$tmp/trace.jsonl")" -eq $((n_steps + 1)) ] || fail "trace line count"

# tiny random pair with different vocabularies and templates
"$bin" mkmodel -o "$tmp/slm.gguf" --arch qwen3 --layers 2 --dim 64 --heads 4 --kv-heads 2 \
    --ff 128 --ctx 512 --vocab "$shared/tokenizer/ggml-vocab-qwen3.gguf" --seed 1 --quiet \
    || fail "mkmodel slm"
"$bin" mkmodel -o "$tmp/llm.gguf" --arch qwen2 --layers 2 --dim 64 --heads 4 --kv-heads 2 \
    --ff 128 --ctx 512 --vocab "$shared/tokenizer/ggml-vocab-deepseek-r1-qwen.gguf" --seed 2 \
    --quiet || fail "mkmodel llm"
for policy in glimp llm slm random:0.5 hstep pplstep specreason rsd speccot:2; do
    j=$("$bin" run --slm "$tmp/slm.gguf" --llm "$tmp/llm.gguf" --policy "$policy" --tau 2.9 \
        --think-budget 12 --max-step-tokens 4 --final-max-tokens 4 -t 1 --json "Hi?") \
        || { fail "pair, policy $policy exited $?"; continue; }
    case "$j" in *'"llm":"local:llm.gguf","params":{"policy":"'"$policy"'"'*) ;;
        *) fail "pair, policy $policy: $j" ;; esac
done
j=$("$bin" run --slm "$tmp/slm.gguf" --llm "$tmp/llm.gguf" --entropy exact --tau 100 \
    --think-budget 8 --max-step-tokens 4 --final-max-tokens 4 -t 1 --json "Hi?") \
    || fail "exact entropy exited $?"
case "$j" in *'"entropy":"exact"'*'"steps":{"slm":2,"llm":0}'*) ;;
    *) fail "exact entropy, tau 100: every step by the SLM: $j" ;; esac

# rsd with a GGUF judge of its own: named in the trace; --reward-url needs a model name
j=$("$bin" run --slm "$tmp/slm.gguf" --llm "$tmp/llm.gguf" --policy rsd --tau 0.5 \
    --reward-model "$tmp/slm.gguf" --think-budget 8 --max-step-tokens 4 --final-max-tokens 4 \
    -t 1 --json "Hi?") || fail "rsd with --reward-model exited $?"
case "$j" in *'"reward":"judge:local:slm.gguf"'*) ;; *) fail "rsd reward name: $j" ;; esac
err=$("$bin" run --slm "$tmp/slm.gguf" --llm "$tmp/llm.gguf" --policy rsd \
    --reward-url http://127.0.0.1:9 "Hi?" 2>&1 >/dev/null)
[ $? -eq 1 ] && case "$err" in *"--reward-url needs --reward-model"*) ;; *) false ;; esac \
    || fail "--reward-url without a model: $err"

# usage errors exit 2, runtime failures 1
"$bin" run --slm "$stories" "q" > /dev/null 2>&1; [ $? -eq 2 ] || fail "missing --llm: not 2"
"$bin" run --slm "$stories" --llm "$stories" --policy fast "q" > /dev/null 2>&1
[ $? -eq 2 ] || fail "bad --policy: not 2"
"$bin" run --slm "$stories" --llm "$stories" --tau x "q" > /dev/null 2>&1
[ $? -eq 2 ] || fail "bad --tau: not 2"
"$bin" run --slm "$tmp/none.gguf" --llm "$stories" "q" > /dev/null 2>&1
[ $? -eq 1 ] || fail "missing model file: not 1"
"$bin" run --slm "$stories" --llm "$stories" "q" > /dev/null 2>&1
[ $? -eq 1 ] || fail "no chat template and no --template: not 1"
help=$("$bin" run --help) || fail "--help exited $?"
for opt in --slm --llm --template-slm --template-llm --threads --ctx --policy --tau --entropy \
    --final --seed --temp --top-p --delimiter --max-step-tokens --think-budget \
    --final-max-tokens --file --trace --json --quiet; do
    echo "$help" | grep -q -- "$opt" || fail "--help does not explain $opt"
done

rm -rf "$tmp"
[ $fails -eq 0 ] && echo "cli_run: all checks passed"
exit $((fails > 0))
