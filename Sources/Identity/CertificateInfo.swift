import ChainCore
import Foundation
import SwiftASN1
import X509

/// What governance and tools need to know of a certificate given as PEM: names, whether it is a
/// CA, validity, fingerprint, and whether another certificate issued it. Parsing is
/// deterministic, so the `governance` contract may use it.
public struct CertificateInfo: Sendable {
    let certificate: Certificate
    /// DER bytes.
    public let der: [UInt8]
    /// Lowercase hex SHA-256 of the DER (the fingerprint revocations name).
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

    /// Parses DER (`bad_certificate` otherwise).
    public init(der: [UInt8]) throws(ChainError) {
        do {
            certificate = try Certificate(derEncoded: der)
        } catch {
            throw ChainError(.badCertificate, "not an X.509 certificate")
        }
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

    /// The role named in subject OU, if it is one.
    public var role: Role? { unit.flatMap(Role.init(rawValue:)) }

    /// True when `issuer` issued this certificate (names match and its key verifies the signature).
    public func isIssued(by issuer: CertificateInfo) -> Bool {
        certificate.issuer == issuer.certificate.subject
            && issuer.certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
    }

    /// True when the certificate's key is of `suite`.
    public func hasKey(of suite: CryptoSuite) -> Bool { certificate.publicKey.rawBytes(for: suite) != nil }

    /// The raw public key for `suite`.
    public func publicKey(for suite: CryptoSuite) -> [UInt8]? { certificate.publicKey.rawBytes(for: suite) }
}
