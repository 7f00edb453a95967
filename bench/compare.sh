#!/usr/bin/env bash
# compare.sh - side-by-side engine speed: `glimp bench` against llama.cpp's llama-bench on the
# same GGUF files, same threads, same test sizes. For every (model, threads) llama-bench runs
# before and after us and our figure is divided by the mean of its two runs, so a machine whose
# speed drifts during the run shows up as a gap between the two llama.cpp figures.
# usage: LLAMA_BENCH=/path/to/llama-bench bench/compare.sh MODEL.gguf [MODEL.gguf ...]
#   THREADS="1 2"  thread counts          P=512  prefill tokens (0 = skip)
#   N=128          decode tokens (0=skip) R=3    repetitions per figure
#   DEPTH=0        tokens of context before both tests (llama-bench -d)
# Prints one markdown row per (model, threads): both figures, ratio, peak RSS of each.
# Run from the repository root after `make`; llama-bench is built outside the project.
set -euo pipefail
: "${LLAMA_BENCH:?set LLAMA_BENCH to a llama-bench binary}"
[ $# -ge 1 ] || { sed -n 6,10p "$0" >&2; exit 2; }
threads=${THREADS:-1 2}
p=${P:-512}
n=${N:-128}
r=${R:-3}
depth=${DEPTH:-0}
glimp=${GLIMP:-build/glimp}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# llama_run MODEL THREADS -> "pp_ts tg_ts rss_kib" (0 for a skipped test)
llama_run() {
  # -d only when asked: llama-bench builds older than its depth option refuse it
  local d=()
  [ "$depth" = 0 ] || d=(-d "$depth")
  /usr/bin/time -f %M -o "$tmp/rss" "$LLAMA_BENCH" -m "$1" -t "$2" -p "$p" -n "$n" -r "$r" \
    "${d[@]}" -o csv >"$tmp/csv" 2>"$tmp/err" || { cat "$tmp/err" >&2; return 1; }
  # CSV header names the columns; n_prompt > 0 marks the prefill row, n_gen > 0 the decode row.
  awk -F, -v rss="$(tail -n 1 "$tmp/rss")" '
    NR == 1 { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); col[$i] = i }; next }
    { gsub(/"/, "") ; if ($col["n_prompt"] > 0) pp = $col["avg_ts"]; else tg = $col["avg_ts"] }
    END { printf "%s %s %s\n", pp + 0, tg + 0, rss }' "$tmp/csv"
}

# glimp_run MODEL THREADS -> "pp_ts tg_ts rss_kib"
glimp_run() {
  "$glimp" bench -m "$1" -t "$2" -p "$p" -n "$n" -r "$r" -d "$depth" >"$tmp/out" 2>&1 ||
    { cat "$tmp/out" >&2; return 1; }
  awk '
    /^prefill/ { pp = $3 } /^decode/ { tg = $3 }
    /^peak RSS/ { rss = $3 * 1024 }
    /^memory bandwidth/ { bw = $3 }
    END { printf "%s %s %d %s\n", pp + 0, tg + 0, rss, bw }' "$tmp/out"
}

ratio() { awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN { m = (b + c) / 2; if (m > 0) printf "%.2fx", a / m; else printf "-" }'; }

echo "pp$p / tg$n at depth $depth, r=$r; llama.cpp before | after us; ratio = ours / mean(llama.cpp)"
echo
echo "| model | threads | prefill ours | prefill llama.cpp | ratio | decode ours | decode llama.cpp | ratio | RSS ours / llama.cpp (MiB) | bandwidth GB/s |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for model in "$@"; do
  for t in $threads; do
    read -r lpp1 ltg1 lrss1 < <(llama_run "$model" "$t")
    read -r gpp gtg grss bw < <(glimp_run "$model" "$t")
    read -r lpp2 ltg2 lrss2 < <(llama_run "$model" "$t")
    lrss=$((lrss1 > lrss2 ? lrss1 : lrss2))
    printf "| %s | %s | %.1f | %.1f \\| %.1f | %s | %.1f | %.1f \\| %.1f | %s | %d / %d | %s |\n" \
      "$(basename "$model" .gguf)" "$t" "$gpp" "$lpp1" "$lpp2" "$(ratio "$gpp" "$lpp1" "$lpp2")" \
      "$gtg" "$ltg1" "$ltg2" "$(ratio "$gtg" "$ltg1" "$ltg2")" $((grss / 1024)) $((lrss / 1024)) "$bw"
  done
done
