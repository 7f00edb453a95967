#!/usr/bin/env bash
# cli_install.sh - an install as a user gets it. `cmake --install` of this
# build (what `make install` runs) into a temporary prefix gives bin/glimp
# (its --version names the git revision), include/glimp.h, libglimp.a,
# libglimp.so.MAJOR (with its SONAME, exporting exactly what glimp.h
# declares), glimp.pc and the man pages. docs/example.c, the README's
# "Library" program (checked to be the same text), builds against it with
# pkg-config once shared and once static, and both give the installed glimp's
# answer on the demo pair. Last, a DESTDIR install lands under DESTDIR and
# `make uninstall` (cmake/uninstall.cmake) removes every file of it again.
set -euo pipefail
: "${GLIMP_SRC:?}" "${GLIMP_BUILD:?}"
for tool in pkg-config readelf nm; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

readme_code=$(awk '/^## Library/ { s = 1 } s && /^```c$/ { c = 1; next } c && /^```$/ { exit } c' \
                  "$GLIMP_SRC/README.md")
[ "$readme_code" = "$(cat "$GLIMP_SRC/docs/example.c")" ] ||
  fail "the README's Library example is not docs/example.c"

prefix=$tmp/prefix
cmake --install "$GLIMP_BUILD" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name glimp.pc)
[ -n "$pc" ] || fail "no glimp.pc installed"
export PKG_CONFIG_PATH=${pc%/glimp.pc}
libdir=$(pkg-config --variable=libdir glimp)
case " $(pkg-config --cflags glimp) " in *" -I$prefix/include "*) ;; *) fail "cflags: $(pkg-config --cflags glimp)" ;; esac
[ -x "$prefix/bin/glimp" ] || fail "no bin/glimp"
[ -f "$prefix/include/glimp.h" ] || fail "no include/glimp.h"
[ -f "$libdir/libglimp.a" ] || fail "no libglimp.a in $libdir"
[ -L "$libdir/libglimp.so" ] || fail "no libglimp.so link in $libdir"

major=$(sed -n 's/^#define GLIMP_VERSION_MAJOR \([0-9]*\)$/\1/p' "$prefix/include/glimp.h")
soname=$(readelf -d "$libdir/libglimp.so" | sed -n 's/.*Library soname: \[\(.*\)\]$/\1/p')
[ "$soname" = "libglimp.so.$major" ] || fail "SONAME '$soname', expected libglimp.so.$major"
[ -f "$libdir/$soname" ] || fail "no $soname in $libdir"
# Exported: the functions and the extern variables glimp.h declares, no more, no less.
grep -v '^[[:space:]#/]' "$prefix/include/glimp.h" |
  grep -oE '^extern [^;]*glimp_[a-z0-9_]+|[ *]glimp_[a-z0-9_]+\(' |
  grep -oE 'glimp_[a-z0-9_]+' | sort -u > "$tmp/declared"
nm -D --defined-only "$libdir/$soname" | awk '{ print $3 }' | sort > "$tmp/exported"
[ "$(wc -l < "$tmp/declared")" -gt 100 ] || fail "found only $(wc -l < "$tmp/declared") declarations in glimp.h"
diff "$tmp/declared" "$tmp/exported" > "$tmp/exports.diff" ||
  fail "exports differ from glimp.h ('<' declared only, '>' exported only): $(cat "$tmp/exports.diff")"

if command -v help2man >/dev/null; then
  for page in glimp glimp-run glimp-serve; do
    grep -q "^\.TH \"\?${page^^}\"\? " "$prefix/share/man/man1/$page.1" 2>/dev/null ||
      fail "no man page $page.1"
  done
else
  echo "note: help2man is not installed: no man pages to check"
fi

revision=$("$prefix/bin/glimp" --version | sed -n 's/^revision: //p')
if git -C "$GLIMP_SRC" rev-parse --show-toplevel >/dev/null 2>&1 &&
   [ "$(cd "$(git -C "$GLIMP_SRC" rev-parse --show-toplevel)" && pwd -P)" = "$(cd "$GLIMP_SRC" && pwd -P)" ]; then
  described=$(git -C "$GLIMP_SRC" describe --always)
  case "$revision" in
    "$described" | "$described-dirty") ;;
    *) fail "glimp --version says revision '$revision', git describe '$described'" ;;
  esac
else
  [ "$revision" = unknown ] || fail "revision '$revision' outside a git checkout"
fi

# The example, shared then static (the second -lglimp, from --static --libs,
# is dropped by --as-needed: libglimp.a already gave every symbol).
cc=${CC:-cc}
# shellcheck disable=SC2046,SC2086
$cc -std=c11 "$GLIMP_SRC/docs/example.c" $(pkg-config --cflags --libs glimp) \
    -Wl,-rpath,"$libdir" ${GLIMP_LINK_FLAGS:-} -o "$tmp/example_shared"
readelf -d "$tmp/example_shared" | grep -q "(NEEDED).*\[$soname\]" || fail "example_shared does not need $soname"
# shellcheck disable=SC2046,SC2086
$cc -std=c11 "$GLIMP_SRC/docs/example.c" $(pkg-config --cflags glimp) -Wl,-Bstatic -lglimp \
    -Wl,-Bdynamic -Wl,--as-needed $(pkg-config --static --libs glimp) ${GLIMP_LINK_FLAGS:-} \
    -o "$tmp/example_static"
! readelf -d "$tmp/example_static" | grep -q "(NEEDED).*libglimp" || fail "example_static needs libglimp.so"

models=$GLIMP_SRC/models/demo
question="Owen has 6 bags with 8 marbles in each. Zoe has 8 jars with 3 marbles in each. Whoever has more marbles gives 5 to the other. Owen finds 32 more marbles. How many more marbles does the one with more have?"
want=$("$prefix/bin/glimp" run --slm "$models/slm.gguf" --llm "$models/llm.gguf" --quiet "$question")
[ -n "$want" ] || fail "the installed glimp gave no answer"
for kind in shared static; do
  out=$("$tmp/example_$kind" "$models/slm.gguf" "$models/llm.gguf" "$question")
  [ "$(sed '$d' <<< "$out")" = "$want" ] || fail "example_$kind answered '$out', glimp run '$want'"
  tail -n 1 <<< "$out" | grep -qE '^\(glimp [0-9.]+: [0-9]+ steps, [0-9]+ by the LLM\)$' ||
    fail "example_$kind: unexpected last line: $(tail -n 1 <<< "$out")"
done

stage=$tmp/stage
DESTDIR=$stage cmake --install "$GLIMP_BUILD" --prefix /usr/local >/dev/null
[ -x "$stage/usr/local/bin/glimp" ] || fail "DESTDIR install: no $stage/usr/local/bin/glimp"
grep -qx 'prefix=/usr/local' "$(find "$stage" -name glimp.pc)" || fail "DESTDIR install: glimp.pc prefix"
touch "$stage/usr/local/bin/not-ours"
cmake -DBUILD="$GLIMP_BUILD" -DPREFIX=/usr/local -DDESTDIR="$stage" \
      -P "$GLIMP_SRC/cmake/uninstall.cmake" >/dev/null
left=$(find "$stage" ! -type d)
[ "$left" = "$stage/usr/local/bin/not-ours" ] || fail "uninstall left: $left"
echo "ok: installed, linked shared and static, ran, uninstalled ($(wc -l < "$tmp/exported") exports)"
