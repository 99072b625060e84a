import ChainCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// An organisation's certificate authority: a self-signed root that issues its members'
/// certificates, with the org in subject O and the role in subject OU.
public struct CertificateAuthority: Sendable {
    /// The organisation name.
    public let org: String
    /// The CA's private key.
    public let key: SigningKey
    /// The CA certificate.
    public let certificate: Certificate

    /// Creates a new self-signed CA for `org`.
    public static func create(
        org: String, suite: CryptoSuite, now: Date = Date(), validity: TimeInterval = 10 * 365 * 86400
    ) throws -> CertificateAuthority {
        let key = SigningKey.generate(suite)
        let name = try DistinguishedName {
            OrganizationName(org)
            CommonName("\(org) CA")
        }
        let privateKey = certificatePrivateKey(key)
        let cert = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: privateKey.publicKey,
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(validity),
            issuer: name,
            subject: name,
            signatureAlgorithm: signatureAlgorithm(suite),
            extensions: try Certificate.Extensions {
                // Path length 1: the root may issue intermediate CAs (e.g. of console accounts).
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 1))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: privateKey
        )
        return CertificateAuthority(org: org, key: key, certificate: cert)
    }

    /// Issues an intermediate CA of the same org (e.g. for a node's console accounts), named
    /// `name`, that may issue end-entity certificates only. Its roles are limited on chain, when
    /// the org registers it (`governance.register_issuer`) or lists it in its card.
    public func issueIntermediate(
        name: String, now: Date = Date(), validity: TimeInterval = 5 * 365 * 86400
    ) throws -> CertificateAuthority {
        let key = SigningKey.generate(self.key.suite)
        let subject = try DistinguishedName {
            OrganizationName(org)
            CommonName(name)
        }
        let cert = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: CertificateAuthority.certificatePrivateKey(key).publicKey,
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: min(now.addingTimeInterval(validity), certificate.notValidAfter),
            issuer: certificate.subject,
            subject: subject,
            signatureAlgorithm: CertificateAuthority.signatureAlgorithm(self.key.suite),
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: CertificateAuthority.certificatePrivateKey(self.key)
        )
        return CertificateAuthority(org: org, key: key, certificate: cert)
    }

    /// Loads a CA from its key and certificate PEM.
    public init(org: String, keyPEM: String, certificatePEM: String) throws {
        self.org = org
        self.key = try KeyPEM.decode(keyPEM)
        self.certificate = try Certificate(pemEncoded: certificatePEM)
    }

    /// Loads a CA directory holding `ca.key.pem` and `ca.cert.pem`; the org is the certificate's subject O.
    public init(directory: URL) throws {
        let certPEM = try String(contentsOf: directory.appendingPathComponent("ca.cert.pem"), encoding: .utf8)
        let keyPEM = try String(contentsOf: directory.appendingPathComponent("ca.key.pem"), encoding: .utf8)
        let cert = try Certificate(pemEncoded: certPEM)
        guard let org = cert.subjectAttribute(.RDNAttributeType.organizationName) else {
            throw ChainError(.badCertificate, "the CA certificate in \(directory.path) has no organisation (O)")
        }
        self.org = org
        self.key = try KeyPEM.decode(keyPEM)
        self.certificate = cert
    }

    init(org: String, key: SigningKey, certificate: Certificate) {
        self.org = org
        self.key = key
        self.certificate = certificate
    }

    /// Issues a certificate for `subjectKey` with the given role and account name.
    public func issue(
        role: Role, name: String, subjectKey: SigningKey, now: Date = Date(),
        validity: TimeInterval = 2 * 365 * 86400, dnsNames: [String] = [], ipAddresses: [[UInt8]] = []
    ) throws -> Certificate {
        let subject = try DistinguishedName {
            OrganizationName(org)
            OrganizationalUnitName(role.rawValue)
            CommonName(name)
        }
        let issuerKey = CertificateAuthority.certificatePrivateKey(key)
        let subjectPublic = CertificateAuthority.certificatePrivateKey(subjectKey).publicKey
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: subjectPublic,
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: min(now.addingTimeInterval(validity), certificate.notValidAfter),
            issuer: certificate.subject,
            subject: subject,
            signatureAlgorithm: CertificateAuthority.signatureAlgorithm(key.suite),
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                if !dnsNames.isEmpty || !ipAddresses.isEmpty {
                    SubjectAlternativeNames(
                        dnsNames.map { GeneralName.dnsName($0) }
                            + ipAddresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: $0[...])) })
                }
            },
            issuerPrivateKey: issuerKey
        )
    }

    /// The PEM of the CA certificate.
    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    static func certificatePrivateKey(_ key: SigningKey) -> Certificate.PrivateKey {
        switch key.suite {
        case .ed25519: return Certificate.PrivateKey(key.ed25519Key!)
        case .p256: return Certificate.PrivateKey(key.p256Key!)
        }
    }

    static func signatureAlgorithm(_ suite: CryptoSuite) -> Certificate.SignatureAlgorithm {
        switch suite {
        case .ed25519: return .ed25519
        case .p256: return .ecdsaWithSHA256
        }
    }
}
