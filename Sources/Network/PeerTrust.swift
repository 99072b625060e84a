import ChainCore
import Crypto
import Foundation
import Identity
import NIOCore
import NIOSSL
import X509

/// A node's own key and the DER of its node certificate, as presented in TLS — or, on an `sm2`
/// chain, its transport key and certificate in TLS and the node key's binding in the hello.
struct NodeCredentials: Sendable {
    let key: SigningKey
    let certificateDER: [UInt8]
    /// On an `sm2` chain: the TLS key the node key certifies (BoringSSL has no SM2).
    let transport: TransportCredentials?

    init(key: SigningKey, certificateDER: [UInt8]) throws(ChainError) {
        self.key = key
        self.certificateDER = certificateDER
        transport = key.suite == .sm2 ? try TransportCredentials.generate() : nil
    }

    /// The hello's binding: the node key's signature over the transport certificate, for this
    /// chain and node id; empty when TLS uses the node certificate itself.
    func binding(chainId: String, nodeId: String) throws(ChainError) -> [UInt8] {
        guard let transport else { return [] }
        do {
            return try key.sign(
                TransportCredentials.bindingMessage(chainId: chainId, nodeId: nodeId, certificateDER: transport.certificateDER))
        } catch {
            throw ChainError(.tlsSetupFailed, "cannot sign the transport binding: \(error)")
        }
    }
}

/// The TLS key of a node of an `sm2` chain: a fresh P-256 key with a self-signed certificate,
/// made at start. The node's SM2 key signs `bindingMessage` over it; peers accept the TLS leaf
/// only with that signature, verified under the validator's SM2 key (`docs/network.md`).
struct TransportCredentials: Sendable {
    /// PKCS#8 PEM of the P-256 key.
    let keyPEM: String
    /// DER of the self-signed certificate.
    let certificateDER: [UInt8]

    static let domain = Array("XIANGCHAIN-TRANSPORT-V1".utf8)

    /// `XIANGCHAIN-TRANSPORT-V1 ‖ chain id ‖ node id ‖ SHA-256(certificate DER)`, strings u32-length-prefixed.
    static func bindingMessage(chainId: String, nodeId: String, certificateDER: [UInt8]) -> [UInt8] {
        var w = BinaryWriter()
        w.string(chainId)
        w.string(nodeId)
        return domain + w.bytes + Hash256.sha256(certificateDER).bytes
    }

    static func generate(now: Date = Date()) throws(ChainError) -> TransportCredentials {
        let key = P256.Signing.PrivateKey()
        do {
            let name = try DistinguishedName { CommonName("xiangchain transport") }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(),
                publicKey: Certificate.PublicKey(key.publicKey), notValidBefore: now.addingTimeInterval(-300),
                notValidAfter: now.addingTimeInterval(10 * 365 * 86400), issuer: name, subject: name,
                signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
                issuerPrivateKey: Certificate.PrivateKey(key))
            return TransportCredentials(keyPEM: key.pemRepresentation, certificateDER: try certificate.derBytes())
        } catch {
            throw ChainError(.tlsSetupFailed, "cannot make the transport certificate: \(error)")
        }
    }
}

/// Who may connect, and the TLS contexts that enforce it: the org CAs as trust roots, and the exact
/// certificates of the current validators as the only acceptable peer leaves.
struct PeerTrust: Sendable {
    /// Signature algorithms offered and accepted in the TLS 1.3 handshake: both chain suites.
    static let signatureAlgorithms: [SignatureAlgorithm] = [.ed25519, .ecdsaSecp256R1Sha256]

    /// Every validator of the current set, this node included, by node id.
    let validators: [String: ValidatorPeer]
    /// Node id by certificate fingerprint.
    let nodeIdByFingerprint: [Hash256: String]
    /// Context for connections this node accepts.
    let serverContext: NIOSSLContext
    /// Context for connections this node dials.
    let clientContext: NIOSSLContext
    /// True on an `sm2` chain: TLS runs on transport keys (any leaf passes the TLS handshake) and
    /// a peer is identified by the SM2-signed binding in its hello.
    let usesTransportBinding: Bool

