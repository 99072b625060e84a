import ChainCore
import ChainTesting
import Consensus
import Foundation
import Storage
import Synchronization
import Testing

@testable import Node

/// What one validator can send the others must neither crash them nor grow their memory.
@Suite struct HostileValidatorTests {
    /// The 50-byte finality frame of the report: channel 1, height 2^63, a header hash, a signature.
    static func finalityFrame(height: UInt64, signature: [UInt8] = [UInt8](repeating: 7, count: 1)) -> [UInt8] {
        PeerChannelMessage.finality(height: height, headerHash: Hash256.sha256([1, 2, 3]), signature: signature).encoded
    }

    @Test(arguments: [UInt64(1) << 63, UInt64.max, UInt64(Int64.max) + 1])
    func aFinalityMessageForAHeightBeyondInt64IsIgnored(height: UInt64) async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try Cluster(in: dir)
            let victim = cluster.services[0]
            let frame = Self.finalityFrame(height: height)
            guard
                case .finality(let from, let h, let hash, let sig)? = ConsensusService<InMemoryTransport>.parse(
                    from: "node1", frame, hasher: .sha256)
            else {
                Issue.record("the frame does not parse as a finality message")
                return
            }
            try victim.addFinality(from: from, height: h, headerHash: hash, signature: sig)
            #expect(victim.finalityBuffer.withLock { $0.isEmpty })
            #expect(try cluster.nodes[0].store.block(at: h) == nil)
        }
    }

    @Test func finalitySignaturesForFutureHeightsAreKeptOncePerValidatorWithinAWindow() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try Cluster(in: dir)
            let victim = cluster.services[0]
            for height in UInt64(1)...20_000 {
                for k in 0..<3 {
                    try victim.addFinality(
                        from: "node1", height: height, headerHash: Hash256.sha256([UInt8(k)]), signature: [UInt8(k)])
                }
            }
            let (heights, entries) = victim.finalityBuffer.withLock { ($0.count, $0.values.reduce(0) { $0 + $1.count }) }
            #expect(heights <= Int(ConsensusService<InMemoryTransport>.finalityWindow))
            #expect(entries == heights)
        }
    }
}
