#!/usr/bin/env bash
# Installs the system packages the tests need (Debian), when missing and when root.
# Idempotent: a machine that has them already is left alone.
set -euo pipefail

packages=()
# Add "command package" pairs here; the package is installed when the command is missing.
needs=(
  chromium chromium
  redis-server redis-server
)

for ((i = 0; i < ${#needs[@]}; i += 2)); do
  command -v "${needs[i]}" >/dev/null 2>&1 || [ -x "${needs[i]}" ] || packages+=("${needs[i + 1]}")
done
# PostgreSQL for the tracker-store tests (tooling/postgres.py starts its own server);
# Debian keeps initdb off the PATH, in /usr/lib/postgresql/<version>/bin.
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  packages+=(postgresql)
fi

if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${packages[*]}. Install them (apt-get install ${packages[*]}) and retry." >&2
  exit 1
fi
echo "Installing system packages: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
