#!/usr/bin/env bash
# deps.sh - installs the Debian 12 packages GlimpRouter needs to build, test
# and run its tools. Idempotent: prints nothing and exits 0 when everything
# is present. Run as root or with sudo available.
#   scripts/deps.sh          build + test dependencies
#   scripts/deps.sh --train  also what tools/demo/train.py needs (python3-torch)
#   scripts/deps.sh --check  only report what is missing (exit 1 if any)
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  libpcre2-dev          # tokenizer pre-split regexes (JIT)
  libcurl4-openssl-dev  # HTTP client of the openai backend
  libmicrohttpd-dev     # glimp serve
  libcjson-dev          # JSON
  zlib1g-dev            # LiveCodeBench private tests (zlib-compressed)
  clang libclang-rt-14-dev  # libFuzzer target, LeakSanitizer runtime
  curl                  # CLI tests of glimp serve
  libxml2-utils         # xmllint: SVG well-formedness in tests
  help2man              # man pages from the tools' --help
  python3               # runs LiveCodeBench answers in the sandbox (and its tests)
)
mode=install
for a in "$@"; do
  case "$a" in
    --train) pkgs+=(python3 python3-torch python3-numpy libopenblas0-pthread) ;;
    --check) mode=check ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "deps.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$mode" = check ]; then
  echo "missing packages: ${missing[*]}"
  exit 1
fi
echo "deps.sh: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
