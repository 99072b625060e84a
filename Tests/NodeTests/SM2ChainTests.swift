import ChainCore
import ChainTesting
import Consensus
import Foundation
import Identity
import Logging
import Storage
import Testing

@testable import Node

/// A chain of suite `sm2`: four validators with SM2 node keys and SM2 certificates, clients
/// signing with SM2, every chain hash SM3. Real nodes, SQLite files and the consensus service
/// over the in-memory network.
@Suite(.serialized) struct SM2ChainTests {
    /// The inclusion proof of `id` as the API serves it, built from the node's store.
    static func proof(of id: Hash256, on node: ChainNode) throws -> JSONValue {
        let t = try #require(try node.store.transaction(id))
        let block = try #require(try node.store.block(at: t.height))
        let hasher = node.hasher
        let leaves = block.txids.map { MerkleTree.leafHash($0.bytes, hasher: hasher) }
        let path = try #require(MerkleTree.inclusionProof(index: t.index, leafHashes: leaves, hasher: hasher))
        return .object([
            "txid": .string(id.hex), "leafIndex": .int(t.index), "treeSize": .int(leaves.count),
            "auditPath": .array(path.map { .string($0.hex) }), "txRoot": .string(block.header.txRoot.hex),
            "headerBytes": .string(Data(block.header.encoded).base64EncodedString()),
            "headerHash": .string(block.hash.hex),
            "finality": .object([
                "signatures": .array(
                    block.signatures.map {
                        .object([
                            "validator": .string($0.validator),
                            "signature": .string(Data($0.signature).base64EncodedString()),
                        ])
                    })
            ]),
        ])
    }

    @Test func fourSM2ValidatorsCommitWithSM3HashesAndTheirProofsVerify() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try Cluster(in: dir, suite: .sm2)
            let nodes = cluster.nodes
            #expect(cluster.consortium.genesis.suite == .sm2 && nodes[0].hasher == .sm3)
            let farm = try cluster.consortium.identity(.farm, org: "org1")
            #expect(farm.key.suite == .sm2)
            let signer = try CertificateInfo(der: farm.certificateDER)
            #expect(signer.hasKey(of: .sm2) && !signer.hasKey(of: .ed25519) && !signer.hasKey(of: .p256))

            let txs = try (0..<12).map { _ in
                try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            }
            for (i, tx) in txs.enumerated() {
                // The transaction id is SM3 of the body, not SHA-256.
                #expect(tx.id.bytes == SM3.hash(tx.body) && tx.id != Hash256.sha256(tx.body))
                try nodes[i % 4].submit(tx)
            }
            let ids = txs.map(\.id)
            var sealedHeight: UInt64 = 0
            try await withThrowingTaskGroup(of: Void.self) { group in
                for s in cluster.services { group.addTask { try await s.run() } }
                let committed = try await waitUntil {
                    try nodes.allSatisfy { try $0.store.committedIDs(among: ids).count == ids.count }
                }
                #expect(committed)
                let agreed = try await waitUntil { try Set(nodes.map { try $0.store.tip()?.hash }).count == 1 }
                #expect(agreed)
                // Finality signatures are gossiped after the commit: wait until node0 holds a
                // quorum of SM2 signatures on every block.
                let keys = try cluster.consortium.genesis.validatorKeys()
                let sealed = try await waitUntil {
                    let height = try nodes[0].store.tip()?.height ?? 0
                    sealedHeight = height
                    return try (1...max(height, 1)).allSatisfy { h in
                        guard let b = try nodes[0].store.block(at: h) else { return false }
                        return b.signatures.filter {
                            CryptoSuite.sm2.verify(
                                signature: $0.signature, message: b.header.signingMessage, publicKey: keys[$0.validator]!)
                        }.count >= 3
                    }
                }
                #expect(sealed)
                group.cancelAll()
            }

            let keys = try cluster.consortium.genesis.validatorKeys()
            var parent = Hash256.zero
            for h in 1...max(sealedHeight, 1) {
                let b = try #require(try nodes[0].store.block(at: h))
                // Header ids, tx roots: SM3, with the RFC 6962 structure.
                #expect(b.hash.bytes == SM3.hash(b.header.encoded) && b.hash != Hash256.sha256(b.header.encoded))
                #expect(b.header.parentHash == parent)
                #expect(
                    b.header.txRoot
                        == MerkleTree.root(
                            leafHashes: b.txids.map { Hash256(SM3.hash([0x00] + $0.bytes))! }, hasher: .sm3))
                // Finality signatures: SM2 by a quorum.
                let valid = b.signatures.filter {
                    CryptoSuite.sm2.verify(
                        signature: $0.signature, message: b.header.signingMessage, publicKey: keys[$0.validator]!)
                }
                #expect(valid.count >= 3, "block \(h)")
                parent = b.hash
            }
            // The genesis state hash is SM3 too.
            #expect(
                StateHash.genesis(nodes[0].genesisHash, hasher: .sm3)
                    == Hash256(SM3.hash(Array("XIANGCHAIN-STATE-V1".utf8) + nodes[0].genesisHash.bytes)))

            for tx in txs {
                let proof = try Self.proof(of: tx.id, on: nodes[0])
                let report = try ProofVerifier.verify(proof: proof, suite: .sm2, validatorKeys: keys, quorum: 3)
                #expect(report.validSigners.count >= 3)
                // The same proof checked as if the chain hashed with SHA-256 fails.
                #expect(throws: ChainError.self) {
                    try ProofVerifier.verify(proof: proof, suite: .p256, validatorKeys: keys, quorum: 3)
                }
            }
        }
    }

    @Test func foreignAndMalformedSignaturesAreRefusedWithClearCodes() async throws {
        try await withTemporaryDirectory { dir in
            let consortium = try TestConsortium(suite: .sm2)
            let node = try consortium.node(in: dir)
            let farm = try consortium.identity(.farm)
            let tx = try farm.transaction(
                chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            func code(_ t: SignedTransaction) -> String? {
                do {
                    try node.submit(t)
                    return nil
                } catch {
                    return error.code.rawValue
                }
            }
            func resigned(_ signature: [UInt8]) -> SignedTransaction {
                SignedTransaction(body: tx.body, signature: signature, signerCertificate: tx.signerCertificate, hasher: .sm3)
            }
            // An Ed25519 signature (64 raw bytes) is not an SM2 signature at all.
            let ed = try SigningKey.generate(.ed25519).sign(tx.body)
            #expect(code(resigned(ed)) == "malformed_signature")
            // A P-256 signature has the DER shape but does not verify under the SM2 key.
            let p256 = try SigningKey.generate(.p256).sign(tx.body)
            #expect(code(resigned(p256)) == "bad_signature")
            // An SM2 signature made with another user id does not verify (the id enters Z).
            let wrongID = try #require(farm.key.sm2Key).sign(message: tx.body, userID: Array("ALICE123@YAHOO.COM".utf8))
            #expect(code(resigned(wrongID)) == "bad_signature")
            // Truncated, padded, non-minimal DER: malformed.
            #expect(code(resigned(Array(tx.signature.dropLast()))) == "malformed_signature")
            #expect(code(resigned(tx.signature + [0])) == "malformed_signature")
            #expect(code(resigned([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01])) == "malformed_signature")
            // An Ed25519 identity (certificate and key) on the SM2 chain.
            let other = try TestConsortium(suite: .ed25519).identity(.farm)
            let foreign = try other.transaction(
                chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            #expect(code(foreign) != nil)
            // The genuine one goes through.
            #expect(code(tx) == nil)
        }
    }
}
