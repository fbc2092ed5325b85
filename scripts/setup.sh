#!/usr/bin/env bash
# Installs everything this project needs on Debian 12 (as root, or with sudo available),
# then configures and builds it in ./build. Safe to run again: it only installs what is missing.
# --bench also installs what bench/catchup.sh needs beyond the build (gnuplot for its plot).
#
# Prints one line per phase; the package manager's and the compiler's full output go to
# build/setup.log (SETUP_LOG overrides), which a failure names, with its last lines.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake pkg-config
      postgresql-15 postgresql-client-15 libpq-dev libssl-dev
      libfmt-dev libspdlog-dev libcli11-dev nlohmann-json3-dev
      libgtest-dev libgmock-dev libbenchmark-dev clang-format clang-tidy procps openssl git
      prometheus-cpp-dev libcivetweb-dev zlib1g-dev python3-prometheus-client
      mariadb-server mariadb-client libmariadb-dev bc libjavascriptcoregtk-4.1-dev libicu-dev
      libjemalloc-dev)
if [ "${1:-}" = "--bench" ]; then PKGS+=(gnuplot-nox); fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

mkdir -p build
LOG=${SETUP_LOG:-$PWD/build/setup.log}
: >"$LOG"

# Runs one phase quietly: its output goes to the log; on failure, the log's tail and path.
phase() {
    local what=$1
    shift
    local start=$SECONDS
    printf 'setup: %s ... ' "$what"
    echo "=== $what: $*" >>"$LOG"
    if "$@" >>"$LOG" 2>&1; then
        echo "done ($((SECONDS - start))s)"
    else
        local status=$?
        echo "FAILED (exit $status)"
        echo "setup: the last lines of $LOG:" >&2
        tail -n 40 "$LOG" >&2
        echo "setup: $what failed; the whole output is in $LOG" >&2
        exit "$status"
    fi
}

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches the build-time JavaScript tooling (src/script/js). Any Node.js with npm will do:
# Debian's packages, or one already installed some other way (NodeSource bundles npm).
if ! command -v npm >/dev/null; then
    command -v node >/dev/null || missing+=(nodejs)
    missing+=(npm)
fi
install_packages() {
    # Keep the packaged PostgreSQL service from creating and starting its own cluster: the
    # scripts start throwaway servers of their own on other ports.
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
        $SUDO mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf
    fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
}
if [ ${#missing[@]} -gt 0 ]; then
    phase "installing ${#missing[@]} Debian packages (${missing[*]})" install_packages
else
    echo "setup: all ${#PKGS[@]} Debian packages are installed"
fi

BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
phase "configuring the build ($BUILD_TYPE)" cmake -S . -B build -DCMAKE_BUILD_TYPE="$BUILD_TYPE"
phase "building on $(nproc) cores" cmake --build build -j"$(nproc)"
