import CSMShim
import ChainCore
import Foundation
import SwiftASN1
import X509

/// The one certificate model of XiangChain: what membership, governance and tools need to know
/// of an X.509 certificate — names, whether it is a CA, validity, fingerprint, its public key,
/// and whether another certificate issued it.
///
/// Two libraries stand behind it, chosen by what the certificate is: swift-certificates for
/// Ed25519 and P-256 certificates, OpenSSL 3 (through `SM2Certificate`) for certificates with an
/// SM2 key or signed with SM2-with-SM3, which swift-certificates does not know. Callers never see
/// which one; `docs/architecture.md` describes the division. Parsing is deterministic, so the
/// `governance` contract may use it.
public struct CertificateInfo: Sendable {
    /// The library that parsed the certificate.
    enum Backing: Sendable {
        case x509(Certificate)
        case sm2(SM2Certificate)
    }

    let backing: Backing
    /// DER bytes.
    public let der: [UInt8]
    /// Lowercase hex SHA-256 of the DER (the fingerprint revocations name, on every suite).
    public let fingerprint: String
    /// Subject O.
    public let org: String?
    /// Subject OU (the role of a member certificate).
    public let unit: String?
    /// Subject CN.
    public let commonName: String?
    /// True for a CA certificate (basicConstraints cA).
    public let isCA: Bool
    /// Start of validity.
    public let notBefore: Date
    /// End of validity.
    public let notAfter: Date

    /// Parses one PEM certificate (`bad_certificate` otherwise).
    public init(pem: String) throws(ChainError) {
        let der = try KeyPEM.certificateDER(fromPEM: pem)
        try self.init(der: der)
    }

    /// Parses DER (`bad_certificate` otherwise): with swift-certificates when it knows the key,
    /// else with OpenSSL as an SM2 certificate.
    public init(der: [UInt8]) throws(ChainError) {
        if let certificate = try? Certificate(derEncoded: der) {
            self.init(certificate: certificate, der: der)
            return
        }
        let sm2: SM2Certificate
        do {
            sm2 = try SM2Certificate(derRepresentation: der)
        } catch {
            throw ChainError(.badCertificate, "not an X.509 certificate of a supported key (Ed25519, P-256, SM2)")
        }
        self.init(sm2)
    }

    /// The model of a certificate swift-certificates parsed.
    public init(certificate: Certificate, der: [UInt8]) {
        backing = .x509(certificate)
        self.der = der
        fingerprint = Hash256.sha256(der).hex
        org = certificate.subjectAttribute(.RDNAttributeType.organizationName)
        unit = certificate.subjectAttribute(.RDNAttributeType.organizationalUnitName)
        commonName = certificate.subjectAttribute(.RDNAttributeType.commonName)
        if let constraints = try? certificate.extensions.basicConstraints, case .isCertificateAuthority = constraints {
            isCA = true
        } else {
            isCA = false
        }
        notBefore = certificate.notValidBefore
        notAfter = certificate.notValidAfter
    }

    /// The model of an SM2 certificate.
    public init(_ certificate: SM2Certificate) {
        backing = .sm2(certificate)
        der = certificate.derRepresentation
        fingerprint = Hex.encode(certificate.sha256Fingerprint)
        org = certificate.subject.organization
        unit = certificate.subject.organizationalUnit
        commonName = certificate.subject.commonName
        isCA = certificate.isCertificateAuthority
        notBefore = certificate.notValidBefore
        notAfter = certificate.notValidAfter
    }

    /// The role named in subject OU, if it is one.
    public var role: Role? { unit.flatMap(Role.init(rawValue:)) }

    /// The certificate as PEM.
    public var pem: String { KeyPEM.certificatePEM(fromDER: der) }

    /// DER bytes (as `der`).
    public func derBytes() -> [UInt8] { der }

    /// The suite of the certificate's key, when it is one of the chain suites.
    public var keySuite: CryptoSuite? { CryptoSuite.allCases.first { publicKey(for: $0) != nil } }

    /// Why a certificate whose key is not sound (`hasSoundKey`) is refused, for messages.
    public static let unsoundKey =
        "an Ed25519 key of small order or with a part of small order, under which signatures prove nothing"

    /// False when the certificate's key is an Ed25519 key outside the group of prime order (of
    /// small order, or with a part of small order: `Ed25519Verification.isSoundPublicKey`): no
    /// private key makes one, and signatures under it prove nothing. Such a key is trusted for
    /// nothing: a CA holding one issues nothing (`isIssued(by:)`), and membership, the genesis and
    /// governance refuse certificates that carry one.
    public var hasSoundKey: Bool {
        guard let key = publicKey(for: .ed25519) else { return true }
        return Ed25519Verification.isSoundPublicKey(key)
    }

    /// True when `issuer` issued this certificate: names match and its key verifies the
    /// signature (SM2-with-SM3 with the default user id when the issuer's key is SM2). Never for
    /// an issuer whose key is not sound (`hasSoundKey`): the certificate library's Ed25519 check
    /// accepts a signature anyone can make under a key of small order.
    public func isIssued(by issuer: CertificateInfo) -> Bool {
        guard issuer.hasSoundKey else { return false }
        switch (backing, issuer.backing) {
        case (.x509(let cert), .x509(let ca)):
            return cert.issuer == ca.subject && ca.publicKey.isValidSignature(cert.signature, for: cert)
        case (.sm2(let cert), .sm2(let ca)):
            return cert.isIssued(by: ca)
        case (.x509, .sm2(let ca)):
            // A certificate of a non-SM2 key signed by an SM2 CA: OpenSSL checks it all the same.
            return gm_certificate_verify_issued_by(
                der, der.count, ca.derRepresentation, ca.derRepresentation.count, SM2.defaultUserID, SM2.defaultUserID.count)
                == GM_OK
        case (.sm2, .x509):
            return false
        }
    }

    /// True when the certificate's key is of `suite`.
    public func hasKey(of suite: CryptoSuite) -> Bool { publicKey(for: suite) != nil }

    /// The raw public key for `suite` (32 bytes for Ed25519, the 65-byte point for P-256 and
    /// SM2), nil when the key is of another algorithm.
    public func publicKey(for suite: CryptoSuite) -> [UInt8]? {
        switch backing {
        case .x509(let cert): return suite == .sm2 ? nil : cert.publicKey.rawBytes(for: suite)
        case .sm2(let cert): return suite == .sm2 ? cert.publicKey.rawRepresentation : nil
        }
    }
}
