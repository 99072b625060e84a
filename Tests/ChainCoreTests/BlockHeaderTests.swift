import ChainCore
import Testing

@Suite struct BlockHeaderTests {
    let header = BlockHeader(
        chainId: "c", height: 7, parentHash: Hash256.sha256([1]), timestamp: 1_700_000_000_000, proposer: "node0",
        txCount: 3, txRoot: Hash256.sha256([2]), execHeight: 6, resultRoot: Hash256.sha256([3]), stateHash: Hash256.sha256([4]),
        hasher: .sha256)

    @Test func roundTripsAndHashesTheEncoding() throws {
        let decoded = try BlockHeader(decoding: header.encoded, hasher: .sha256)
        #expect(decoded == header)
        #expect(header.hash == Hash256.sha256(header.encoded))
        #expect(header.signingMessage == Array("XIANGCHAIN-BLOCK-V1".utf8) + header.hash.bytes)
    }

    @Test func layoutIsAsDocumented() {
        // u16 version, u32-prefixed chain id, u64 height, parent, i64 time, proposer, u32 count, root, u64, 2 hashes.
        #expect(header.encoded.count == 2 + (4 + 1) + 8 + 32 + 8 + (4 + 5) + 4 + 32 + 8 + 32 + 32)
        #expect(Array(header.encoded.prefix(7)) == [0, 1, 0, 0, 0, 1, UInt8(ascii: "c")])
    }

    @Test func truncatedTrailingOrForeignVersionIsRefused() {
        let bytes = header.encoded
        for cut in [0, 1, 10, bytes.count - 1] {
            #expect(throws: ChainError.self) { try BlockHeader(decoding: Array(bytes.prefix(cut)), hasher: .sha256) }
        }
        #expect(throws: ChainError.self) { try BlockHeader(decoding: bytes + [0], hasher: .sha256) }
        var v2 = bytes
        v2[1] = 2
        #expect(throws: ChainError.self) { try BlockHeader(decoding: v2, hasher: .sha256) }
        var huge = bytes
        huge[2] = 0xff  // chain id length far beyond the input
        #expect(throws: ChainError.self) { try BlockHeader(decoding: huge, hasher: .sha256) }
    }

    @Test func resultEncodingDistinguishesFailures() {
        let id = Hash256.sha256([9])
        let ok = TransactionResult(txid: id, error: nil, events: [])
        let failed = TransactionResult(txid: id, error: ChainError(.alreadyExists, "x"), events: [])
        #expect(ok.encoded != failed.encoded)
        #expect(TransactionResult.root([ok], hasher: .sha256) != TransactionResult.root([failed], hasher: .sha256))
    }

    @Test func stateHashDependsOnWritesNotTheirOrder() {
        let a = StateWrite(key: "k/a", value: [1])
        let b = StateWrite(key: "k/b", value: nil)
        let start = StateHash.genesis(Hash256.sha256([0]), hasher: .sha256)
        #expect(
            StateHash.next(previous: start, height: 1, writes: [a, b], hasher: .sha256)
                == StateHash.next(previous: start, height: 1, writes: [b, a], hasher: .sha256))
        #expect(
            StateHash.next(previous: start, height: 1, writes: [a], hasher: .sha256)
                != StateHash.next(previous: start, height: 2, writes: [a], hasher: .sha256))
        #expect(
            StateHash.next(previous: start, height: 1, writes: [a], hasher: .sha256)
                != StateHash.next(previous: start, height: 1, writes: [StateWrite(key: "k/a", value: [2])], hasher: .sha256))
    }

    /// `docs/proofs.md`, the state hash chain, computed here from its text: the node feeds the
    /// write set to the hash in pieces (a block of a season's rings writes ~100 MB), which must
    /// give the digest of the whole `W_h` on both chains' hashes — including values longer than a
    /// piece, and a block with no writes.
    @Test(arguments: ChainHasher.allCases)
    func stateHashIsTheDocumentedDigestOfTheWholeWriteSet(hasher: ChainHasher) {
        func u32(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(v).bigEndian) { Array($0) } }
        func reference(_ previous: Hash256, _ height: UInt64, _ writes: [StateWrite]) -> Hash256 {
            var w = u32(writes.count)
            for s in writes.sorted(by: { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }) {
                w += u32(s.key.utf8.count) + Array(s.key.utf8)
                if let v = s.value { w += [1] + u32(v.count) + v } else { w += [0] }
            }
            let h = withUnsafeBytes(of: height.bigEndian) { Array($0) }
            return hasher.hash(Array("XIANGCHAIN-STATE-V1".utf8) + previous.bytes + h + hasher.hash(w).bytes)
        }
        var rng = SystemRandomNumberGenerator()
        let start = StateHash.genesis(Hash256.sha256([1]), hasher: hasher)
        for size in [0, 1, 3, 200, 5_000] {
            var writes: [StateWrite] = []
            for i in 0..<size {
                let length = i % 97 == 5 ? 70_000 + Int.random(in: 0..<1_000, using: &rng) : Int.random(in: 0..<300, using: &rng)
                let value = i % 11 == 3 ? nil : (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                writes.append(StateWrite(key: "crab/ring/\(UInt64.random(in: 0...UInt64.max, using: &rng))·\(i)", value: value))
            }
            #expect(
                StateHash.next(previous: start, height: UInt64(size) + 7, writes: writes, hasher: hasher)
                    == reference(start, UInt64(size) + 7, writes), "\(size) writes")
        }
        // One value longer than any piece, alone.
        let big = [StateWrite(key: "k/big", value: [UInt8](repeating: 0xab, count: 300_000))]
        #expect(StateHash.next(previous: start, height: 1, writes: big, hasher: hasher) == reference(start, 1, big))
    }
}
