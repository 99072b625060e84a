import ChainCore
import ChainTesting
import Execution
import Foundation
import Identity
import Logging
import Storage
import Synchronization
import Testing

@testable import Node

/// Serves a node's snapshot offer and chunks straight from it (the HTTP routes are the same
/// calls); can serve altered chunks or a forged offer.
struct NodeSnapshotSource: SnapshotSource {
    let node: ChainNode
    var alterChunks = false
    var offer: (@Sendable (JSONValue) -> JSONValue)?
    var name: String { alterChunks ? "altering" : offer != nil ? "forging" : node.config.nodeId }

    func latestSnapshot() async throws -> JSONValue? { try node.snapshotOffer().map { offer?($0) ?? $0 } }

    func snapshotChunk(height: UInt64, index: Int) async throws -> [UInt8] {
        guard var bytes = node.snapshots?.chunk(height: height, index: index) else {
            throw ChainError(.notFound, "no chunk")
        }
        if alterChunks { bytes[bytes.count - 1] ^= 1 }
        return bytes
    }
}

@Suite struct SnapshotJoinTests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium() }

    /// A solo chain of 10 blocks of 3 evidence records each, with a snapshot every 4 heights;
    /// returns the node once its snapshot of height 8 is written.
    func chain(in dir: URL, retainBlockBodies: Int = 0) async throws -> ChainNode {
        var config = NodeConfig(nodeId: "node0")
        config.snapshotInterval = 4
        config.retainBlockBodies = retainBlockBodies
        config.syncCommits = false
        let node = try consortium.node(in: dir, config: config)
        let farm = try consortium.identity(.farm, org: "org1")
        for height in 1...10 {
            for _ in 0..<3 {
                try node.submit(
                    try farm.transaction(
                        chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs()))
            }
            try node.produceBlock()
            // Height 8's snapshot would be skipped while height 4's is still being written.
            if height == 4 { #expect(try await waitUntil { node.snapshots?.heights() == [4] }) }
        }
        #expect(try await waitUntil { node.snapshots?.heights() == [4, 8] })
        return node
    }

    func join(_ dir: URL, _ sources: [any SnapshotSource], toleranceMs: Int64 = 600_000) throws -> (BlockStore, SnapshotJoin) {
        let store = try BlockStore(path: dir.appendingPathComponent("observer0.sqlite").path, hasher: .sha256)
        try store.bindGenesis(hash: try consortium.genesis.hash, chainId: "test-chain")
        return (
            store,
            SnapshotJoin(
                genesis: consortium.genesis, store: store, sources: sources, download: dir.appendingPathComponent("download"),
                logger: Logger(label: "join"), timestampToleranceMs: toleranceMs)
        )
    }

    @Test func aNewObserverStartsFromTheCertifiedSnapshotAndSyncsOnFromIt() async throws {
        try await withTemporaryDirectory { dir in
            // The source prunes all bodies but the last two blocks': replay from it is impossible.
            let node = try await chain(in: dir, retainBlockBodies: 2)
            #expect(try node.pruneBodiesDue() == 9)
            #expect(errorCode { try node.finalBlocks(from: 1, limit: 10) } == "pruned")
            let offer = try #require(try node.snapshotOffer())
            #expect(offer["height"]?.int64Value == 8 && offer["signatures"]?.arrayValue?.count == 1)
            // The first source serves altered chunks: each is refused and fetched from the next.
            let (store, join) = try join(
                dir, [NodeSnapshotSource(node: node, alterChunks: true), NodeSnapshotSource(node: node)])
            #expect(try await join.run() == 8)
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("download").path))
            let manifest = try #require(try node.snapshots?.manifest(height: 8))
            #expect(UInt64(try store.scan(prefix: "", limit: 10_000).count) == manifest.entryCount)
            #expect(manifest.entryCount == 24)  // the evidence records of blocks 1–8
            let observer = try consortium.observer(in: dir)
            #expect(try observer.store.tip()?.height == 8)
            // Blocks 9 and 10 sync as usual: each is checked against the state the snapshot gave.
            for block in try node.finalBlocks(from: 9, limit: 10) { try observer.commitCertified(block) }
            #expect(try observer.store.tip() == (try node.store.tip()))
            #expect(try observer.store.scan(prefix: "", limit: 10_000) == (try node.store.scan(prefix: "", limit: 10_000)))
            #expect(errorCode { try observer.store.fullBlock(at: 8) } == "pruned")
            #expect(try observer.store.block(at: 7) == nil)
            // A node holding blocks is left alone.
            #expect(try await join.run() == nil)
        }
    }

    /// Issue 17: a node started from a snapshot knows the transactions committed just before it.
    /// Without the ids the snapshot carries, it took a transaction of block 7 as new: a leader
    /// could have it vote for, and execute again, a block repeating it, and diverge alone.
    @Test func aNodeStartedFromASnapshotRefusesATransactionCommittedJustBeforeIt() async throws {
        try await withTemporaryDirectory { dir in
            let node = try await chain(in: dir)
            let (_, join) = try join(dir, [NodeSnapshotSource(node: node)])
            #expect(try await join.run() == 8)
            let observer = try consortium.observer(in: dir)
            let snapshotTime = try #require(try observer.store.block(at: 8)).header.timestamp
            let before = try #require(try node.store.fullBlock(at: 7))
            let tx = before.transactions[0]
            // The replay check every node applies (admission, block production, voting, sync).
            #expect(try observer.store.committedIDs(among: before.transactions.map(\.id)) == Set(before.transactions.map(\.id)))
            #expect(errorCode { try observer.submit(tx, nowMillis: before.header.timestamp) } == "duplicate_tx")
            // Producing a block of it leaves it out, as every other node does.
            let tip = try #require(try observer.store.tip())
            let verified = try observer.certifiedTransaction(tx, at: tip.timestamp + 1)
            #expect(
                try observer.commitBlock([verified], proposer: "node0", timestamp: tip.timestamp + 1, consensusBlock: nil)
                    == nil)
            // A certified block repeating it (signed by the validator: a Byzantine quorum) is refused.
            let header = BlockHeader(
                chainId: "test-chain", height: 9, parentHash: tip.hash, timestamp: tip.timestamp + 1, proposer: "node0",
                txCount: 1, txRoot: Block.txRoot([tx], hasher: .sha256), execHeight: 8, resultRoot: tip.resultRoot,
                stateHash: tip.stateHash, hasher: .sha256)
            let repeating = Block(header: header, transactions: [tx], signatures: [try node.sign(header)])
            #expect(errorCode { try observer.commitCertified(repeating) } == "bad_block")
            #expect(try observer.store.tip() == tip)
            // The genuine blocks 9 and 10 still follow.
            for block in try node.finalBlocks(from: 9, limit: 10) { try observer.commitCertified(block) }
            #expect(try observer.store.tip() == (try node.store.tip()))
            // Transactions older than the window can settle (the snapshot block's time less the
            // tolerance) are refused by the joined node only: it cannot tell them committed or not.
            #expect(observer.verifier.earliestTimestamp == snapshotTime - 600_000)
            let farm = try consortium.identity(.farm, org: "org1")
            let old = try farm.transaction(
                chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(),
                timestamp: observer.verifier.earliestTimestamp - 1)
            #expect(
                errorCode { try observer.verifier.verify(old, nowMillis: observer.verifier.earliestTimestamp) }
                    == "stale_timestamp")
            #expect(node.verifier.earliestTimestamp == Int64.min)
        }
    }

    /// A snapshot appears on the shelf already signed by its validator. It used to be moved into
    /// place and signed just after: an offer taken in between carried no signature (CI saw it
    /// once), and a joining node counted one validator less toward the quorum.
    @Test func aSnapshotIsNeverOfferedUnsigned() async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.snapshotInterval = 1
            config.snapshotKeep = 2
            config.syncCommits = false
            let node = try consortium.node(in: dir, config: config)
            let shelf = try #require(node.snapshots)
            let farm = try consortium.identity(.farm, org: "org1")
            // Watches the shelf as tightly as it can on its own thread while 40 snapshots are written.
            let done = Atomic<Bool>(false)
            let unsigned = Atomic<Int>(0)
            let seen = Atomic<Int>(0)
            let watcher = Thread {
                while !done.load(ordering: .acquiring) {
                    for height in shelf.heights() {
                        seen.add(1, ordering: .relaxed)
                        // A folder dropped beyond `keep` between the two calls is no finding.
                        if shelf.signatures(height: height).isEmpty, shelf.heights().contains(height) {
                            unsigned.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
            watcher.start()
            for height in 1...40 {
                try node.submit(
                    try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs()))
                try node.produceBlock()
                #expect(
                    try await waitUntil { shelf.heights().last == UInt64(height) && !shelf.writing.load(ordering: .acquiring) })
            }
            done.store(true, ordering: .releasing)
            #expect(seen.load(ordering: .relaxed) > 40)
            #expect(unsigned.load(ordering: .relaxed) == 0)
            #expect(try node.snapshotOffer()?["signatures"]?.arrayValue?.count == 1)
        }
    }

    /// A snapshot height reached while the previous snapshot is still being written is skipped:
    /// otherwise each waiting snapshot holds a frozen read transaction (pinning the WAL) and a
    /// state slower to write than an interval queues them without bound.
    @Test func aSnapshotDueWhileThePreviousIsStillBeingWrittenIsSkipped() async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.snapshotInterval = 4
            config.snapshotKeep = 3
            config.syncCommits = false
            let node = try consortium.node(in: dir, config: config)
            let shelf = try #require(node.snapshots)
            #expect(shelf.keep == 3)
            let farm = try consortium.identity(.farm, org: "org1")
            func blocks(_ n: Int) throws {
                for _ in 0..<n {
                    try node.submit(
                        try farm.transaction(
                            chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs()))
                    try node.produceBlock()
                }
            }
            // The writer is held up: the snapshot of height 4 waits in its queue.
            let gate = DispatchSemaphore(value: 0)
            shelf.queue.async { gate.wait() }
            try blocks(8)
            gate.signal()
            // Written (its manifest is on disk) and the writer released (just after).
            #expect(try await waitUntil { shelf.heights() == [4] && !shelf.writing.load(ordering: .acquiring) })
            // Once written, the next due height is taken again.
            try blocks(4)
            #expect(try await waitUntil { shelf.heights() == [4, 12] })
        }
    }

    @Test func forgedOrGarbageSnapshotsAreRefusedAndNothingIsLoaded() async throws {
        try await withTemporaryDirectory { dir in
            let node = try await chain(in: dir)
            let stranger = SigningKey.generate(.ed25519)
            // Signed by a key outside the validator set, under a validator's name.
            let forged = NodeSnapshotSource(node: node) { offer in
                guard var o = offer.objectValue, let m = o["manifest"]?.stringValue, let bytes = Data(base64Encoded: m),
                    let manifest = try? SnapshotManifest(decoding: Array(bytes)),
                    let sig = try? stranger.sign(manifest.signingMessage(hasher: .sha256))
                else { return offer }
                o["signatures"] = .array([
                    .object(["validator": .string("node0"), "signature": .string(Data(sig).base64EncodedString())])
                ])
                return .object(o)
            }
            // The validator's own signature over another manifest (one more entry claimed).
            let altered = NodeSnapshotSource(node: node) { offer in
                guard var o = offer.objectValue, let m = o["manifest"]?.stringValue, let bytes = Data(base64Encoded: m),
                    let x = try? SnapshotManifest(decoding: Array(bytes))
                else { return offer }
                let other = SnapshotManifest(
                    chainId: x.chainId, height: x.height, headerHash: x.headerHash, resultRoot: x.resultRoot,
                    stateHash: x.stateHash, entryCount: x.entryCount + 1, chunkHashes: x.chunkHashes,
                    committedSince: x.committedSince, committedCount: x.committedCount,
                    committedChunkHashes: x.committedChunkHashes)
                o["manifest"] = .string(Data(other.encoded).base64EncodedString())
                return .object(o)
            }
            // A first-version manifest (no committed ids), as a node of the earlier version offers it.
            var v1 = BinaryWriter()
            v1.string(SnapshotManifest.domainV1)
            v1.string("test-chain")
            v1.u64(8)
            for _ in 0..<3 { v1.hash(.zero) }
            v1.u64(0)
            v1.u32(0)
            let v1Bytes = v1.bytes
            let outdated = NodeSnapshotSource(node: node) { offer in
                guard var o = offer.objectValue else { return offer }
                o["manifest"] = .string(Data(v1Bytes).base64EncodedString())
                return .object(o)
            }
            let cases: [([any SnapshotSource], String, Int64)] = [
                ([forged], "no_quorum", 600_000), ([altered], "no_quorum", 600_000),
                ([NodeSnapshotSource(node: node, alterChunks: true)], "snapshot_mismatch", 600_000), ([], "no_quorum", 600_000),
                ([outdated], "snapshot_outdated", 600_000),
                // Signed with a 10-minute tolerance: too short a window for a node set to 15.
                ([NodeSnapshotSource(node: node)], "snapshot_mismatch", 900_000),
            ]
            for (sources, code, tolerance) in cases {
                let (store, join) = try join(dir, sources, toleranceMs: tolerance)
                do {
                    try await join.run()
                    Issue.record("\(sources.map(\.name)): loaded")
                } catch let e as ChainError {
                    #expect(e.code.rawValue == code, "\(sources.map(\.name)): \(e)")
                }
                #expect(try store.tip() == nil)
                #expect(try store.scan(prefix: "", limit: 10).isEmpty)
                #expect(try store.committedIDs(among: try node.store.block(at: 8)?.txids ?? []).isEmpty)
            }
            // A first-version snapshot left on the shelf by the earlier version is not offered.
            let shelf = try #require(node.snapshots)
            let stale = shelf.directory.appendingPathComponent("12")
            try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
            try Data(v1Bytes).write(to: stale.appendingPathComponent("manifest"))
            #expect(shelf.heights() == [4, 8, 12])
            #expect(errorCode { try shelf.manifest(height: 12) } == "snapshot_outdated")
            #expect(try node.snapshotOffer()?["height"]?.int64Value == 8)
        }
    }
}
