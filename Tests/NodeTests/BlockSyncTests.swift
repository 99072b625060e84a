import ChainCore
import ChainTesting
import Foundation
import Identity
import Logging
import Storage
import Testing

@testable import Node

/// Serves final blocks straight from another node's store (the HTTP path is covered by the
/// process tests); can be told to fail, to test switching sources.
struct StoreSource: BlockSource {
    let node: ChainNode
    var failing = false
    /// Serves nothing, as a validator whose blocks lack finality signatures does.
    var unfinal = false
    var name: String { failing ? "broken" : unfinal ? "unfinal" : node.config.nodeId }

    func blocks(from: UInt64, limit: Int) async throws -> [UInt8] {
        if failing { throw ChainError(.syncFailed, "source unreachable") }
        if unfinal { return BlockSyncBatch.encode([]) }
        return BlockSyncBatch.encode(try node.finalBlocks(from: from, limit: limit))
    }

    func height() async throws -> UInt64? { try node.store.tip()?.height }

    func submit(_ body: [UInt8]) async throws {}

    func epochSignatures() async throws -> [UInt64: [ValidatorSignature]] {
        var out: [UInt64: [ValidatorSignature]] = [:]
        for e in try node.epochs() where e.epoch > 0 { out[e.epoch] = try node.store.epochSignatures(epoch: e.epoch) }
        return out
    }
}

