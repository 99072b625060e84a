import ChainCore
import ChainTesting
import Foundation
import GRDB
import Storage
import Testing

/// Builds a chain of blocks with plain records (no execution) for storage tests.
extension BlockCommit {
    /// The same commit with other state writes.
    func writing(_ writes: [StateWrite]) -> BlockCommit {
        BlockCommit(
            block: block, transactions: transactions, writes: writes, resultRoot: resultRoot, stateHash: stateHash,
            consensusBlock: consensusBlock, timestamps: timestamps, finality: finality)
    }

    /// The same commit, carrying finality signatures of earlier blocks.
    func carrying(_ finality: [(height: UInt64, signature: ValidatorSignature)]) -> BlockCommit {
        BlockCommit(
            block: block, transactions: transactions, writes: writes, resultRoot: resultRoot, stateHash: stateHash,
            consensusBlock: consensusBlock, timestamps: timestamps, finality: finality)
    }
}

struct ChainBuilder {
    var tip: ChainTip?

    /// The next block, of `txCount` new transactions (and `duplicateOf`). Their bodies are opaque
    /// bytes, or, with `timestamp`, transaction bodies signed at that time (plus their index).
    /// Transaction `i` is signed with `certificates[i]` when given, else with one of three in turn.
    mutating func next(
        txCount: Int, duplicateOf: SignedTransaction? = nil, timestamp: Int64? = nil, certificates: [[UInt8]]? = nil
    ) -> BlockCommit {
        let height = (tip?.height ?? 0) + 1
        var txs = (0..<txCount).map { i in
            let body =
                timestamp.map {
                    #"{"args":{},"chain":"c","contract":"evidence","method":"put","nonce":"\#(UUID())","timestamp":\#($0 + Int64(i))}"#
                } ?? "tx-\(height)-\(i)-\(UUID())"
            return SignedTransaction(
                body: Array(body.utf8), signature: [1, 2], signerCertificate: certificates?[i] ?? [0x30, UInt8(i % 3)],
                hasher: .sha256)
        }
        if let dup = duplicateOf { txs.append(dup) }
        let header = BlockHeader(
            chainId: "c", height: height, parentHash: tip?.hash ?? .zero, timestamp: Int64(height) * 1000, proposer: "node0",
            txCount: UInt32(txs.count), txRoot: Block.txRoot(txs, hasher: .sha256), execHeight: height - 1,
            resultRoot: tip?.resultRoot ?? .zero, stateHash: tip?.stateHash ?? .zero, hasher: .sha256)
        let records = txs.enumerated().map { i, t in
            StoredTransaction(
                transaction: t, height: height, index: i, contract: "evidence", method: "put", signerOrg: "org0",
                signerRole: "farm", signerSubject: "f",
                result: TransactionResult(
                    txid: t.id, error: i % 2 == 0 ? nil : ChainError(.alreadyExists, "dup"),
                    events: [ContractEvent(contract: "evidence", name: "evidence_put", data: .object(["i": .int(i)]))]))
        }
        let writes = [
            StateWrite(key: "evidence/h\(height)", value: Array("v\(height)".utf8)),
            StateWrite(key: "evidence/h\(height - 1)", value: nil),
        ]
        let result = TransactionResult.root(records.map(\.result), hasher: .sha256)
        let state = StateHash.next(previous: tip?.stateHash ?? .zero, height: height, writes: writes, hasher: .sha256)
        tip = ChainTip(height: height, hash: header.hash, timestamp: header.timestamp, resultRoot: result, stateHash: state)
        return BlockCommit(
            block: Block(header: header, transactions: txs, signatures: [ValidatorSignature(validator: "node0", signature: [9])]),
            transactions: records, writes: writes, resultRoot: result, stateHash: state)
    }
}

extension ChainBuilder {
    /// Writes one block per entry of `blocks` (its transaction count, and their timestamp or
    /// opaque bodies when nil) into a new store at `path` (genesis bound, chain "c"), closed
    /// again; returns the commits.
    mutating func write(_ path: String, blocks: [(txCount: Int, timestamp: Int64?)]) throws -> [BlockCommit] {
        let store = try BlockStore(path: path, hasher: .sha256)
        defer { try? store.close() }
        try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
        return try blocks.map { b in
            let c = next(txCount: b.txCount, timestamp: b.timestamp)
            try store.commit(c)
            return c
        }
    }
}

