import ChainCore
import Identity
import NIOCore
import NIOSSL

/// A node's own key and the DER of its node certificate, as presented in TLS.
struct NodeCredentials: Sendable {
    let key: SigningKey
    let certificateDER: [UInt8]
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
        do {
            leaf = try NIOSSLCertificate(bytes: identity.certificateDER, format: .der)
        } catch {
            throw ChainError(.badCertificate, "node certificate is not usable for TLS: \(error)")
        }
        do {
            key = try NIOSSLPrivateKey(bytes: Array(KeyPEM.encode(identity.key).utf8), format: .pem)
        } catch {
            throw ChainError(.badKey, "node key is not usable for TLS: \(error)")
        }
        for pem in caCertificatesPEM {
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
