#!/usr/bin/env bash
# Builds llama-server offline from the llama.cpp release node-llama-cpp ships as a git bundle
# (openai-compat.md §5), into the engine cache, and prints the binary's path. Reruns reuse the
# clone and the build folder (ninja rebuilds nothing when nothing changed) and ccache when it is
# installed, so a warm machine pays seconds. The reference for the parity test
# (test/e2e/parity.test.ts); issue 12's source provisioner is the general form of this.
# Usage: bash scripts/build-llama-server.sh   (LLAMA_ORCH_CACHE overrides ~/.cache/llama-orch)
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${LLAMA_ORCH_CACHE:-$HOME/.cache/llama-orch}"
bundle="node_modules/node-llama-cpp/llama/gitRelease.bundle"
[ -f "$bundle" ] || { echo "no $bundle: run npm ci first" >&2; exit 1; }
ref=$(git bundle list-heads "$bundle" | head -n 1 | cut -d' ' -f1)
src="$cache/llama.cpp/$ref/src"
build="$cache/llama.cpp/$ref/build"
for tool in git cmake ninja c++; do
  command -v "$tool" >/dev/null || { echo "$tool is needed to build llama-server (Debian: apt-get install -y cmake ninja-build g++ git)" >&2; exit 1; }
done
if [ ! -d "$src/.git" ]; then
  rm -rf "$src.tmp"
  git clone -q "$bundle" "$src.tmp"
  mv "$src.tmp" "$src"
fi
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_DIR="${CCACHE_DIR:-$cache/ccache}"
fi
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF "${launcher[@]}" >&2
cmake --build "$build" --target llama-server >&2
echo "$build/bin/llama-server"