@Suite struct BlockStoreTests {
    @Test func committedBlocksSurviveReopening() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("chain.sqlite").path
            var builder = ChainBuilder()
            var commits: [BlockCommit] = []
            do {
                let store = try BlockStore(path: path, hasher: .sha256)
                try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
                for n in [3, 0, 5] {
                    let c = builder.next(txCount: n)
                    try store.commit(c)
                    commits.append(c)
                }
            }
            let store = try BlockStore(path: path, hasher: .sha256)
            try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
            #expect(try store.tip() == builder.tip)
            #expect(try store.transactionCount() == 8)
            let b3 = try #require(try store.fullBlock(at: 3))
            #expect(b3.header == commits[2].block.header)
            #expect(b3.transactions == commits[2].block.transactions)
            #expect(b3.signatures == commits[2].block.signatures)
            let t = try #require(try store.transaction(commits[2].transactions[1].transaction.id))
            #expect(t == commits[2].transactions[1])
            #expect(try store.read("evidence/h3") == Array("v3".utf8))
            #expect(try store.read("evidence/h2") == nil)  // deleted by block 3
            #expect(try store.blocks(from: 2, limit: 10).map(\.header.height) == [2, 3])
        }
    }

    @Test func prefixScansFollowKeyBytesAndAgreeWithTheInMemoryState() async throws {
        try await withTemporaryDirectory { dir in
            let store = try BlockStore(path: dir.appendingPathComponent("chain.sqlite").path, hasher: .sha256)
            try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
            var builder = ChainBuilder()
            let first = builder.next(txCount: 2)
            try store.commit(first)
            // Keys that differ in byte order from Swift's String order, a "%" and "_" that a LIKE
            // pattern would misread, multi-byte characters, and a neighbour outside the prefix.
            let keys = ["crab/a_1", "crab/a%2", "crab/a/3", "crab/aé", "crab/a\u{1F980}", "crab/b", "crab/a", "crabs/a1"]
            let writes = keys.enumerated().map { StateWrite(key: $1, value: [UInt8($0)]) }
            var commit = builder.next(txCount: 0)
            commit = BlockCommit(
                block: commit.block, transactions: [], writes: writes, resultRoot: commit.resultRoot,
                stateHash: commit.stateHash)
            try store.commit(commit)
            var memory = MemoryState()
            memory.apply(writes)
            for prefix in ["crab/a", "crab/", "crab", "crab/a_", "crab/a%", "x"] {
                let stored = try store.scan(prefix: prefix, limit: 100)
                #expect(stored == (try memory.scan(prefix: prefix, after: nil, limit: 100)), "prefix \(prefix)")
                // Paging with `after` gives the same sequence.
                var paged: [StateEntry] = []
                var after: String?
                while true {
                    let page = try store.scan(prefix: prefix, after: after, limit: 2)
                    paged += page
                    guard page.count == 2 else { break }
                    after = page.last?.key
                }
                #expect(paged == stored)
            }
            #expect(try store.scan(prefix: "crab/a", limit: 100).map(\.key).contains("crab/a"))
            #expect(!(try store.scan(prefix: "crab/", limit: 100).map(\.key).contains("crabs/a1")))
            let events = try store.events(contract: "evidence", name: "evidence_put", limit: 10)
            #expect(events.map(\.height) == [1, 1])
            #expect(events.map(\.index) == [0, 1])
            #expect(try store.events(contract: "evidence", name: "evidence_put", fromHeight: 2, limit: 10).isEmpty)
        }
    }

    @Test func aDifferentGenesisIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let store = try BlockStore(path: dir.appendingPathComponent("c.sqlite").path, hasher: .sha256)
            try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
            #expect(throws: ChainError.self) { try store.bindGenesis(hash: Hash256.sha256([2]), chainId: "c") }
        }
    }

    @Test func aBlockThatDoesNotExtendTheTipIsRefusedWhole() async throws {
        try await withTemporaryDirectory { dir in
            let store = try BlockStore(path: dir.appendingPathComponent("c.sqlite").path, hasher: .sha256)
            var builder = ChainBuilder()
            try store.commit(builder.next(txCount: 2))
            var fork = ChainBuilder()
            let wrongParent = fork.next(txCount: 1)
            #expect(throws: ChainError.self) { try store.commit(wrongParent) }
            #expect(try store.tip()?.height == 1)
        }
    }

    @Test func aFailureMidBlockLeavesNoPartOfIt() async throws {
        try await withTemporaryDirectory { dir in
            let store = try BlockStore(path: dir.appendingPathComponent("c.sqlite").path, hasher: .sha256)
            var builder = ChainBuilder()
            let first = builder.next(txCount: 2)
            try store.commit(first)
            let before = builder
            // Block 2 repeats a committed transaction after new ones: the insert fails midway.
            let bad = builder.next(txCount: 3, duplicateOf: first.block.transactions[0])
            #expect(throws: (any Error).self) { try store.commit(bad) }
            #expect(try store.tip() == before.tip)
            #expect(try store.transactionCount() == 2)
            #expect(try store.read("evidence/h2") == nil)
            #expect(try store.committedIDs(among: bad.block.transactions.map(\.id)) == [first.block.transactions[0].id])
            // And the chain continues from where it was.
            builder = before
            try store.commit(builder.next(txCount: 1))
            #expect(try store.tip()?.height == 2)
        }
    }

    /// Finality signatures that arrive together are written in one transaction (once per validator
    /// and block, unknown heights skipped), and a commit carries the ones queued since the last
    /// commit in its own transaction: written with the block, or not at all when it fails.
    @Test func finalitySignaturesAreWrittenTogetherAndWithACommit() async throws {
        try await withTemporaryDirectory { dir in
            let store = try BlockStore(path: dir.appendingPathComponent("f.sqlite").path, hasher: .sha256)
            var builder = ChainBuilder()
            for _ in 1...2 { try store.commit(builder.next(txCount: 1)) }
            let sig = { (v: String, b: UInt8) in ValidatorSignature(validator: v, signature: [b]) }
            let own = { (h: UInt64) in try store.block(at: h)?.signatures.map(\.validator) ?? [] }
            let before1 = try own(1)
            try store.addSignatures([
                (1, sig("node2", 2)), (2, sig("node1", 1)), (1, sig("node1", 1)), (1, sig("node1", 9)), (7, sig("node3", 3)),
            ])
            #expect(try own(1) == (before1 + ["node1", "node2"]).sorted())
            #expect(try store.block(at: 1)?.signatures.first { $0.validator == "node1" }?.signature == [1])
            #expect(try own(2).contains("node1"))
            #expect(try store.block(at: 7) == nil)

            let third = builder.next(txCount: 1)
            try store.commit(third.carrying([(2, sig("node3", 3)), (1, sig("node3", 3))]))
            #expect(try own(2).contains("node3") && own(1).contains("node3"))

            // Block 3 again no longer extends the tip: its commit fails, and so do the signatures
            // it carried.
            #expect(throws: ChainError.self) {
                try store.commit(third.carrying([(2, sig("node9", 9))]))
            }
            #expect(try !own(2).contains("node9"))
            try store.commit(builder.next(txCount: 1))
            #expect(try store.tip()?.height == 4)
        }
    }

    /// A key is bound as GRDB binds a `String` on every path (as a C string), so a write and a
    /// delete of the same key reach the same row; and a key holding a NUL, which execution never
    /// writes, is never found — not as the key cut short, which is what SQLite would look up.
    @Test func aKeyIsTheSameKeyOnEveryPath() async throws {
        try await withTemporaryDirectory { dir in
            let store = try BlockStore(path: dir.appendingPathComponent("k.sqlite").path, hasher: .sha256)
            var builder = ChainBuilder()
            try store.commit(builder.next(txCount: 1).writing([StateWrite(key: "n/a", value: [1])]))
            let holdsNUL = "n/a\u{0}x"
            #expect(try store.read("n/a") == [1])
            #expect(try store.read(holdsNUL) == nil)
            #expect(try store.withStateReadTransaction { try $0.read(holdsNUL) } == nil)
            #expect(try store.scan(prefix: "n/a\u{0}", limit: 10).isEmpty)
            #expect(try store.scan(prefix: "n/", after: holdsNUL, limit: 10).isEmpty)
            #expect(try store.scan(prefix: "n/", limit: 10).map(\.key) == ["n/a"])
            // Written and deleted (by a store below the executor's rule) on the same row.
            try store.commit(builder.next(txCount: 1).writing([StateWrite(key: "n/b\u{0}x", value: [2])]))
            #expect(try store.read("n/b") == [2])
            try store.commit(builder.next(txCount: 1).writing([StateWrite(key: "n/b\u{0}x", value: nil)]))
            #expect(try store.read("n/b") == nil)
            // An empty value is a value, not an absent one.
            try store.commit(builder.next(txCount: 1).writing([StateWrite(key: "n/empty", value: [])]))
            #expect(try store.read("n/empty") == [])
        }
    }

    /// A follower's vote waits for the proposal's block and its new safety data: one transaction.
    @Test func blocksAndSafetyDataAreSavedInOneCall() async throws {
        try await withTemporaryDirectory { dir in
            let store = try BlockStore(path: dir.appendingPathComponent("s.sqlite").path, hasher: .sha256)
            let a = Hash256.sha256([1])
            let b = Hash256.sha256([2])
            try store.consensus.save(blocks: [(a, 5, [1, 2]), (b, 6, [3])], safety: [7, 7])
            #expect(try store.consensus.safety() == [7, 7])
            #expect(try store.consensus.pendingBlocks() == [[1, 2], [3]])
            // Saved again: a block kept as it was, the safety data replaced.
            try store.consensus.save(blocks: [(a, 5, [9])], safety: [8])
            #expect(try store.consensus.safety() == [8])
            #expect(try store.consensus.block(id: a) == [1, 2])
            // Blocks alone, and nothing at all.
            try store.consensus.save(blocks: [(Hash256.sha256([3]), 7, [4])], safety: nil)
            try store.consensus.save(blocks: [], safety: nil)
            #expect(try store.consensus.safety() == [8])
            #expect(try store.consensus.pendingBlocks() == [[1, 2], [3], [4]])
            #expect(throws: ChainError.self) { try store.consensus.save(blocks: [(a, UInt64.max, [1])], safety: [1]) }
            #expect(try store.consensus.safety() == [8])
        }
    }

    /// Heights come from requests and peers as UInt64; above Int64.max there is no block, and the
    /// store answers so instead of trapping on the conversion to an SQLite integer.
    @Test func heightsBeyondInt64NameNoBlockAndWritesAreRefused() async throws {
        try await withTemporaryDirectory { dir in
            let store = try BlockStore(path: dir.appendingPathComponent("chain.sqlite").path, hasher: .sha256)
            try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
            var builder = ChainBuilder()
            try store.commit(builder.next(txCount: 2))
            let before = try store.fullBlock(at: 1)?.signatures
            for h in [UInt64(1) << 63, UInt64.max] {
                #expect(try store.block(at: h) == nil)
                #expect(try store.fullBlock(at: h) == nil)
                #expect(try store.blocks(from: h, limit: 5).isEmpty)
                #expect(try store.events(contract: "evidence", name: "evidence_put", fromHeight: h, limit: 5).isEmpty)
                try store.addSignatures([(h, ValidatorSignature(validator: "node1", signature: [1]))])
                #expect(try store.fullBlock(at: 1)?.signatures == before)
                #expect(throws: ChainError.self) { try store.consensus.storeBlock(id: .zero, height: h, bytes: [1]) }
                #expect(throws: ChainError.self) { try store.consensus.recordCommitted(id: .zero, height: h, bytes: [1]) }
            }
        }
    }

    /// An idle chain commits an empty consensus block per second; committed ones are kept only for
    /// a window (peers fetch recent ones), so the store does not grow while nothing happens.
    @Test func committedConsensusBlocksArePrunedBehindAWindow() async throws {
        try await withTemporaryDirectory { dir in
            let store = try BlockStore(
                path: dir.appendingPathComponent("chain.sqlite").path, hasher: .sha256, synchronousFull: false,
                retainedConsensusBlocks: 50)
            for h in UInt64(1)...300 {
                let id = Hash256.sha256(Array("block \(h)".utf8))
                try store.consensus.storeBlock(id: id, height: h, bytes: [UInt8(h % 256)])
                try store.consensus.recordCommitted(id: id, height: h, bytes: [UInt8(h % 256)])
            }
            #expect(try store.consensus.block(id: Hash256.sha256(Array("block 300".utf8))) != nil)
            #expect(try store.consensus.block(id: Hash256.sha256(Array("block 251".utf8))) != nil)
            #expect(try store.consensus.block(id: Hash256.sha256(Array("block 249".utf8))) == nil)
            #expect(try store.consensus.block(id: Hash256.sha256(Array("block 1".utf8))) == nil)
            #expect(try store.consensus.committedBlock() == [UInt8(300 % 256)])
        }
    }

    /// Each transaction is stored with a reference to its own certificate, whether its record
    /// carries the fingerprint (as the executor's do) or leaves it to be hashed; a certificate
    /// shared by several transactions, in a row or not, in one block or two, is stored once.
    @Test func eachTransactionRefersToItsOwnCertificate() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("chain.sqlite").path
            let store = try BlockStore(path: path, hasher: .sha256, synchronousFull: false)
            try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
            let (a, b, c) = ([UInt8](repeating: 0xA1, count: 600), [UInt8](repeating: 0xB2, count: 600), [UInt8]([0x30, 7]))
            var builder = ChainBuilder()
            let certificates = [[a, a, b, a, b], [b, c, a, c]]
            var commits: [BlockCommit] = []
            for certs in certificates {
                let plain = builder.next(txCount: certs.count, certificates: certs)
                // Every other record carries its fingerprint, as the executor's records do.
                let records = plain.transactions.map { t in
                    StoredTransaction(
                        transaction: t.transaction, height: t.height, index: t.index, contract: t.contract,
                        method: t.method, signerOrg: t.signerOrg, signerRole: t.signerRole, signerSubject: t.signerSubject,
                        certificateFingerprint: t.index % 2 == 0 ? Hash256.sha256(t.transaction.signerCertificate) : nil,
                        result: t.result)
                }
                let commit = BlockCommit(
                    block: plain.block, transactions: records, writes: plain.writes, resultRoot: plain.resultRoot,
                    stateHash: plain.stateHash)
                try store.commit(commit)
                commits.append(commit)
            }
            for (commit, certs) in zip(commits, certificates) {
                for (t, cert) in zip(commit.transactions, certs) {
                    #expect(t.certificateFingerprint == Hash256.sha256(cert))
                    let stored = try #require(try store.transaction(t.transaction.id))
                    #expect(stored == t)
                    #expect(stored.transaction.signerCertificate == cert)
                }
                let block = try #require(try store.fullBlock(at: commit.block.header.height))
                #expect(block.transactions.map(\.signerCertificate) == certs)
            }
            let (references, stored) = try DatabaseQueue(path: path).read { db in
                (
                    try Data.fetchAll(db, sql: "SELECT cert FROM txs ORDER BY height, idx").map { Array($0) },
                    try Row.fetchAll(db, sql: "SELECT fingerprint, der FROM certs").map {
                        (Array($0["fingerprint"] as Data), Array($0["der"] as Data))
                    }
                )
            }
            #expect(references == certificates.joined().map { Hash256.sha256($0).bytes })
            #expect(stored.count == 3)
            for (fingerprint, der) in stored { #expect(fingerprint == Hash256.sha256(der).bytes) }
        }
    }

    /// The last committed consensus block is recorded by its id, not written a second time (a
    /// full block is its transactions: under load that doubled what every commit wrote); a
    /// database of an earlier version, which holds the whole block there, still reads.
    @Test func theLastCommittedConsensusBlockIsRecordedByIdAndOldRecordsStillRead() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("chain.sqlite").path
            let store = try BlockStore(path: path, hasher: .sha256, synchronousFull: false)
            let big = [UInt8](repeating: 9, count: 100_000)
            let id = Hash256.sha256(big)
            try store.consensus.storeBlock(id: id, height: 1, bytes: big)
            try store.consensus.recordCommitted(id: id, height: 1, bytes: big)
            #expect(try store.consensus.committedBlock() == big)
            let stored = try DatabaseQueue(path: path).read { db in
                try Data.fetchOne(db, sql: "SELECT value FROM consensus_state WHERE key = 'committed'")
            }
            #expect(stored == Data(id.bytes))
            // Committed without being stored first (it reached this node already certified).
            let other = [UInt8](repeating: 7, count: 1_000)
            try store.consensus.recordCommitted(id: Hash256.sha256(other), height: 2, bytes: other)
            #expect(try store.consensus.committedBlock() == other)
            // An earlier version's record: the block itself.
            try DatabaseQueue(path: path).write { db in
                try db.execute(
                    sql: "UPDATE consensus_state SET value = ? WHERE key = 'committed'", arguments: [Data([1, 2, 3])])
            }
            #expect(try store.consensus.committedBlock() == [1, 2, 3])
        }
    }
}

