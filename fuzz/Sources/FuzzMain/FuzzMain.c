// The entry point of xiangchain-fuzz. SwiftPM links an executable with `main` defined as
// `<module>_main`, and a library-mode Swift module (libFuzzer's callbacks, no top-level code)
// has none: this one hands the command line to libFuzzer's driver, which calls the Swift
// LLVMFuzzerInitialize and LLVMFuzzerTestOneInput (Sources/XiangChainFuzz/Harness.swift).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int xiangchain_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
