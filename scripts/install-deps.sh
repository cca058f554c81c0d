#!/usr/bin/env bash
# Installs the Debian packages hloc builds and tests with, skipping those that
# are already present, so it is cheap to run before every build.  It needs root
# (or sudo) only when something is missing.  TensorFlow and JAX are not
# installed here: they are needed only to regenerate testdata/ (scripts/venv.sh).
# The Python binding's tests run with Debian's /usr/bin/python3 and its
# python3-numpy, never a PyPI numpy; python3-venv, python3-pip and
# python3-setuptools let tests/python_install.sh `pip install ./python` into
# a fresh virtual environment, offline.  The AArch64 cross compiler, its libc
# (only recommended by the compiler, so named) and qemu-user link and run the
# cross-compiled models in tests/test_driver_aarch64.c.  Graphviz's dot renders
# `hloc dump --stage svg|png` (tests/test_driver_pipeline.c).
#   scripts/install-deps.sh --bench  also installs the kernel peers that
#   bench/kernels.c measures against: oneDNN and OpenBLAS (not needed to build
#   or test).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  llvm-22-dev libmlir-22-dev mlir-22-tools clang-22 libclang-rt-22-dev lld-22
  libprotobuf-c-dev protobuf-c-compiler
  check
  python3-numpy python3-venv python3-pip python3-setuptools
  graphviz
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
)
if [ "${1:-}" = --bench ]; then
  packages+=(libdnnl-dev libopenblas-pthread-dev)
elif [ $# -gt 0 ]; then
  echo "install-deps: unknown argument '$1' (only --bench)" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
