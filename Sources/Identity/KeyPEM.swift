import ChainCore
import Crypto
import SwiftASN1
import Synchronization
import X509

/// PKCS#8 PEM files for signing keys, and PEM/DER conversion for certificates.
public enum KeyPEM {
    /// The fixed DER prefix of an Ed25519 PKCS#8 private key (RFC 8410), followed by the 32-byte seed.
    static let ed25519PKCS8Prefix: [UInt8] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]

    /// PKCS#8 PEM ("PRIVATE KEY") of a signing key.
    public static func encode(_ key: SigningKey) -> String {
        switch key.suite {
        case .ed25519:
            let der = ed25519PKCS8Prefix + key.rawPrivateKey
            return PEMDocument(type: "PRIVATE KEY", derBytes: der).pemString
        case .p256:
            return key.p256Key!.pemRepresentation
        case .sm2:
            // id-ecPublicKey on the SM2 curve (1.2.156.10197.1.301), as OpenSSL 3 writes it.
            return key.sm2Key!.pemRepresentation
        }
    }

    /// The DER of the OID of the SM2 curve, 1.2.156.10197.1.301.
    static let sm2CurveOID: [UInt8] = [0x06, 0x08, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D]

    /// Reads a PKCS#8 PEM private key (Ed25519, P-256 or SM2).
    public static func decode(_ pem: String) throws(ChainError) -> SigningKey {
        let doc: PEMDocument
        do {
            doc = try PEMDocument(pemString: pem)
        } catch {
            throw ChainError(.badKey, "not a PEM document")
        }
        guard doc.discriminator == "PRIVATE KEY" else {
            throw ChainError(.badKey, "expected a PKCS#8 \"PRIVATE KEY\" PEM, got \"\(doc.discriminator)\"")
        }
        let der = doc.derBytes
        if der.count == 48, Array(der.prefix(16)) == ed25519PKCS8Prefix {
            return try SigningKey(ed25519Seed: Array(der.suffix(32)))
        }
        // An EC key on the SM2 curve (1.2.156.10197.1.301) goes to OpenSSL: BoringSSL would
        // read the scalar as a P-256 key.
        if der.firstRange(of: sm2CurveOID) != nil {
            guard let key = try? SM2PrivateKey(pemRepresentation: pem) else {
                throw ChainError(.badKey, "an SM2 private key that does not parse")
            }
            return SigningKey(key)
        }
        if let key = try? P256.Signing.PrivateKey(derRepresentation: der) {
            return SigningKey(key)
        }
        throw ChainError(.badKey, "unsupported private key (expected Ed25519, P-256 or SM2)")
    }

    /// The DER bytes of the first certificate in a PEM string (a chain may follow it).
    ///
    /// Every submission names its signer by a PEM certificate, and a chain's submissions come
    /// from few signers: the DER of the last `certificateCacheSize` PEM strings read is kept
    /// (by the exact text; what is refused is never kept), which saves the PEM parse and base64
    /// decode of each (~1 % of a validator's CPU at the peak, `docs/performance.md`). Only texts
    /// of at most `maxCachedPEMBytes` are kept: the signer field comes from anyone who submits,
    /// and the memory it may take stays ~2 MiB.
    public static func certificateDER(fromPEM pem: String) throws(ChainError) -> [UInt8] {
        guard pem.utf8.count <= maxCachedPEMBytes else { return try parseCertificateDER(fromPEM: pem) }
        if let known = certificateCache.withLock({ $0[pem] }) { return known }
        let der = try parseCertificateDER(fromPEM: pem)
        certificateCache.withLock { cache in
            if cache.count >= certificateCacheSize { cache.removeAll(keepingCapacity: true) }
            cache[pem] = der
        }
        return der
    }

    /// Most PEM strings whose DER `certificateDER(fromPEM:)` keeps.
    static let certificateCacheSize = 256
    /// Longest PEM text `certificateDER(fromPEM:)` keeps (a certificate's PEM is ~1 KiB).
    static let maxCachedPEMBytes = 8 * 1024
    static let certificateCache = Mutex<[String: [UInt8]]>([:])

    private static func parseCertificateDER(fromPEM pem: String) throws(ChainError) -> [UInt8] {
        let doc: PEMDocument
        do {
            guard let first = try PEMDocument.parseMultiple(pemString: pem).first else {
                throw ChainError(.badCertificate, "signer holds no PEM block")
            }
            doc = first
        } catch {
            throw ChainError(.badCertificate, "signer is not a PEM certificate")
        }
        guard doc.discriminator == "CERTIFICATE" else {
            throw ChainError(.badCertificate, "expected a \"CERTIFICATE\" PEM, got \"\(doc.discriminator)\"")
        }
        return doc.derBytes
    }

    /// PEM text of DER certificate bytes.
    public static func certificatePEM(fromDER der: [UInt8]) -> String {
        PEMDocument(type: "CERTIFICATE", derBytes: der).pemString
    }
}

extension Certificate.PublicKey {
    /// The raw key bytes for `suite`, or nil when the key is of another algorithm.
    func rawBytes(for suite: CryptoSuite) -> [UInt8]? {
        switch suite {
        case .ed25519: return Curve25519.Signing.PublicKey(self).map { Array($0.rawRepresentation) }
        case .p256: return P256.Signing.PublicKey(self).map { Array($0.x963Representation) }
        case .sm2: return nil  // swift-certificates has no SM2; such certificates are SM2Certificate
        }
    }
}

extension Certificate {
    /// First value of an attribute in the subject, as a string.
    func subjectAttribute(_ type: ASN1ObjectIdentifier) -> String? {
        for rdn in subject {
            for attr in rdn where attr.type == type {
                return String(attr.value)
            }
        }
        return nil
    }

    /// DER bytes of this certificate.
    public func derBytes() throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(self)
        return serializer.serializedBytes
    }
}

extension KeyPEM {
    /// The raw public key of a PEM certificate, for `suite`.
    public static func publicKey(certificatePEM pem: String, suite: CryptoSuite) throws(ChainError) -> [UInt8] {
        let cert = try CertificateInfo(pem: pem)
        guard let key = cert.publicKey(for: suite) else {
            throw ChainError(.wrongSuite, "certificate key is not a \(suite.rawValue) key")
        }
        return key
    }
}