    /// Builds the trust for `identity` among `validators`, with `caCertificatesPEM` as the only roots.
    init(
        identity: NodeCredentials, caCertificatesPEM: [String], validators: [ValidatorPeer], tlsShutdownTimeout: Duration
    ) throws(ChainError) {
        var byId: [String: ValidatorPeer] = [:]
        var byFingerprint: [Hash256: String] = [:]
        for v in validators {
            guard byId[v.nodeId] == nil else { throw ChainError(.badValidator, "validator \(v.nodeId) is listed twice") }
            guard byFingerprint[v.fingerprint] == nil else {
                throw ChainError(
                    .badValidator, "validators \(byFingerprint[v.fingerprint] ?? "") and \(v.nodeId) share a certificate")
            }
            byId[v.nodeId] = v
            byFingerprint[v.fingerprint] = v.nodeId
        }
        guard !caCertificatesPEM.isEmpty else { throw ChainError(.badTrustRoots, "no CA certificates to trust") }
        self.validators = byId
        self.nodeIdByFingerprint = byFingerprint

        let leaf: NIOSSLCertificate
        let key: NIOSSLPrivateKey
        var roots: [NIOSSLCertificate] = []
        usesTransportBinding = identity.transport != nil
        do {
            leaf = try NIOSSLCertificate(bytes: identity.transport?.certificateDER ?? identity.certificateDER, format: .der)
        } catch {
            throw ChainError(.badCertificate, "node certificate is not usable for TLS: \(error)")
        }
        do {
            key = try NIOSSLPrivateKey(
                bytes: Array((identity.transport?.keyPEM ?? KeyPEM.encode(identity.key)).utf8), format: .pem)
        } catch {
            throw ChainError(.badKey, "node key is not usable for TLS: \(error)")
        }
        // On an sm2 chain BoringSSL can read neither the SM2 CAs nor the peers' certificates:
        // the handshake's custom verification takes any leaf, and the hello's binding decides.
        if usesTransportBinding { roots = [leaf] }
        for pem in caCertificatesPEM where !usesTransportBinding {
            let der = try KeyPEM.certificateDER(fromPEM: pem)
            do {
                roots.append(try NIOSSLCertificate(bytes: der, format: .der))
            } catch {
                throw ChainError(.badTrustRoots, "a CA certificate is not usable for TLS: \(error)")
            }
        }

        var server = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: [.certificate(leaf)], privateKey: .privateKey(key), trustRoots: .certificates(roots))
        var client = TLSConfiguration.makeClientConfiguration()
        client.certificateChain = [.certificate(leaf)]
        client.privateKey = .privateKey(key)
        client.trustRoots = .certificates(roots)
        // Peers are identified by their pinned certificate, not by host name.
        client.certificateVerification = .noHostnameVerification
        Self.harden(&server, shutdownTimeout: tlsShutdownTimeout)
        Self.harden(&client, shutdownTimeout: tlsShutdownTimeout)
        do {
            serverContext = try NIOSSLContext(configuration: server)
            clientContext = try NIOSSLContext(configuration: client)
        } catch {
            throw ChainError(.tlsSetupFailed, "cannot build the TLS contexts: \(error)")
        }
    }

    private static func harden(_ config: inout TLSConfiguration, shutdownTimeout: Duration) {
        config.minimumTLSVersion = .tlsv13
        config.maximumTLSVersion = .tlsv13
        config.verifySignatureAlgorithms = signatureAlgorithms
        config.signingSignatureAlgorithms = signatureAlgorithms
        config.renegotiationSupport = .none
        config.shutdownTimeout = TimeAmount(shutdownTimeout)
    }

    /// The validator holding the certificate with these DER bytes, if any.
    func validator(certificateDER der: [UInt8]) -> ValidatorPeer? {
        nodeIdByFingerprint[Hash256.sha256(der)].flatMap { validators[$0] }
    }
}
