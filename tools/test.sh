#!/usr/bin/env bash
# The README's test command: install the Debian packages the tests need (listed in tools/test-packages.txt) when any
# is missing, then run every test. Extra arguments go to `dotnet test` (e.g. --filter FullyQualifiedName~ImageFolder).
# Exits with dotnet test's code: non-zero when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t packages < <(sed -e 's/#.*//' tools/test-packages.txt | awk 'NF { print $1 }')
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get > /dev/null; then
    echo "error: the tests need these Debian packages, and this machine has no apt-get: ${missing[*]}; install them, then run dotnet test Framework.sln" >&2
    exit 2
  fi
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "Installing the packages the tests need: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
fi

exec dotnet test Framework.sln "$@"
