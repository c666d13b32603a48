#!/usr/bin/env bash
# The pages' assets and the browser the tests drive.
# usage: web.sh assets   - npm ci (govuk-frontend, @ministryofjustice/frontend, sass, axe-core) and build web/dist
#        web.sh browser  - Debian's chromium for the Playwright tests (no browser download)
set -euo pipefail
cd "$(dirname "$0")/../../web"

assets() {
  local stamp=dist/.built
  if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ -z "$(find src build.mjs -newer "$stamp" 2>/dev/null)" ]; then
    return 0
  fi
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  npm run --silent build
  touch "$stamp"
}

browser() {
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" -ne 0 ]; then echo "web.sh: chromium is missing; run as root or: apt-get install -y chromium" >&2; exit 1; fi
  echo "web.sh: installing Debian's chromium package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
}

"$@"
