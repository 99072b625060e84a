import ChainCore
import ChainTesting
import Foundation
import Identity
import Node
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Four `xiangchain node` processes of an `sm2` chain on loopback: SM2 node and member
/// certificates, TLS on SM2-certified transport keys, SM3 chain hashes. Transactions commit on
/// all four, and their proofs verify in-process and with `xiangchain verify-proof`.
@Suite(.serialized) struct SM2NetworkTests {
    @Test func fourSM2ValidatorProcessesCommitAndTheirProofsVerify() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 4)
            let made = try await XiangChainBinary.run([
                "init", "--dir", dir.path, "--orgs", "org0,org1,org2,org3", "--chain-id", "sm2-test", "--base-port",
                String(base), "--suite", "sm2",
            ])
            #expect(made.status == 0, "\(made.output)")
            let genesisURL = dir.appendingPathComponent("genesis.json")
            let genesis = try Genesis.load(from: genesisURL)
            #expect(genesis.suite == .sm2)
            let signer = try SigningIdentity(directory: dir.appendingPathComponent("identities/org1-admin"))
            #expect(signer.key.suite == .sm2)
            // The member certificate is SM2 with SM2-with-SM3, issued by the org's SM2 CA.
            let cert = try CertificateInfo(der: signer.certificateDER)
            #expect(cert.hasKey(of: .sm2))

            try quickenConsensus(dir, validators: 4)
            let nodes = try (0..<4).map { try NodeProcess(home: dir.appendingPathComponent("nodes/\($0)"), port: base + $0) }
            defer { for n in nodes { _ = n.stop(signal: SIGTERM) } }
            for n in nodes { try await n.waitUntilReady() }
            let urls = nodes.map(\.baseURL)

            var txids: [String] = []
            for i in 0..<8 {
                let tx = try signer.transaction(
                    chain: "sm2-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
                #expect(tx.id.bytes == SM3.hash(tx.body))
                let url = URL(string: "\(urls[i % 4].absoluteString)/v1/txs?wait=commit&timeout=20000")!
                let (_, json) = try await HTTP.post(url, Array(try JSONEncoder().encode(TransactionSubmission(tx))))
                #expect(json["status"]?.stringValue == "committed", "\(json.canonicalString)")
                txids.append(tx.txid)
            }

            let keys = try genesis.validatorKeys()
            for (i, txid) in txids.enumerated() {
                let (_, proof) = try await HTTP.get(URL(string: "\(urls[(i + 1) % 4].absoluteString)/v1/txs/\(txid)/proof")!)
                #expect(proof["hashAlgorithm"]?.stringValue == "sm3")
                let report = try ProofVerifier.verify(
                    proof: proof, suite: .sm2, validatorKeys: keys, quorum: genesis.quorum, chainId: "sm2-test")
                #expect(report.validSigners.count >= genesis.quorum)
                if i == 0 {
                    let file = dir.appendingPathComponent("proof.json")
                    try Data(proof.canonicalBytes).write(to: file)
                    let verified = try await XiangChainBinary.run(["verify-proof", file.path, "--genesis", genesisURL.path])
                    #expect(verified.status == 0, "\(verified.output)")
                    // Checked as a SHA-256 chain, the same proof fails.
                    #expect(throws: ChainError.self) {
                        try ProofVerifier.verify(proof: proof, suite: .p256, validatorKeys: keys, quorum: genesis.quorum)
                    }
                }
            }

            // An Ed25519 signature on the SM2 chain is refused with a clear code.
            let tx = try signer.transaction(chain: "sm2-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            var bad = TransactionSubmission(tx)
            bad.signature = Data(try SigningKey.generate(.ed25519).sign(tx.body)).base64EncodedString()
            let (status, refused) = try await HTTP.post(
                urls[0].appendingPathComponent("v1/txs"), Array(try JSONEncoder().encode(bad)))
            #expect(
                status == 401 && refused["error"]?["code"]?.stringValue == "malformed_signature", "\(refused.canonicalString)")
        }
    }
}
