import Foundation
import FuzzTargets

// One libFuzzer binary for every decoder; `XC_FUZZ_TARGET` names the decoder (a `FuzzTarget`
// raw value), since libFuzzer owns the command line. With `XC_FUZZ_SEEDS_TO` set, the binary
// writes that decoder's seeds (`FuzzSeeds`) into the directory and exits instead.

/// The decoder under test, chosen once in `LLVMFuzzerInitialize`.
nonisolated(unsafe) var selected: FuzzTarget = .json

@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
)
    -> CInt
{
    let environment = ProcessInfo.processInfo.environment
    guard let name = environment["XC_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("set XC_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    selected = target
    if let directory = environment["XC_FUZZ_SEEDS_TO"] {
        do {
            let seeds = try FuzzSeeds.seeds(for: target)
            for (i, seed) in seeds.enumerated() {
                precondition(target.run(seed), "seed \(i) of \(name) is refused by its own decoder")
                let url = URL(fileURLWithPath: directory).appendingPathComponent("seed-\(i)")
                try Data(seed).write(to: url)
            }
            print("\(seeds.count) seeds of \(name) written to \(directory)")
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("seeds of \(name): \(error)\n".utf8))
            exit(1)
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected.run(bytes)
    return 0
}
