import CoreMetrics
import Foundation
import Logging
import Testing

@testable import Node

/// What a burst of large blocks leaves freed in glibc's heap goes back to the system. Measured in
/// this test process's own memory (`/proc/self/statm`), so the suite runs in the serial phase,
/// where no other test allocates meanwhile (`scripts/test` names it in its `timed` pattern).
@Suite(.serialized) struct HeapReturnProcessTests {
    /// Many small chunks, as a block's parsed records and encodings are, every 32nd kept so that
    /// the freed ones lie between live ones (where glibc's own trimming of the heap's top never
    /// reaches); the rest freed. Returns the kept ones (free them with `release`).
    static func fragment(megabytes: Int) -> [UnsafeMutableRawPointer] {
        let chunk = 2_000
        var all: [UnsafeMutableRawPointer] = []
        all.reserveCapacity(megabytes << 20 / chunk)
        for _ in 0..<(megabytes << 20 / chunk) {
            let p = malloc(chunk)!
            memset(p, 0x5a, chunk)
            all.append(p)
        }
        var kept: [UnsafeMutableRawPointer] = []
        for (i, p) in all.enumerated() {
            if i % 32 == 0 { kept.append(p) } else { free(p) }
        }
        return kept
    }

    static func release(_ kept: [UnsafeMutableRawPointer]) { for p in kept { free(p) } }

    @Test func glibcKeepsFreedChunksUntilTrimmedAndTheTrimGivesThemBack() throws {
        let trim = try #require(HeapTrim.function, "glibc has malloc_trim")
        // Free memory kept from earlier tests is not reused by this one's chunks.
        _ = trim(0)
        let before = try #require(HeapTrim.residentAnonymousBytes())
        let kept = Self.fragment(megabytes: 96)
        defer { Self.release(kept) }
        let freed = try #require(HeapTrim.residentAnonymousBytes())
        // What was seen on validators: the memory stays resident after it is freed...
        #expect(freed - before > 64 << 20, "resident grew by \((freed - before) >> 20) MiB")
        _ = trim(0)
        let trimmed = try #require(HeapTrim.residentAnonymousBytes())
        // ...and a trim gives most of it back (the kept 1/32 and their pages stay).
        #expect(freed - trimmed > 48 << 20, "a trim returned \((freed - trimmed) >> 20) MiB")
    }

    @Test func theServiceTrimsAfterTheMemoryGrew() async throws {
        let trim = try #require(HeapTrim.function, "glibc has malloc_trim")
        // Free memory kept from earlier tests is not reused by this one's chunks.
        _ = trim(0)
        let returner = HeapReturner(
            interval: .milliseconds(50), growth: 32 << 20, metrics: NOOPMetricsHandler.instance,
            logger: Logger(label: "test"))
        let service = Task { try await returner.run() }
        defer { service.cancel() }
        // The first reading, before the burst, is the baseline.
        try await Task.sleep(for: .milliseconds(200))
        let kept = Self.fragment(megabytes: 96)
        defer { Self.release(kept) }
        let grown = try #require(HeapTrim.residentAnonymousBytes())
        var now = grown
        for _ in 0..<100 where grown - now < 48 << 20 {
            try await Task.sleep(for: .milliseconds(50))
            now = try #require(HeapTrim.residentAnonymousBytes())
        }
        #expect(grown - now > 48 << 20, "the service returned \((grown - now) >> 20) MiB")
    }
}

/// When to trim, as pure logic.
@Suite struct HeapTrimPolicyTests {
    /// The policy's answers to `readings`, in order.
    static func answers(_ p: inout HeapTrimPolicy, _ readings: [Int]) -> [Bool] {
        readings.map { p.shouldTrim(resident: $0) }
    }

    @Test func trimsOnlyAfterGrowingByTheThresholdSinceTheLastTrim() {
        var p = HeapTrimPolicy(growth: 100)
        // The first reading is the baseline.
        #expect(Self.answers(&p, [1_000, 1_099, 1_100]) == [false, false, true])
        p.trimmed(resident: 1_020)
        #expect(Self.answers(&p, [1_119, 1_120]) == [false, true])
    }

    /// A trim in the middle of a burst would give back little and set the baseline at its height.
    @Test func waitsUntilTheMemoryStopsGrowing() {
        var p = HeapTrimPolicy(growth: 100)
        #expect(Self.answers(&p, [1_000, 1_200, 1_400, 1_600]) == [false, false, false, false])
        // Less than an eighth of the threshold more: the burst is over.
        #expect(Self.answers(&p, [1_611]) == [true])
    }

    @Test func memoryGivenBackOtherwiseLowersTheBaseline() {
        var p = HeapTrimPolicy(growth: 100)
        #expect(Self.answers(&p, [1_000, 700]) == [false, false])
        #expect(p.baseline == 700)
        #expect(Self.answers(&p, [800, 805]) == [false, true])
    }

    /// `heapReturnMiB` in `config.json`: 64 when absent, 0 turns it off, nonsense is clamped.
    @Test func theSettingDefaultsTo64MiBAndIsClamped() throws {
        func decoded(_ json: String) throws -> Int {
            try JSONDecoder().decode(NodeConfig.self, from: Data(json.utf8)).heapReturnMiB
        }
        #expect(try decoded(#"{"nodeId":"n"}"#) == 64)
        #expect(try decoded(#"{"nodeId":"n","heapReturnMiB":0}"#) == 0)
        #expect(try decoded(#"{"nodeId":"n","heapReturnMiB":-5}"#) == 0)
        #expect(try decoded(#"{"nodeId":"n","heapReturnMiB":256}"#) == 256)
    }
}
