#!/usr/bin/env bash
# The pages' assets and the browser the tests drive.
# usage: web.sh assets   - npm ci (govuk-frontend, @ministryofjustice/frontend, sass, axe-core) and build web/dist
#        web.sh browser  - Debian's chromium for the Playwright tests (no browser download)
set -euo pipefail
cd "$(dirname "$0")/../../web"

# sass (and so the build) needs Node >= 20.19 (package.json "engines"). Debian 13's nodejs is 20.19.2;
# Debian 12's is 18.20: then the pinned Node below comes from the npm registry (the `node` package,
# which fetches the official binary) into web/.node, outside node_modules, and runs the build.
NODE_PIN=20.19.5

node_ok() {
  command -v node >/dev/null && node -e 'const [a, b] = process.versions.node.split(".").map(Number);
    process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}

use_supported_node() {
  node_ok && return 0
  local found; found=$(node --version 2>/dev/null || true)
  echo "web.sh: Node ${found:-(none)} is older than 20.19; using node@$NODE_PIN from npm" >&2
  [ -x .node/node_modules/.bin/node ] || npm install --no-save --no-audit --no-fund --loglevel=error --prefix .node "node@$NODE_PIN" >/dev/null
  export PATH="$PWD/.node/node_modules/.bin:$PATH"
  node_ok || { echo "web.sh: no Node >= 20.19 available" >&2; exit 1; }
}

assets() {
  local stamp=dist/.built
  if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ] && [ -z "$(find src build.mjs -newer "$stamp" 2>/dev/null)" ]; then
    return 0
  fi
  use_supported_node
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
