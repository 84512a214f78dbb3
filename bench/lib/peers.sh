# Peers for the benchmarks, built or installed once into the asset cache, never
# into the repo. Source this file; it needs $CACHE (scripts/setup-assets' output).

# llama.cpp from the llama-cpp-python 0.3.36 sdist's vendor/llama.cpp (~10-25 min
# on 2 cores the first time). Prints the folder holding its binaries.
ensure_llamacpp() {
  local peer="$CACHE/peers/llama.cpp" targets=(llama-completion llama-bench)
  local missing=0 t
  for t in "${targets[@]}"; do [ -x "$peer/build/bin/$t" ] || missing=1; done
  if [ "$missing" = 1 ]; then
    echo "building llama.cpp (once)" >&2
    if [ ! -f "$peer/CMakeLists.txt" ]; then
      rm -rf "$peer" && mkdir -p "$CACHE/peers"
      local tmp; tmp=$(mktemp -d)
      tar -xzf "$CACHE/sdist/llama_cpp_python-0.3.36.tar.gz" -C "$tmp" --wildcards '*/vendor/llama.cpp/*'
      mv "$tmp"/*/vendor/llama.cpp "$peer" && rm -rf "$tmp"
    fi
    cmake -S "$peer" -B "$peer/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DGGML_NATIVE=ON \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF >/dev/null
    cmake --build "$peer/build" -j"$(nproc)" --target "${targets[@]}" >/dev/null
  fi
  echo "$peer/build/bin"
}

# OpenVINO GenAI from PyPI in its own venv (its numpy and wheels stay away from the
# test venv). Prints that venv's python.
ensure_openvino() {
  local venv="$CACHE/peers/openvino-venv" version=2026.4.1.0
  if ! "$venv/bin/python" -c "import openvino_genai" >/dev/null 2>&1; then
    echo "installing openvino-genai $version (once)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "openvino-genai==$version" >&2
  fi
  echo "$venv/bin/python"
}
