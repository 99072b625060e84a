#!/usr/bin/env bash
# Builds a XiangChain WebAssembly contract from Embedded Swift sources with this SDK.
#
#   sdk/build-contract.sh CONTRACT.swift [MORE.swift ...] OUT.wasm
#
# Needs only the Swift toolchain (swiftc with Embedded Swift, and its wasm-ld). Set SWIFTC to use
# a particular swiftc; OPT to change the optimisation level (default -Osize).
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 CONTRACT.swift [MORE.swift ...] OUT.wasm" >&2
    exit 2
fi

SDK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${!#}"
SOURCES=("${@:1:$#-1}")
SWIFTC="${SWIFTC:-$(command -v swiftc)}"
TOOLCHAIN_BIN="$(dirname "$(readlink -f "$SWIFTC")")"
WASM_LD="${WASM_LD:-$TOOLCHAIN_BIN/wasm-ld}"
EMBEDDED_LIB="$TOOLCHAIN_BIN/../lib/swift/embedded/wasm32-unknown-none-wasm"
OPT="${OPT:--Osize}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Sources are copied under fixed names so that the output does not depend on where they live.
cp "$SDK_DIR"/Embedded/XC*.swift "$SDK_DIR"/Embedded/xc_heap.c "$WORK/"
i=0
for source in "${SOURCES[@]}"; do
    cp "$source" "$WORK/contract$i.swift"
    i=$((i + 1))
done

(
    cd "$WORK"
    "$SWIFTC" \
        -target wasm32-unknown-none-wasm \
        -enable-experimental-feature Embedded \
        -enable-experimental-feature Extern \
        -wmo $OPT -parse-as-library \
        -Xfrontend -disable-stack-protector \
        -module-name Contract \
        XC*.swift contract*.swift \
        -c -o contract.o
    "$TOOLCHAIN_BIN/clang" --target=wasm32-unknown-unknown -O2 -ffreestanding -nostdlib -c xc_heap.c -o xc_heap.o
    # --stack-first puts the shadow stack at the bottom of memory, so overflowing it traps
    # (an out-of-bounds access) instead of silently overwriting static data. The initial memory
    # (512 KiB) leaves room for a typical call's heap, so that most calls never grow memory and
    # the runtime can reuse the instance (it resets memory and globals between calls); the stack
    # pointer is exported for that reset.
    "$WASM_LD" contract.o xc_heap.o "$EMBEDDED_LIB/libswiftUnicodeDataTables.a" \
        -o contract.wasm \
        --no-entry --stack-first -z stack-size=65536 --initial-memory=524288 --gc-sections --strip-all \
        --export=xc_call --export=xc_alloc --export=__stack_pointer
)
cp "$WORK/contract.wasm" "$OUT"

# The chain refuses floating-point instructions; say so now rather than at deployment.
# (llvm-objdump prints the plain `select` opcode as f32.select, so that one is ignored.)
if FLOATS="$("$TOOLCHAIN_BIN/llvm-objdump" -d "$OUT" | grep -oE '\bf(32|64)\.[a-z_0-9]+' | grep -v '^f32\.select$' | sort -u)" \
    && [ -n "$FLOATS" ]; then
    echo "warning: $OUT uses floating-point instructions ($(echo $FLOATS)); the chain will refuse it." >&2
    echo "         Dictionary and Set use Double for their capacity: use arrays instead." >&2
fi
echo "built $OUT ($(wc -c < "$OUT") bytes)"
