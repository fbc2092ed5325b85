#!/usr/bin/env bash
# Static checks, run by ctest (tests clang_format and clang_tidy):
#   scripts/lint.sh format        # clang-format 14 --dry-run over every C++ file in git
#   scripts/lint.sh tidy BUILD    # clang-tidy (.clang-tidy) over src/, with BUILD's compile_commands.json
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
    format)
        git ls-files -z -- 'src/*.h' 'src/*.cc' 'tests/*.h' 'tests/*.cc' 'bench/*.cc' |
            xargs -0 clang-format --dry-run --Werror
        ;;
    tidy)
        build=${2:?usage: scripts/lint.sh tidy BUILD_DIR}
        # run-clang-tidy prints every finding and exits non-zero if any (WarningsAsErrors).
        run-clang-tidy -quiet -p "$build" -j "$(nproc)" "$PWD/src/.*\.cc\$" >"$build/clang-tidy.log" 2>&1 ||
            { grep -E "error:|warning:" "$build/clang-tidy.log" | sort -u | head -50; exit 1; }
        ;;
    *)
        echo "usage: scripts/lint.sh format | tidy BUILD_DIR" >&2
        exit 2
        ;;
esac
