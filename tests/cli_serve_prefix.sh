#!/usr/bin/env bash
# cli_serve_prefix.sh - shared prompt prefixes across the slots of glimp serve
# over real HTTP on 127.0.0.1: while request A streams on one slot, request B
# whose prompt shares a long start with A's (a "system prompt") lands on the
# other slot and must take that prefix from A's slot (usage reports it as
# cached_tokens) instead of computing it, and answer exactly what a fresh
# one-slot server answers (greedy, with logprobs). Then a request on the now
# idle pair is sent to the slot holding most of its prompt. /metrics counts
# the copied tokens. Model: a random Q8_0 model made with mkmodel and the
# demo vocabulary, so generation runs to max_tokens.
set -u
B=${GLIMP_BIN:?}
SRC=${GLIMP_SRC:?}
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

. "$(dirname "${BASH_SOURCE[0]}")/lib/serve.bash"

random_model "$T/m.gguf"
start_server one -m "$T/m.gguf" --template raw --parallel 1 -t 1
start_server two -m "$T/m.gguf" --template raw --parallel 2 --queue 2 -t 1
one="http://127.0.0.1:$PORT_one/v1/completions"
two="http://127.0.0.1:$PORT_two/v1/completions"

shared=$(for i in $(seq 1 80); do printf 'Owen has %d bags. ' "$i"; done)
tail_b=$(for i in $(seq 1 20); do printf 'Zoe has %d boxes. ' "$i"; done)
req() { # PROMPT MAX_TOKENS STREAM
    printf '{"prompt":"%s","max_tokens":%d,"temperature":0,"logprobs":2,"stream":%s}' "$1" "$2" "$3"
}
strip() { sed -e 's/"id":"[^"]*"//g' -e 's/"created":[0-9]*//g' -e 's/"usage":{.*}//'; }
cached() { sed -n 's/.*"cached_tokens":\([0-9]*\).*/\1/p' "$1"; }
prompt_tokens() { sed -n 's/.*"prompt_tokens":\([0-9]*\).*/\1/p' "$1"; }

curl -s "$one" -d "$(req "$shared" 1 false)" >"$T/shared.json"
ns=$(prompt_tokens "$T/shared.json")
[ -n "$ns" ] && [ "$ns" -gt 300 ] || fail "shared prompt: $(head -c 300 "$T/shared.json")"

# A streams a long answer on slot 0 of "two"; B arrives once A's prompt is in
curl -sN "$two" -d "$(req "$shared Question A." 3000 true)" >"$T/a.sse" &
a_pid=$!
for _ in $(seq 1 600); do grep -q '^data: {' "$T/a.sse" 2>/dev/null && break; sleep 0.05; done
grep -q '^data: {' "$T/a.sse" || fail "request A did not start streaming"
curl -s "$two" -d "$(req "$shared$tail_b" 16 false)" >"$T/b.json"
kill -0 "$a_pid" 2>/dev/null || fail "request A ended before B was answered: the test proves nothing"
kill "$a_pid"
wait "$a_pid" 2>/dev/null

curl -s "$one" -d "$(req "$shared$tail_b" 16 false)" >"$T/b_alone.json"
n=$(prompt_tokens "$T/b.json")
c=$(cached "$T/b.json")
[ -n "$n" ] && [ "$n" -gt "$ns" ] || fail "B: $(head -c 300 "$T/b.json")"
[ -n "$c" ] && [ "$c" -ge $((ns - 2)) ] ||
    fail "B took ${c:-no} cached tokens of $n: the shared prefix ($ns) was computed again"
cmp -s <(strip <"$T/b.json") <(strip <"$T/b_alone.json") ||
    fail "B with a copied prefix differs from B alone: $(diff <(strip <"$T/b.json") \
        <(strip <"$T/b_alone.json") | head -c 600)"

# both slots idle now: A's slot holds the shared part, B's slot all of B's
# prompt; a follow-up of B must be served from B's slot (or a copy of it).
curl -s "$two" -d "$(req "$shared$tail_b And then" 4 false)" >"$T/b2.json"
n2=$(prompt_tokens "$T/b2.json")
c2=$(cached "$T/b2.json")
[ -n "$c2" ] && [ "$c2" -ge $((n - 2)) ] ||
    fail "follow-up of B took ${c2:-no} cached tokens of $n2 (B's prompt is $n)"

m=$(curl -s "http://127.0.0.1:$PORT_two/metrics")
copied=$(sed -n 's/^glimp_prefix_copied_tokens_total //p' <<<"$m")
[ -n "$copied" ] && [ "$copied" -ge $((ns - 2)) ] || fail "metrics: copied tokens '$copied'"
stop_server two
stop_server one
echo "cli_serve_prefix: B took $c of $n prompt tokens from A's slot, same answer as alone;" \
    "follow-up $c2 of $n2 cached; $copied tokens copied"
