#!/usr/bin/env bash
# ctest_skips.sh - after a ctest run, says how many tests were skipped and
# why: each skipped test prints "SKIP: reason" (exit 77), which ctest keeps
# in Testing/Temporary/LastTest.log. Usage: ctest_skips.sh BUILD_DIR
log=${1:?usage: ctest_skips.sh BUILD_DIR}/Testing/Temporary/LastTest.log
[ -r "$log" ] || exit 0
awk '
  /^[0-9]+\/[0-9]+ Test: / { name = $3 }
  /^SKIP: / { sub(/^SKIP: /, ""); reason[name] = $0 }
  /^Test (Passed|Failed)/ { delete reason[name] } # a "SKIP:" line of a test that ran
  END {
    for (t in reason) n++
    if (!n) { print "no tests skipped"; exit }
    printf "%d test%s skipped:\n", n, (n > 1 ? "s" : "")
    for (t in reason) printf "  %-24s %s\n", t, reason[t]
  }' "$log"
