#!/usr/bin/env bash
# cli_link.sh - the README's "Library" link line builds and runs a program
# against the static libraries of this build.
set -euo pipefail
: "${GLIMP_SRC:?}" "${GLIMP_BUILD:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/my_tool.c" <<'C'
#include "glimp.h"
#include <stdio.h>
int main(void)
{
    glimp_router_params p = glimp_router_default_params();
    printf("glimp %s tau %.1f\n", glimp_version(), p.tau);
    return 0;
}
C
cc -std=c11 -I"$GLIMP_SRC/include" "$tmp/my_tool.c" -L"$GLIMP_BUILD" -lglimp_eval -lglimp_serve \
   -lglimp_router -lglimp_backend -lglimp_model -lglimp_text -lglimp_sample -lglimp_gguf \
   -lglimp_quant -lglimp_base -lpcre2-8 -lcurl -lmicrohttpd -lcjson -lpthread -lm \
   ${GLIMP_LINK_FLAGS:-} -o "$tmp/my_tool"
out=$("$tmp/my_tool")
[ "$out" = "glimp 0.1.0 tau 1.0" ] || { echo "FAIL: unexpected output: $out"; exit 1; }
echo "ok: linked and ran: $out"
