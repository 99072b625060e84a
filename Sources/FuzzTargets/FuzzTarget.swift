import ChainCore
import Consensus
import EPCIS
import Identity

/// The decoders that read bytes from outside the process, each as one entry point that takes any
/// bytes: the coverage-guided fuzzer (`fuzz/`, `scripts/fuzz`) calls them under libFuzzer, and
/// `FuzzCorpusTests` replays the committed corpora (`fuzz/corpus/<name>/`) through the same
/// calls in the normal build (`docs/fuzzing.md`).
///
/// An entry point returns normally for every input: a refusal is a thrown `ChainError`, caught
/// here. A crash, a trap or a hang is the finding.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A validator's message as the consensus driver reads it off the peer network: the channel
    /// byte, then a consensus message (0), a finality signature (1), gossiped transactions (2),
    /// an epoch-change signature (3) or a finality request (4).
    case channel
    /// A consensus message (proposal, vote, timeout, block request and response, commit proof,
    /// proof request), and a consensus block as stored before validation.
    case consensus
    /// A batch of committed blocks served to a node that is catching up (`/v1/sync/blocks`).
    case syncBatch = "sync-batch"
    /// A block's transactions (block payloads, gossip), then each transaction's body.
    case transactionBatch = "transaction-batch"
    /// A transaction body (the JSON bytes a client signs).
    case transactionBody = "transaction-body"
    /// The request body of `POST /v1/txs` (`{"body", "signature", "signer"}`), then the body.
    case submission
    /// The JSON reader of every JSON request body (and of transaction bodies), at the routes'
    /// depth limits, with canonical re-encoding.
    case json
    /// A certificate as DER, then as PEM: swift-certificates, else the SM2 (OpenSSL) path.
    case certificate
    /// An SM2 certificate (DER) through OpenSSL, then its PEM form.
    case sm2Certificate = "sm2-certificate"
    /// An EPCIS 2.0 JSON-LD capture document: JSON, validation, the events' hashes.
    case epcisJSON = "epcis-json"
    /// An EPCIS XML document: the XML reader, the mapping to events, their hashes.
    case epcisXML = "epcis-xml"

    /// Feeds `bytes` to the decoder; returns whether it accepted them.
    @discardableResult
    public func run(_ bytes: [UInt8]) -> Bool {
        switch self {
        case .channel:
            return PeerChannelMessage.decode(bytes, hasher: Self.hasher(bytes)) != nil
        case .consensus:
            let hasher = Self.hasher(bytes)
            let message = try? ConsensusMessage.decode(bytes, hasher: hasher)
            let block = try? ConsensusBlock.decode(bytes, hasher: hasher)
            _ = message?.epoch
            return message != nil || block != nil
        case .syncBatch:
            guard let blocks = try? BlockSyncBatch.decode(bytes, maxTxs: 4096, maxBlockBytes: 2 << 20, hasher: Self.hasher(bytes))
            else { return false }
            for b in blocks {
                _ = b.header.hash
                for t in b.transactions { _ = try? TransactionBody.parse(t.body) }
            }
            return true
        case .transactionBatch:
            guard let txs = try? TransactionBatch.decode(bytes, maxCount: 1024, hasher: Self.hasher(bytes)) else { return false }
            for t in txs { _ = try? TransactionBody.parse(t.body) }
            return true
        case .transactionBody:
            return (try? TransactionBody.parse(bytes)) != nil
        case .submission:
            guard let tx = try? TransactionSubmission.parse(bytes, hasher: Self.hasher(bytes)) else { return false }
            _ = try? TransactionBody.parse(tx.body)
            _ = try? CertificateInfo(der: tx.signerCertificate)
            return true
        case .json:
            var accepted = false
            for depth in [4, 5, 64] {
                if let value = try? JSONParser(maxDepth: depth).parse(bytes) {
                    // What the node stores and hashes must read back as the same value.
                    let again = try? JSONParser(maxDepth: depth).parse(value.canonicalBytes)
                    precondition(again == value, "canonical bytes do not read back as the same JSON value")
                    accepted = true
                }
            }
            return accepted
        case .certificate:
            var accepted = (try? CertificateInfo(der: bytes)) != nil
            if let text = String(validating: bytes, as: UTF8.self) {
                accepted = (try? CertificateInfo(pem: text)) != nil || accepted
            }
            return accepted
        case .sm2Certificate:
            guard let cert = try? SM2Certificate(derRepresentation: bytes) else {
                if let text = String(validating: bytes, as: UTF8.self) {
                    return (try? SM2Certificate(pemRepresentation: text)) != nil
                }
                return false
            }
            _ = cert.isIssued(by: cert)
            return true
        case .epcisJSON:
            guard let value = try? JSONParser().parse(bytes), let document = try? EPCISDocument(value) else { return false }
            for event in document.events { _ = event.hash }
            return true
        case .epcisXML:
            guard let events = try? EPCISXML.events(bytes) else { return false }
            for event in events { _ = event.hash }
            return true
        }
    }

    /// SHA-256 or SM3 by the input's last bit, so both hashers' paths are reached.
    static func hasher(_ bytes: [UInt8]) -> ChainHasher { (bytes.last ?? 0) & 1 == 0 ? .sha256 : .sm3 }
}