@Suite(.serialized) struct BlockSyncTests {
    /// Runs a 4-validator cluster until `count` evidence transactions are committed and every
    /// block carries a quorum of finality signatures; returns the cluster, stopped.
    func committedChain(in dir: URL, count: Int = 30) async throws -> Cluster {
        let cluster = try Cluster(in: dir)
        let farm = try cluster.consortium.identity(.farm, org: "org1")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in cluster.services { group.addTask { try await s.run() } }
            var ids: [Hash256] = []
            let node0 = cluster.nodes[0]
            // In two waves, so that the chain has several blocks.
            for wave in [0..<count / 2, count / 2..<count] {
                for i in wave {
                    let tx = try farm.transaction(
                        chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
                    try cluster.nodes[i % 4].submit(tx)
                    ids.append(tx.id)
                }
                #expect(try await waitUntil { try node0.store.committedIDs(among: ids).count == ids.count })
            }
            #expect(
                try await waitUntil {
                    let height = try node0.store.tip()?.height ?? 0
                    return try node0.finalBlocks(from: 1, limit: 256).count == Int(height)
                })
            group.cancelAll()
        }
        return cluster
    }

    /// A source ahead of the observer that serves no final block (a validator that restarted
    /// and lacks its peers' finality signatures) is not healthy: past the patience it counts as
    /// failed, the status says so, and the observer moves to the next source.
    @Test func aSourceAheadThatServesNothingFinalIsLeftAndReported() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try await committedChain(in: dir, count: 8)
            let source = cluster.nodes[0]
            let observer = try cluster.consortium.observer(in: dir)
            // Only the stuck source: reported unhealthy, nothing synced.
            let stuck = BlockSyncService(
                node: observer, sources: [StoreSource(node: source, unfinal: true)], interval: .milliseconds(20),
                stuckPatience: .milliseconds(300), logger: .init(label: "sync"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await stuck.run() }
                let reported = try await waitUntil(.seconds(10)) {
                    stuck.status.lastError?.contains("lack finality signatures") == true
                }
                #expect(reported)
                group.cancelAll()
            }
            let stillAtGenesis = (try observer.store.tip()?.height ?? 0) == 0
            #expect(stillAtGenesis)
            // The source's height is known although it serves nothing: the sync lag (metrics) is all of it.
            let sourceHeight = try source.store.tip()?.height ?? 0
            #expect(sourceHeight > 0 && stuck.status.sourceHeight == sourceHeight)
            // With a good source after it, the observer moves on and catches up.
            let sync = BlockSyncService(
                node: observer, sources: [StoreSource(node: source, unfinal: true), StoreSource(node: source)],
                interval: .milliseconds(20), stuckPatience: .milliseconds(300), logger: .init(label: "sync"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await sync.run() }
                let caughtUp = try await waitUntil(.seconds(20)) { try observer.store.tip() == source.store.tip() }
                #expect(caughtUp)
                group.cancelAll()
            }
            #expect(sync.status.sourceHeight == sourceHeight)
        }
    }

    @Test func anObserverFollowsTheChainAndComputesTheSameState() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try await committedChain(in: dir)
            let source = cluster.nodes[0]
            let observer = try cluster.consortium.observer(in: dir)
            #expect(observer.isObserver)
            let sync = BlockSyncService(
                node: observer, sources: [StoreSource(node: source, failing: true), StoreSource(node: source)],
                interval: .milliseconds(20), batch: 4, logger: .init(label: "sync"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await sync.run() }
                let caughtUp = try await waitUntil {
                    let target = try source.store.tip()
                    return try observer.store.tip() == target
                }
                #expect(caughtUp)
                group.cancelAll()
            }
            let height = try #require(try source.store.tip()?.height)
            for h in 1...height {
                let theirs = try #require(try source.store.fullBlock(at: h))
                let ours = try #require(try observer.store.fullBlock(at: h))
                #expect(ours.header == theirs.header)
                #expect(ours.transactions == theirs.transactions)
                for t in ours.transactions {
                    #expect(try observer.store.transaction(t.id) == source.store.transaction(t.id))
                }
            }
            // The first source failed and the second was used; the failure was reported, then cleared.
            #expect(sync.status.blocksSynced == Int(height))
            #expect(sync.status.source == "node0")
            #expect(sync.status.lastError == nil)
            // The observer's execution agrees with the validators': the next block certifies it.
            #expect(try observer.store.tip()?.stateHash == source.store.tip()?.stateHash)
        }
    }

    @Test func blocksWithoutAQuorumOrThatDoNotMatchTheirHeaderAreRefusedAndNothingIsStored() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try await committedChain(in: dir, count: 12)
            let source = cluster.nodes[0]
            let blocks = try source.finalBlocks(from: 1, limit: 256)
            try #require(blocks.count >= 2)
            let observer = try cluster.consortium.observer(in: dir)
            let finality = try observer.finalityCheck(forHeight: 1)
            let b1 = blocks[0]
            func refused(_ block: Block) -> String {
                errorCode { try observer.commitCertified(block) }
            }
            // Fewer signatures than a quorum; one validator's signature repeated; a signature by a non-validator.
            let valid = b1.signatures.filter { finality.keys[$0.validator] != nil }
            #expect(
                refused(Block(header: b1.header, transactions: b1.transactions, signatures: Array(valid.prefix(2))))
                    == "no_quorum")
            #expect(
                refused(Block(header: b1.header, transactions: b1.transactions, signatures: Array(repeating: valid[0], count: 4)))
                    == "no_quorum")
            let outsider = SigningKey.generate(.ed25519)
            let forged = try ValidatorSignature(validator: "node3", signature: outsider.sign(b1.header.signingMessage))
            #expect(
                refused(Block(header: b1.header, transactions: b1.transactions, signatures: Array(valid.prefix(2)) + [forged]))
                    == "no_quorum")
            // Transactions that are not the ones the header commits to.
            let farm = try cluster.consortium.identity(.farm, org: "org2")
            let other = try farm.transaction(
                chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            var swapped = b1.transactions
            swapped[0] = other
            #expect(refused(Block(header: b1.header, transactions: swapped, signatures: b1.signatures)) == "bad_block")
            #expect(
                refused(Block(header: b1.header, transactions: Array(b1.transactions.dropLast()), signatures: b1.signatures))
                    == "bad_block")
            // Out of order.
            #expect(refused(blocks[1]) == "not_next_block")
            #expect(try observer.store.tip() == nil)

            // A quorum-signed header that certifies another state than this node computed: divergence, not commit.
            // A forged signature beside a valid quorum: the block commits, and only the valid ones are stored.
            try observer.commitCertified(
                Block(header: b1.header, transactions: b1.transactions, signatures: [forged] + b1.signatures))
            let stored = try #require(try observer.store.fullBlock(at: 1)).signatures
            #expect(!stored.contains(forged) && stored.count >= finality.quorum)
            #expect(finality.validSignatures(of: b1.header, stored) == stored)
            var header = blocks[1].header
            header.stateHash = Hash256.sha256(Array("another state".utf8))
            let signatures = try (0..<3).map { k in
                ValidatorSignature(
                    validator: "node\(k)", signature: try cluster.consortium.nodeKeys[k].sign(header.signingMessage))
            }
            #expect(
                refused(Block(header: header, transactions: blocks[1].transactions, signatures: signatures)) == "sync_diverged")
            #expect(try observer.store.tip()?.height == 1)
            // The genuine block still goes in.
            try observer.commitCertified(blocks[1])
            #expect(try observer.store.tip()?.hash == blocks[1].header.hash)
        }
    }

    @Test(arguments: [
        [UInt8](), [2], [1, 0, 0, 1, 1], [1, 0xff, 0xff, 0xff, 0xff], [1, 0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3],
    ])
    func hostileSyncBatchesFailToDecode(bytes: [UInt8]) {
        #expect(
            errorCode { try BlockSyncBatch.decode(bytes, maxTxs: 10, maxBlockBytes: 1 << 20, hasher: .sha256) }
                == "decoding_failed")
    }

    @Test func aSyncBatchRoundTripsAndRefusesTrailingBytes() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try await committedChain(in: dir, count: 4)
            let blocks = try cluster.nodes[1].finalBlocks(from: 1, limit: 10)
            let bytes = BlockSyncBatch.encode(blocks)
            let back = try BlockSyncBatch.decode(bytes, maxTxs: 2000, maxBlockBytes: 1 << 20, hasher: .sha256)
            #expect(back.map(\.header) == blocks.map(\.header))
            #expect(back.map(\.transactions) == blocks.map(\.transactions))
            #expect(back.map(\.signatures) == blocks.map(\.signatures))
            #expect(
                errorCode { try BlockSyncBatch.decode(bytes + [0], maxTxs: 2000, maxBlockBytes: 1 << 20, hasher: .sha256) }
                    == "decoding_failed")
            #expect(
                errorCode { try BlockSyncBatch.decode(bytes, maxTxs: 0, maxBlockBytes: 1 << 20, hasher: .sha256) }
                    == "decoding_failed")
        }
    }

    @Test func aNodeOutsideTheValidatorSetNeedsSyncSources() async throws {
        try await withTemporaryDirectory { dir in
            let consortium = try TestConsortium(validators: 4)
            #expect(errorCode { try consortium.observer(in: dir, syncFrom: []) } == "not_a_validator")
            #expect(errorCode { try HTTPBlockSource("ftp://x") } == "bad_config")
            #expect(errorCode { try HTTPBlockSource("not a url") } == "bad_config")
        }
    }
}
