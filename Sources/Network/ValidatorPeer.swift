import ChainCore
import Identity
import NIOSSL

/// A validator as the network knows it: its node id, the exact certificate it must present, and
/// where to dial it.
public struct ValidatorPeer: Sendable, Hashable {
    /// The node id (the CN of its node certificate).
    public let nodeId: String
    /// The DER bytes of its node certificate; a peer is accepted only when its TLS leaf equals these.
    public let certificateDER: [UInt8]
    /// SHA-256 of `certificateDER`.
    public let fingerprint: Hash256
    /// Where it listens for peers; nil when this node should only wait for it to dial.
    public let address: PeerAddress?
    /// The SM2 key of its node certificate (on an `sm2` chain), which certifies its transport key.
    let sm2PublicKey: [UInt8]?

    /// A validator from its certificate DER; fails unless the certificate is a node certificate
    /// (subject OU `node`) whose CN is `nodeId`.
    public init(nodeId: String, certificateDER: [UInt8], address: PeerAddress?) throws(ChainError) {
        let certificate: CertificateInfo
        do {
            certificate = try CertificateInfo(der: certificateDER)
        } catch {
            throw ChainError(.badCertificate, "certificate of validator \(nodeId) does not parse as X.509")
        }
        let commonName = certificate.commonName
        let unit = certificate.unit
        guard commonName == nodeId else {
            throw ChainError(.badValidator, "certificate CN of validator \(nodeId) is not its node id")
        }
        guard unit == Role.node.rawValue else {
            throw ChainError(.badValidator, "certificate of validator \(nodeId) does not carry the node role")
        }
        guard !nodeId.isEmpty, nodeId.utf8.count <= PeerHello.maxNameLength else {
            throw ChainError(.badValidator, "node id must be 1–\(PeerHello.maxNameLength) bytes")
        }
        self.nodeId = nodeId
        self.certificateDER = certificateDER
        self.fingerprint = Hash256.sha256(certificateDER)
        self.address = address
        self.sm2PublicKey = certificate.publicKey(for: .sm2)
    }

    /// A validator from its genesis entry: node id, certificate PEM and `host:port` address (nil: do not dial).
    public init(nodeId: String, certificatePEM: String, address: String?) throws(ChainError) {
        let der = try KeyPEM.certificateDER(fromPEM: certificatePEM)
        let parsed: PeerAddress?
        if let address { parsed = try PeerAddress(parsing: address) } else { parsed = nil }
        try self.init(nodeId: nodeId, certificateDER: der, address: parsed)
    }

    /// The same validator at another address.
    public func with(address: PeerAddress?) -> ValidatorPeer {
        ValidatorPeer(
            unchecked: nodeId, certificateDER: certificateDER, fingerprint: fingerprint, address: address,
            sm2PublicKey: sm2PublicKey)
    }

    private init(
        unchecked nodeId: String, certificateDER: [UInt8], fingerprint: Hash256, address: PeerAddress?, sm2PublicKey: [UInt8]?
    ) {
        self.nodeId = nodeId
        self.certificateDER = certificateDER
        self.fingerprint = fingerprint
        self.address = address
        self.sm2PublicKey = sm2PublicKey
    }
}

extension String {
    /// Byte-wise order of the UTF-8 forms: the dial tie-break, identical in every implementation.
    func precedesAsNodeId(_ other: String) -> Bool {
        utf8.lexicographicallyPrecedes(other.utf8)
    }
}
