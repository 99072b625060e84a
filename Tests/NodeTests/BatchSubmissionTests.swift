import ChainCore
import ChainTesting
import Execution
import Foundation
import Identity
import Storage
import Testing

@testable import Node

/// `ChainNode.submit` for many (the submission stream's and `POST /v1/txs/batch`'s admission):
/// each transaction gets the outcome it gets alone, in order, whatever it is batched with.
@Suite struct BatchSubmissionTests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium(orgs: ["org0", "org1", "org2", "org3"], validators: 4) }

    @Test func eachTransactionOfABatchGetsItsOwnOutcome() async throws {
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir, validator: 0)
            let farm = try consortium.identity(.farm)
            let now = ChainNode.nowMillis()
            func put(_ chain: String = "test-chain") throws -> SignedTransaction {
                try farm.transaction(
                    chain: chain, contract: "evidence", method: "put", args: Fixtures.evidenceArgs(), timestamp: now)
            }
            // One committed before the batch comes.
            let old = try put()
            #expect(
                try node.commitBlock(
                    [try node.verifier.verify(old, nowMillis: now)], proposer: "node0", timestamp: now, consensusBlock: nil)
                    != nil)
            let good = try (0..<5).map { _ in try put() }
            var signature = good[1].signature
            signature[3] ^= 0x40
            let forged = SignedTransaction(
                body: try put().body, signature: signature, signerCertificate: good[1].signerCertificate, hasher: .sha256)
            let batch = [good[0], forged, good[1], old, good[2], try put("other-chain"), good[1], good[3], good[4]]
            let outcomes = node.submit(batch, nowMillis: now).map { r -> String in
                switch r {
                case .success(let v): return "ok \(v.id.hex)"
                case .failure(let e): return e.code.rawValue
                }
            }
            #expect(
                outcomes == [
                    "ok \(good[0].id.hex)", "bad_signature", "ok \(good[1].id.hex)", "duplicate_tx", "ok \(good[2].id.hex)",
                    "wrong_chain", "duplicate_tx", "ok \(good[3].id.hex)", "ok \(good[4].id.hex)",
                ])
            #expect(good.allSatisfy { node.mempool.contains($0.id) })
            #expect(!node.mempool.contains(forged.id) && !node.mempool.contains(old.id))
            // One transaction alone goes the same way.
            #expect(throws: ChainError.self) { try node.submit(forged, nowMillis: now) }
            #expect(node.submit([], nowMillis: now).isEmpty)
        }
    }

    /// A full mempool refuses a whole batch before any of it costs a verification.
    @Test func aFullMempoolRefusesTheWholeBatch() async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.mempoolCapacity = 2
            let node = try consortium.node(in: dir, config: config)
            let farm = try consortium.identity(.farm)
            let now = ChainNode.nowMillis()
            let txs = try (0..<4).map { _ in
                try farm.transaction(
                    chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(), timestamp: now)
            }
            let first = node.submit(Array(txs[0..<3]), nowMillis: now).map { (try? $0.get()) != nil }
            #expect(first == [true, true, false])
            let second = node.submit([txs[3]], nowMillis: now)
            #expect(second.count == 1)
            if case .failure(let e) = second[0] {
                #expect(e.code == .mempoolFull)
            } else {
                Issue.record("admitted past capacity")
            }
        }
    }
}
