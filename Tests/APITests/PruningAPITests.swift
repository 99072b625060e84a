import API
import ChainCore
import ChainTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Identity
import NIOCore
import Node
import Prometheus
import Storage
import Testing

/// A node that prunes old transaction bodies: what it still answers (headers, proofs, results,
/// state) and what it answers `pruned` (410) for; and the admission-to-commit histogram.
@Suite struct PruningAPITests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium() }

    func evidenceTx(_ id: SigningIdentity, hash: String = Fixtures.randomHash()) throws -> SignedTransaction {
        try id.transaction(
            chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(hash: hash),
            timestamp: Fixtures.now)
    }

    @Test func prunedBodiesAnswer410WhileProofsResultsAndStateOfEveryBlockStay() async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.retainBlockBodies = 2
            let node = try consortium.node(in: dir, config: config)
            let app = Application(router: ChainAPI(node: node, maxWait: .seconds(5)).router())
            let farm = try consortium.identity(.farm, org: "org1", name: "farm-9")
            try await app.test(.router) { client in
                var txs: [SignedTransaction] = []
                var hashes: [String] = []
                for _ in 0..<5 {
                    let hash = Fixtures.randomHash()
                    let tx = try evidenceTx(farm, hash: hash)
                    #expect(try await client.submit(tx).status == .accepted)
                    #expect(try node.produceBlock() != nil)
                    txs.append(tx)
                    hashes.append(hash)
                }
                // Tip 5, two heights kept: bodies of blocks 1–3 go.
                #expect(try node.pruneBodiesDue(maxBlocksPerTransaction: 1) == 4)
                #expect(try node.store.bodyBytes(below: 4) == 0)
                let keys = try consortium.genesis.validatorKeys()
                for (i, tx) in txs.enumerated() {
                    let t = try await client.call(.get, "/v1/txs/\(tx.txid)")
                    let proof = try await client.call(.get, "/v1/txs/\(tx.txid)/proof")
                    #expect(proof.status == .ok)
                    let report = try ProofVerifier.verify(proof: proof.json, suite: .ed25519, validatorKeys: keys)
                    #expect(report.height == UInt64(i + 1) && report.validSigners == ["node0"])
                    #expect(proof.json["status"]?.stringValue == "committed")
                    if i < 3 {
                        #expect(t.status == .gone && t.code == "pruned")
                    } else {
                        #expect(t.status == .ok && t.json["status"]?.stringValue == "committed")
                    }
                    // The state the transaction wrote stays, pruned or not.
                    let ev = try await client.call(.get, "/v1/evidence/\(hashes[i])")
                    #expect(ev.status == .ok && ev.json["txid"]?.stringValue == tx.txid)
                    // Headers and transaction ids of every block stay.
                    let b = try await client.call(.get, "/v1/blocks/\(i + 1)")
                    #expect(b.status == .ok && b.json["txids"]?.arrayValue == [.string(tx.txid)])
                }
                // Block sync from a pruned height is refused with the code; from a kept one it serves.
                let sync = try await client.call(.get, "/v1/sync/blocks?from=1")
                #expect(sync.status == .gone && sync.code == "pruned")
                try await client.execute(uri: "/v1/sync/blocks?from=4", method: .get) { r in
                    #expect(r.status == .ok)
                    let blocks = try BlockSyncBatch.decode(
                        Array(buffer: r.body), maxTxs: 100, maxBlockBytes: 1 << 20, hasher: .sha256)
                    #expect(blocks.map(\.header.height) == [4, 5])
                }
                // A replay of a pruned transaction is still refused as a duplicate.
                let replay = try await client.submit(txs[0])
                #expect(replay.status == .conflict && replay.code == "duplicate_tx")
            }
        }
    }

    @Test func noRetentionWindowKeepsEveryBody() async throws {
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir)
            let farm = try consortium.identity(.farm)
            for _ in 0..<3 {
                try node.submit(try evidenceTx(farm))
                try node.produceBlock()
            }
            #expect(try node.pruneBodiesDue() == 1)
            #expect(try node.store.fullBlock(at: 1)?.transactions.count == 1)
        }
    }

    @Test func configRefusesANegativeWindow() throws {
        let bad = Data(#"{"nodeId":"n","retainBlockBodies":-1}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(NodeConfig.self, from: bad) }
        let good = try JSONDecoder().decode(NodeConfig.self, from: Data(#"{"nodeId":"n","retainBlockBodies":100}"#.utf8))
        #expect(good.retainBlockBodies == 100)
        #expect(try JSONDecoder().decode(NodeConfig.self, from: Data(#"{"nodeId":"n"}"#.utf8)).retainBlockBodies == 0)
    }

    @Test func admissionToCommitIsAHistogramOfWhatThisNodeAdmitted() async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.metricsToken = "0123456789abcdef-token"
            let registry = PrometheusCollectorRegistry()
            let node = try consortium.node(
                in: dir, config: config, metrics: NodeMetrics(factory: PrometheusMetricsFactory(registry: registry)))
            let app = Application(router: ChainAPI(node: node, metrics: MetricsExport(registry: registry)).router())
            let farm = try consortium.identity(.farm)
            try await app.test(.router) { client in
                for _ in 0..<3 { #expect(try await client.submit(try evidenceTx(farm)).status == .accepted) }
                // Refused ones are not timed.
                let stale = try farm.transaction(
                    chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(),
                    timestamp: Fixtures.now - 3_600_000)
                #expect(try await client.submit(stale).code == "stale_timestamp")
                // Admitted by another node (gossip): committed here, not timed here.
                node.admitGossiped(try evidenceTx(farm))
                try node.produceBlock()
                try await client.execute(
                    uri: "/metrics", method: .get, headers: [.authorization: "Bearer 0123456789abcdef-token"]
                ) { r in
                    let text = String(buffer: r.body)
                    #expect(text.contains("# TYPE xiangchain_admission_to_commit_seconds histogram"))
                    #expect(text.contains("xiangchain_admission_to_commit_seconds_count 3\n"))
                    #expect(text.contains("xiangchain_admission_to_commit_seconds_bucket{le=\"+Inf\"} 3\n"))
                    #expect(text.contains("xiangchain_transactions_committed_total 4\n"))
                }
            }
        }
    }
}

/// `GET /v1/snapshots/latest` and `/v1/snapshots/{h}/chunks/{i}` (the join itself: `SnapshotJoinTests`).
@Suite struct SnapshotRoutesTests {
    @Test func theNewestSnapshotIsOfferedWithItsSignatureAndChunks() async throws {
        let consortium = try TestConsortium()
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.snapshotInterval = 2
            let node = try consortium.node(in: dir, config: config)
            let app = Application(router: ChainAPI(node: node, maxWait: .seconds(5)).router())
            let farm = try consortium.identity(.farm)
            try await app.test(.router) { client in
                #expect(try await client.call(.get, "/v1/snapshots/latest").code == "not_found")
                for height in 1...5 {
                    try node.submit(
                        try farm.transaction(
                            chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(),
                            timestamp: Fixtures.now))
                    try node.produceBlock()
                    // Height 4's snapshot is skipped while height 2's is still being written.
                    for _ in 0..<400 where height == 2 && node.snapshots?.heights() != [2] {
                        try await Task.sleep(for: .milliseconds(25))
                    }
                }
                var offer = try await client.call(.get, "/v1/snapshots/latest")
                for _ in 0..<200 where offer.json["height"]?.int64Value != 4 {
                    try await Task.sleep(for: .milliseconds(50))
                    offer = try await client.call(.get, "/v1/snapshots/latest")
                }
                #expect(offer.status == .ok && offer.json["height"]?.int64Value == 4)
                let manifest = try SnapshotManifest(
                    decoding: Array(try #require(Data(base64Encoded: offer.json["manifest"]?.stringValue ?? ""))))
                // One state chunk, then one chunk of the ids committed in blocks 1–4.
                #expect(manifest.entryCount == 4 && offer.json["chunks"]?.int64Value == 2)
                #expect(manifest.committedCount == 4 && offer.json["committedIds"]?.int64Value == 4)
                #expect(offer.json["digest"]?.stringValue == manifest.digest(hasher: .sha256).hex)
                let sigs = (offer.json["signatures"]?.arrayValue ?? []).compactMap { s -> ValidatorSignature? in
                    guard let v = s["validator"]?.stringValue, let b = s["signature"]?.stringValue,
                        let d = Data(base64Encoded: b)
                    else { return nil }
                    return ValidatorSignature(validator: v, signature: Array(d))
                }
                let check = FinalityCheck(keys: try consortium.genesis.validatorKeys(), quorum: 1, suite: .ed25519)
                #expect(try manifest.verifyCertificate(sigs, check: check).map(\.validator) == ["node0"])
                try await client.execute(uri: "/v1/snapshots/4/chunks/0", method: .get) { r in
                    #expect(r.status == .ok)
                    #expect(Hash256.sha256(Array(buffer: r.body)) == manifest.chunkHashes[0])
                }
                try await client.execute(uri: "/v1/snapshots/4/chunks/1", method: .get) { r in
                    #expect(r.status == .ok)
                    #expect(Hash256.sha256(Array(buffer: r.body)) == manifest.committedChunkHashes[0])
                }
                #expect(try await client.call(.get, "/v1/snapshots/4/chunks/2").code == "not_found")
                #expect(try await client.call(.get, "/v1/snapshots/3/chunks/0").code == "not_found")
                #expect(try await client.call(.get, "/v1/snapshots/4/chunks/-1").code == "invalid_parameter")
                #expect(try await client.call(.get, "/v1/snapshots/x/chunks/0").code == "invalid_parameter")
                #expect(try await client.call(.get, "/v1/snapshots/4/chunks/99999999999999999999").code == "invalid_parameter")
            }
        }
    }
}
