#!/usr/bin/env bash
# Builds the packet path with AddressSanitizer and UndefinedBehaviorSanitizer into tmp/ and runs
# fuzz.ts against it for N seconds (default 15): any report fails. Not part of bin/test.
set -euo pipefail
source "$(dirname "$0")/../../../bin/lib.sh"
ensure_node
cd "$ROOT"
mkdir -p tmp
g++ -std=c++17 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -fPIC -shared -DNODE_GYP_MODULE_NAME=packet_path \
  -I"$npm_config_nodedir/include/node" -o tmp/packet_path_sanitized.node packages/media/native/packet_path.cc
ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
  node --import @poppinss/ts-exec packages/media/native/fuzz.ts tmp/packet_path_sanitized.node "${1:-15}"
