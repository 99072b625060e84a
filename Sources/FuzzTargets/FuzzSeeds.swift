import ChainCore
import Consensus
import Foundation
import Identity

/// Valid inputs of each decoder, made with the real encoders, that start a fuzzing corpus
/// (`scripts/fuzz seed`); EPCIS documents come from the reference examples instead.
public enum FuzzSeeds {
    /// Signs with a fixed byte string: the decoders never check signatures.
    struct SeedCrypto: ConsensusCrypto {
        let selfID: String
        let hasher: ChainHasher
        func sign(_ message: [UInt8]) -> [UInt8] { [UInt8](repeating: 0x5a, count: 64) }
        func verify(signer: String, message: [UInt8], signature: [UInt8]) -> Bool { true }
    }

    /// The seeds of `target` (empty for the EPCIS targets).
    public static func seeds(for target: FuzzTarget) throws -> [[UInt8]] {
        switch target {
        case .channel:
            let transactions = try transactionSeeds()
            return try consensusMessages().map { [0] + $0 }
                + [
                    .finality(height: 7, headerHash: Hash256.sha256([1]), signature: [UInt8](repeating: 3, count: 64)),
                    .transactions(transactions), .epochSignature(epoch: 2, signature: [UInt8](repeating: 4, count: 64)),
                    .finalityRequest(from: 1, count: 256),
                ].map { (m: PeerChannelMessage) in m.encoded }
        case .consensus:
            return try consensusMessages()
        case .syncBatch:
            let transactions = try transactionSeeds()
            let header = BlockHeader(
                chainId: "fuzz", height: 3, parentHash: Hash256.sha256([2]), timestamp: 1_700_000_000_000, proposer: "node1",
                txCount: UInt32(transactions.count), txRoot: Hash256.sha256([3]), execHeight: 2,
                resultRoot: Hash256.sha256([4]), stateHash: Hash256.sha256([5]), hasher: .sha256)
            let signatures = [
                ValidatorSignature(validator: "node1", signature: [UInt8](repeating: 1, count: 64)),
                ValidatorSignature(validator: "node2", signature: [UInt8](repeating: 2, count: 64)),
            ]
            let block = Block(header: header, transactions: transactions, signatures: signatures)
            return [BlockSyncBatch.encode([]), BlockSyncBatch.encode([block]), BlockSyncBatch.encode([block, block])]
        case .transactionBatch:
            let transactions = try transactionSeeds()
            return [TransactionBatch.encode([]), TransactionBatch.encode(transactions)]
        case .transactionBody:
            return try transactionSeeds().map(\.body)
        case .submission:
            return try transactionSeeds().map { tx in
                let envelope = TransactionSubmission(tx)
                return JSONValue.object([
                    "body": .string(envelope.body), "signature": .string(envelope.signature), "signer": .string(envelope.signer),
                ]).canonicalBytes
            }
        case .json:
            return [
                Array(#"{"txs":[{"body":"e30=","signature":"AA==","signer":"x"}]}"#.utf8),
                Array(#"{"a":[1,-2.5e-3,true,false,null,"\u00e9\ud83e\udd80\n"],"b":{"c":{}}}"#.utf8),
                Array(#"[0,1E+2,"x",{"":[]}]"#.utf8),
            ]
        case .certificate:
            return try certificateSeeds(suites: CryptoSuite.allCases)
        case .sm2Certificate:
            return try certificateSeeds(suites: [.sm2])
        case .epcisJSON, .epcisXML:
            return []
        }
    }

    /// Signed transactions of each suite, with bodies of several shapes.
    static func transactionSeeds() throws -> [SignedTransaction] {
        var out: [SignedTransaction] = []
        for suite in CryptoSuite.allCases {
            let ca = try CertificateAuthority.create(org: "FuzzOrg", suite: suite)
            let key = SigningKey.generate(suite)
            let cert = try ca.issue(role: .farm, name: "fuzzer", subjectKey: key)
            let identity = SigningIdentity(key: key, certificate: cert)
            out.append(
                try identity.transaction(
                    chain: "fuzz", contract: "evidence", method: "notarize",
                    args: .object(["hash": .string(String(repeating: "ab", count: 32)), "note": .string("蟹 crab")]),
                    nonce: "n-\(suite.rawValue)", timestamp: 1_700_000_000_000))
        }
        return out
    }

    /// A message of every kind, in both wire versions.
    static func consensusMessages() throws -> [[UInt8]] {
        let crypto = SeedCrypto(selfID: "node1", hasher: .sha256)
        let genesis = QuorumCertificate.genesis(Hash256.sha256([0]))
        let payload = TransactionBatch.encode(try transactionSeeds())
        var messages: [ConsensusMessage] = []
        for epoch: UInt64 in [0, 3] {
            let root = epoch == 0 ? genesis : QuorumCertificate.root(epoch: epoch, blockID: Hash256.sha256([9]), height: 10)
            let block = ConsensusBlock(round: 1, parent: root, payload: payload, timestamp: 1_700_000_000_000, crypto: crypto)
            let data = VoteData(
                epoch: epoch, blockID: block.id, round: 1, height: block.height, parentID: root.blockID, parentRound: 0)
            let sigs = ["node1", "node2", "node3"].map {
                SignerSignature(signer: $0, signature: [UInt8](repeating: 7, count: 64))
            }
            let qc = QuorumCertificate(data: data, votes: sigs)
            let tc = TimeoutCertificate(
                epoch: epoch, round: 2,
                entries: ["node1", "node2", "node3"].map {
                    TimeoutSignature(signer: $0, highQCRound: 1, signature: [UInt8](repeating: 8, count: 64))
                })
            let next = ConsensusBlock(round: 3, parent: qc, payload: [], timestamp: 1_700_000_001_000, crypto: crypto)
            messages += [
                .proposal(block, tc: nil),
                .proposal(next, tc: tc),
                .vote(Vote(data: data, signer: "node2", signature: [UInt8](repeating: 6, count: 64))),
                .timeout(
                    TimeoutMessage(round: 2, highQC: qc, signer: "node2", signature: [UInt8](repeating: 5, count: 64)), tc: tc),
                .blockRequest(id: block.id, count: 4),
                .blockResponse([next, block]),
                .commitProof(qc),
                .proofRequest(epoch: epoch),
            ]
        }
        return messages.map(\.encoded)
    }

    /// CA and member certificates of the given suites, as DER and as PEM.
    static func certificateSeeds(suites: [CryptoSuite]) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        for suite in suites {
            let ca = try CertificateAuthority.create(org: "FuzzOrg", suite: suite)
            let node = try ca.issue(
                role: .node, name: "node1", subjectKey: SigningKey.generate(suite), dnsNames: ["node1.example"],
                ipAddresses: [[127, 0, 0, 1]])
            for cert in [ca.certificate, node] {
                out.append(cert.der)
                out.append(Array(KeyPEM.certificatePEM(fromDER: cert.der).utf8))
            }
        }
        return out
    }
}
