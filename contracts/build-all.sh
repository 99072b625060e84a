#!/usr/bin/env bash
# Rebuilds every committed WebAssembly module from its Embedded Swift sources with the SDK:
# the shipped ones (sanzi, counter) into Sources/ContractModules/Modules, the test samples into
# contracts/build. Builds are reproducible (same sources and toolchain, same bytes).
#
#   contracts/build-all.sh           rebuild and overwrite
#   contracts/build-all.sh --check   rebuild into a temporary directory and fail if any module
#                                    differs from the committed one (CI runs this)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE/.."
BUILD="$ROOT/sdk/build-contract.sh"
SHIPPED="$ROOT/Sources/ContractModules/Modules"
SAMPLES="$HERE/build"
CHECK=0
if [ "${1:-}" = "--check" ]; then CHECK=1; fi

OUT_SHIPPED="$SHIPPED"
OUT_SAMPLES="$SAMPLES"
if [ "$CHECK" = 1 ]; then
    TMP="$(mktemp -d)"
    trap 'rm -rf "$TMP"' EXIT
    OUT_SHIPPED="$TMP/shipped"
    OUT_SAMPLES="$TMP/samples"
fi
mkdir -p "$OUT_SHIPPED" "$OUT_SAMPLES"

"$BUILD" "$HERE/counter.swift" "$OUT_SHIPPED/counter.wasm"
"$BUILD" "$HERE"/sanzi/*.swift "$OUT_SHIPPED/sanzi.wasm"
for name in probe loop trap membomb recursion floats forbidden; do
    "$BUILD" "$HERE/$name.swift" "$OUT_SAMPLES/$name.wasm" 2>/dev/null
done

if [ "$CHECK" = 1 ]; then
    status=0
    for f in "$OUT_SHIPPED"/*.wasm; do
        cmp -s "$f" "$SHIPPED/$(basename "$f")" || { echo "differs: Sources/ContractModules/Modules/$(basename "$f")" >&2; status=1; }
    done
    for f in "$OUT_SAMPLES"/*.wasm; do
        cmp -s "$f" "$SAMPLES/$(basename "$f")" || { echo "differs: contracts/build/$(basename "$f")" >&2; status=1; }
    done
    if [ "$status" = 0 ]; then echo "every committed module matches its rebuild"; else
        echo "run contracts/build-all.sh and commit the modules" >&2; fi
    exit $status
fi
