import ChainCore
import Consensus
import Foundation
import FuzzTargets
import Identity
import Testing

/// Replays the committed fuzzing corpora (`fuzz/corpus/<decoder>/`, `docs/fuzzing.md`) through
/// the same decoder entry points as the libFuzzer harness, in the normal build: every input
/// the fuzzer kept, and every crash it found, runs on each test run without the sanitizer.
@Suite struct FuzzCorpusTests {
    static var corpusRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fuzz/corpus")
    }

    static func corpus(_ target: FuzzTarget) throws -> [(name: String, bytes: [UInt8])] {
        let dir = corpusRoot.appendingPathComponent(target.rawValue)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.sorted()
        return try names.map { ($0, Array(try Data(contentsOf: dir.appendingPathComponent($0)))) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everyCorpusInputIsDecodedOrRefusedWithoutACrash(target: FuzzTarget) throws {
        let inputs = try Self.corpus(target)
        #expect(inputs.count >= 5, "the corpus of \(target.rawValue) is missing or nearly empty")
        var accepted = 0
        for input in inputs where target.run(input.bytes) { accepted += 1 }
        // A corpus grown from valid seeds keeps inputs the decoder accepts, not only refusals.
        #expect(accepted > 0, "no input of the \(target.rawValue) corpus is accepted")
    }

    @Test(arguments: FuzzTarget.allCases.filter { $0 != .epcisJSON && $0 != .epcisXML })
    func everySeedMadeByTheRealEncodersIsAccepted(target: FuzzTarget) throws {
        let seeds = try FuzzSeeds.seeds(for: target)
        #expect(!seeds.isEmpty)
        for (i, seed) in seeds.enumerated() { #expect(target.run(seed), "seed \(i) of \(target.rawValue)") }
    }

    @Test(arguments: FuzzTarget.allCases)
    func truncationsAndBitFlipsOfTheCorpusAreRefusedOrDecoded(target: FuzzTarget) throws {
        // A cheap deterministic mutation pass over the corpus on every run: each prefix length
        // of the first inputs and single-bit flips at spread positions.
        for input in try Self.corpus(target).prefix(8) {
            let bytes = input.bytes
            for n in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 64)) { target.run(Array(bytes.prefix(n))) }
            for i in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 32)) {
                var flipped = bytes
                flipped[i] ^= 0x80
                target.run(flipped)
            }
        }
    }
}
