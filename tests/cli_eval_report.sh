#!/usr/bin/env bash
# cli_eval_report.sh - `glimp report DIR` on a synthetic items.jsonl: the
# summary values (hand-computed), well-formed SVGs (xmllint), and, when
# chromium is installed, each SVG rendered headless to a PNG that must not
# be blank (python3: count non-white pixels; else: much larger than the
# PNG of an empty SVG). Exit 77 (skip) without xmllint.
set -euo pipefail
GLIMP=${GLIMP_BIN:?GLIMP_BIN not set}
command -v xmllint >/dev/null || { echo "SKIP: xmllint not installed (scripts/deps.sh)"; exit 77; }
dir=$(mktemp -d /tmp/glimp_cli_report.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 2 problems x 2 repeats; llm 3/4 right in 10 s; glimp tau 1: 2/4 in 5 s
item() { # policy tau problem repeat correct wall llm_steps
  printf '{"dataset":"synth","policy":"%s","tau":%s,"problem":"%s","repeat":%s,"correct":%s,"wall_s":%s,' "$1" "$2" "$3" "$4" "$5" "$6"
  printf '"tokens":{"slm":%s,"llm":%s},"steps":{"total":4,"llm":%s},"trace":{"params":{"entropy":"topk:20"},' $(( (4 - $7) * 10 )) $(( $7 * 10 + 5 )) "$7"
  printf '"steps":[{"model":"slm","h_init":{"topk":0.4,"exact":null}},{"model":"llm","h_init":{"topk":1.7,"exact":null}}]}}\n'
}
{
  item llm null a 0 true 10 4;  item llm null b 0 true 10 4
  item llm null a 1 false 10 4; item llm null b 1 true 10 4
  item glimp 1 a 0 true 5 1;    item glimp 1 b 0 false 5 1
  item glimp 1 a 1 true 5 1;    item glimp 1 b 1 false 5 1
} > "$dir/items.jsonl"

"$GLIMP" report "$dir" > "$dir/out.txt" || fail "glimp report exited $?"
grep -qF "| glimp * | 1 | 4 | 50.0% |" "$dir/out.txt" || fail "table not printed: $(cat "$dir/out.txt")"
# speedup 10/5 = 2; step share 4/16; token share 60/(120+60)
grep -q '^glimp,1,4,2,0.500000,.*,5.000000,2.000000,0.250000,0.333333,' "$dir/summary.csv" \
  || fail "summary.csv: $(cat "$dir/summary.csv")"
grep -q '^llm,,4,3,0.750000,0.300642,0.954413,10.000000,1.000000,1.000000,' "$dir/summary.csv" \
  || fail "summary.csv llm row: $(cat "$dir/summary.csv")"
for f in accuracy_latency h_init_hist llm_share_tau; do
  [ -s "$dir/$f.svg" ] || fail "$f.svg missing"
  xmllint --noout "$dir/$f.svg" || fail "$f.svg is not well-formed XML"
done
grep -q "16 probed steps" "$dir/h_init_hist.svg" || fail "histogram does not count 16 probes"

"$GLIMP" report "$dir/nonexistent/deeper" 2>/dev/null && fail "report on a missing folder succeeded"
rc=0; "$GLIMP" report 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "no argument: exit $rc, want 2 (usage)"

# Rendering check: headless Chromium draws each SVG; a plot is not blank.
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
  echo "note: chromium not installed, rendering check skipped (apt-get install chromium)"
  echo "ok"
  exit 0
fi
render() { # svg png
  timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$(mktemp -d "$dir/prof.XXXXXX")" \
    --screenshot="$2" --window-size=800,600 "file://$1" >/dev/null 2>&1 || true
  [ -s "$2" ] || fail "chromium produced no PNG for $1"
}
printf '<svg xmlns="http://www.w3.org/2000/svg" width="760" height="480"><rect width="760" height="480" fill="#fff"/></svg>\n' > "$dir/blank.svg"
render "$dir/blank.svg" "$dir/blank.png"
blank=$(stat -c %s "$dir/blank.png")
for f in accuracy_latency h_init_hist llm_share_tau; do
  render "$dir/$f.svg" "$dir/$f.png"
  if command -v python3 >/dev/null; then
    ink=$(python3 - "$dir/$f.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
pos, idat, w, h, ct = 8, b"", 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR": w, h, depth, ct = struct.unpack(">IIBB", body[:10])
    if kind == b"IDAT": idat += body
    pos += 12 + n
bpp = {2: 3, 6: 4}[ct]
raw, stride, prev, ink = zlib.decompress(idat), w * bpp, bytearray(w * bpp), 0
for y in range(h):
    f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = row[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: row[i] = (row[i] + a) & 255
        elif f == 2: row[i] = (row[i] + b) & 255
        elif f == 3: row[i] = (row[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    ink += sum(1 for x in range(0, stride, bpp) if min(row[x:x + 3]) < 200)
    prev = row
print(ink)
PY
)
    [ "$ink" -gt 2000 ] || fail "$f.png looks blank ($ink dark pixels)"
    echo "$f.svg rendered: $ink dark pixels"
  else
    size=$(stat -c %s "$dir/$f.png")
    [ "$size" -gt $((3 * blank)) ] || fail "$f.png ($size bytes) is no bigger than a blank render ($blank)"
    echo "$f.svg rendered: $size bytes (blank: $blank)"
  fi
done
echo "ok"
