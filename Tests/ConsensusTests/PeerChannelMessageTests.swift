import ChainCore
import Consensus
import Testing

/// The bytes validators send each other, written in one place (`PeerChannelMessage.encoded`)
/// and read in one (`decode`).
@Suite struct PeerChannelMessageTests {
    /// The layouts of `docs/consensus.md`, byte by byte: a change to the writer shows here.
    @Test func eachChannelsBytesAreAsDocumented() {
        let hash = Hash256.sha256([9])
        #expect(
            PeerChannelMessage.finality(height: 0x0102, headerHash: hash, signature: [0xAA, 0xBB]).encoded
                == [1] + [0, 0, 0, 0, 0, 0, 1, 2] + hash.bytes + [0, 0, 0, 2, 0xAA, 0xBB])
        #expect(
            PeerChannelMessage.epochSignature(epoch: 3, signature: [0xCC]).encoded
                == [3] + [0, 0, 0, 0, 0, 0, 0, 3] + [0, 0, 0, 1, 0xCC])
        #expect(
            PeerChannelMessage.finalityRequest(from: 5, count: 256).encoded == [4] + [0, 0, 0, 0, 0, 0, 0, 5] + [0, 0, 1, 0])
        let request = ConsensusMessage.blockRequest(id: hash, count: 2)
        #expect(PeerChannelMessage.consensus(request).encoded == [0] + request.encoded)
        #expect(PeerChannelMessage.transactions([]).encoded == [2] + TransactionBatch.encode([]))
    }

    /// What is written reads back as the same message.
    @Test func whatIsWrittenReadsBack() throws {
        let hash = Hash256.sha256([9])
        let cases: [PeerChannelMessage] = [
            .finality(height: UInt64.max, headerHash: hash, signature: [UInt8](repeating: 7, count: 64)),
            .epochSignature(epoch: 1 << 40, signature: [UInt8](repeating: 8, count: 64)),
            .finalityRequest(from: 1, count: UInt32.max),
            .transactions([]), .consensus(.blockRequest(id: hash, count: 2)),
        ]
        for m in cases {
            let back = PeerChannelMessage.decode(m.encoded, hasher: .sha256)
            switch (m, back) {
            case (.finality(let h, let x, let s), .finality(let h2, let x2, let s2)?): #expect(h == h2 && x == x2 && s == s2)
            case (.epochSignature(let e, let s), .epochSignature(let e2, let s2)?): #expect(e == e2 && s == s2)
            case (.finalityRequest(let f, let c), .finalityRequest(let f2, let c2)?): #expect(f == f2 && c == c2)
            case (.transactions(let t), .transactions(let t2)?): #expect(t.count == t2.count)
            case (.consensus(let c), .consensus(let c2)?): #expect(c == c2)
            default: Issue.record("\(m) read back as \(String(describing: back))")
            }
        }
    }
}
