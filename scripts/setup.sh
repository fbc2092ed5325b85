#!/usr/bin/env bash
# Installs everything this project needs on Debian 12 (as root, or with sudo available),
# then configures and builds it in ./build. Safe to run again: it only installs what is missing.
# --bench also installs what bench/catchup.sh needs beyond the build (gnuplot for its plot).
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake pkg-config
      postgresql-15 postgresql-client-15 libpq-dev libssl-dev
      libfmt-dev libspdlog-dev libcli11-dev nlohmann-json3-dev
      libgtest-dev libgmock-dev libbenchmark-dev clang-format clang-tidy procps openssl git
      prometheus-cpp-dev libcivetweb-dev zlib1g-dev python3-prometheus-client
      mariadb-server mariadb-client libmariadb-dev bc)
if [ "${1:-}" = "--bench" ]; then PKGS+=(gnuplot-nox); fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    # Keep the packaged PostgreSQL service from creating and starting its own cluster: the
    # scripts start throwaway servers of their own on other ports.
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
        $SUDO mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
fi

BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
cmake -S . -B build -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
cmake --build build -j"$(nproc)"