@Suite struct BodyPruningTests {
    @Test func prunedBodiesAreGoneWhileHeadersResultsProofsAndStateStay() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("chain.sqlite").path
            var builder = ChainBuilder()
            var commits: [BlockCommit] = []
            do {
                let store = try BlockStore(path: path, hasher: .sha256)
                try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
                for n in [3, 2, 0, 4, 1, 2] {
                    let c = builder.next(txCount: n)
                    try store.commit(c)
                    commits.append(c)
                }
                #expect(try store.bodiesPrunedBelow() == 1)
                let before = try store.bodyBytes(below: 4)
                #expect(before > 0)
                // At most two heights per SQLite transaction: below 4 takes two calls.
                #expect(try store.pruneBodies(below: 4, maxBlocks: 2) == 3)
                #expect(try store.pruneBodies(below: 4, maxBlocks: 2) == 4)
                #expect(try store.pruneBodies(below: 4, maxBlocks: 2) == 4)
                #expect(try store.bodyBytes(below: 4) == 0)
                #expect(try store.bodyBytes(from: 4) == (try store.bodyBytes()))
                #expect(try store.bodyBytes(from: 4) > 0)
            }
            // After reopening: what was pruned stays pruned, the rest is whole.
            let store = try BlockStore(path: path, hasher: .sha256)
            #expect(try store.bodiesPrunedBelow() == 4)
            for h in UInt64(1)...3 {
                #expect(errorCode { try store.fullBlock(at: h) } == "pruned")
                let kept = try #require(try store.block(at: h))
                #expect(kept.header == commits[Int(h) - 1].block.header)
                #expect(kept.signatures == commits[Int(h) - 1].block.signatures)
                #expect(kept.txids == commits[Int(h) - 1].block.transactions.map(\.id))
            }
            for h in UInt64(4)...6 {
                #expect(try store.fullBlock(at: h)?.transactions == commits[Int(h) - 1].block.transactions)
            }
            let old = commits[0].transactions[1]
            #expect(errorCode { try store.transaction(old.transaction.id) } == "pruned")
            let place = try #require(try store.place(of: old.transaction.id))
            #expect(place.height == 1 && place.index == 1 && place.result == old.result)
            #expect(place.contract == "evidence" && place.method == "put")
            // Replay checks still see pruned transactions; events and the state stay.
            #expect(try store.committedIDs(among: [old.transaction.id]) == [old.transaction.id])
            #expect(try store.events(contract: "evidence", name: "evidence_put", limit: 100).count == 12)
            #expect(try store.read("evidence/h6") == Array("v6".utf8))
            #expect(try store.tip() == builder.tip)
            // The next block still commits on top.
            try store.commit(builder.next(txCount: 1))
            #expect(try store.tip()?.height == 7)
        }
    }

    @Test func theTipsBodiesAreNeverPrunedAndHostileHeightsAreRefused() async throws {
        try await withTemporaryDirectory { dir in
            let store = try BlockStore(path: dir.appendingPathComponent("c.sqlite").path, hasher: .sha256)
            #expect(try store.pruneBodies(below: 100) == 1)  // nothing stored
            var builder = ChainBuilder()
            for _ in 0..<3 { try store.commit(builder.next(txCount: 1)) }
            #expect(try store.pruneBodies(below: UInt64.max) == 3)  // the tip (3) keeps its bodies
            #expect(try store.fullBlock(at: 3)?.transactions.count == 1)
            #expect(errorCode { try store.fullBlock(at: 2) } == "pruned")
            #expect(try store.pruneBodies(below: 1) == 3)  // never backwards
            #expect(try store.fullBlock(at: 4) == nil)
            #expect(errorCode { try store.bodyBytes(below: UInt64.max) } == "bad_height")
        }
    }
}
