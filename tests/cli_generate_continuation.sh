#!/usr/bin/env bash
# cli_generate_continuation.sh - `glimp generate` prints the continuation as
# the model wrote it: with stories260K (SentencePiece, space prefix) greedy
# "Once upon a time there" continues with " was", leading space kept (it
# was printed as "was"). Skips (77) without ../shared.
set -u
B=${GLIMP_BIN:?}
M=${GLIMP_SHARED:-../shared}/models/stories260K.gguf
[ -f "$M" ] || { echo "SKIP: $M not found (set GLIMP_SHARED)"; exit 77; }
out=$("$B" generate -m "$M" -p "Once upon a time there" -n 2 --temp 0 -t 1 2>/dev/null) ||
    { echo "FAIL: generate exited with $?"; exit 1; }
[ "$out" = " was a" ] || { echo "FAIL: continuation printed as [$out], want [ was a]"; exit 1; }
echo "cli_generate_continuation: ok"
