import ChainCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// An organisation's certificate authority: a self-signed root that issues its members'
/// certificates, with the org in subject O and the role in subject OU.
///
/// Ed25519 and P-256 CAs build certificates with swift-certificates; SM2 CAs with OpenSSL
/// (`SM2CertificateAuthority`, SM2-with-SM3 signatures). Both hand out the one certificate model,
/// `CertificateInfo`, with the same subject layout and extensions.
public struct CertificateAuthority: Sendable {
    /// The organisation name.
    public let org: String
    /// The CA's private key.
    public let key: SigningKey
    /// The CA certificate.
    public let certificate: CertificateInfo

    /// Creates a new self-signed CA for `org`.
    public static func create(
        org: String, suite: CryptoSuite, now: Date = Date(), validity: TimeInterval = 10 * 365 * 86400
    ) throws -> CertificateAuthority {
        let key = SigningKey.generate(suite)
        if let sm2 = key.sm2Key {
            // Path length 1: the root may issue intermediate CAs (e.g. of console accounts).
            let ca = try SM2CertificateAuthority.createRoot(
                subject: SM2DistinguishedName(organization: org, commonName: "\(org) CA"), key: sm2,
                notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(validity),
                maxPathLength: 1)
            return CertificateAuthority(org: org, key: key, certificate: CertificateInfo(ca.certificate))
        }
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
        return CertificateAuthority(org: org, key: key, certificate: CertificateInfo(certificate: cert, der: try cert.derBytes()))
    }

    /// Issues an intermediate CA of the same org (e.g. for a node's console accounts), named
    /// `name`, that may issue end-entity certificates only. Its roles are limited on chain, when
    /// the org registers it (`governance.register_issuer`) or lists it in its card.
    public func issueIntermediate(
        name: String, now: Date = Date(), validity: TimeInterval = 5 * 365 * 86400
    ) throws -> CertificateAuthority {
        let key = SigningKey.generate(self.key.suite)
        let notAfter = min(now.addingTimeInterval(validity), certificate.notAfter)
        switch (certificate.backing, self.key.sm2Key, key.sm2Key) {
        case (.sm2(let cert), .some(let caKey), .some(let subjectKey)):
            let intermediate = try SM2CertificateAuthority(key: caKey, certificate: cert).issueIntermediate(
                key: subjectKey, subject: SM2DistinguishedName(organization: org, commonName: name),
                notValidBefore: now.addingTimeInterval(-300), notValidAfter: notAfter, maxPathLength: 0)
            return CertificateAuthority(org: org, key: key, certificate: CertificateInfo(intermediate.certificate))
        case (.x509(let cert), _, _):
            let subject = try DistinguishedName {
                OrganizationName(org)
                CommonName(name)
            }
            let issued = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: CertificateAuthority.certificatePrivateKey(key).publicKey,
                notValidBefore: now.addingTimeInterval(-300),
                notValidAfter: notAfter,
                issuer: cert.subject,
                subject: subject,
                signatureAlgorithm: CertificateAuthority.signatureAlgorithm(self.key.suite),
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                },
                issuerPrivateKey: CertificateAuthority.certificatePrivateKey(self.key)
            )
            return CertificateAuthority(
                org: org, key: key, certificate: CertificateInfo(certificate: issued, der: try issued.derBytes()))
        default:
            throw ChainError(.badKey, "the CA key of \(org) does not match its certificate's algorithm")
        }
    }

    /// Loads a CA from its key and certificate PEM.
    public init(org: String, keyPEM: String, certificatePEM: String) throws {
        self.org = org
        self.key = try KeyPEM.decode(keyPEM)
        self.certificate = try CertificateInfo(pem: certificatePEM)
        try checkKey()
    }

    /// Loads a CA directory holding `ca.key.pem` and `ca.cert.pem`; the org is the certificate's subject O.
    public init(directory: URL) throws {
        let certPEM = try String(contentsOf: directory.appendingPathComponent("ca.cert.pem"), encoding: .utf8)
        let keyPEM = try String(contentsOf: directory.appendingPathComponent("ca.key.pem"), encoding: .utf8)
        let cert = try CertificateInfo(pem: certPEM)
        guard let org = cert.org else {
            throw ChainError(.badCertificate, "the CA certificate in \(directory.path) has no organisation (O)")
        }
        self.org = org
        self.key = try KeyPEM.decode(keyPEM)
        self.certificate = cert
        try checkKey()
    }

    init(org: String, key: SigningKey, certificate: CertificateInfo) {
        self.org = org
        self.key = key
        self.certificate = certificate
    }

    private func checkKey() throws(ChainError) {
        guard certificate.publicKey(for: key.suite) == key.publicKeyBytes else {
            throw ChainError(.badKey, "the CA key of \(org) does not belong to its certificate")
        }
        guard certificate.hasSoundKey else {
            throw ChainError(
                .badCertificate,
                "the CA certificate of \(org) carries \(CertificateInfo.unsoundKey)"
            )
        }
    }

    /// Issues a certificate for `subjectKey` with the given role and account name.
    public func issue(
        role: Role, name: String, subjectKey: SigningKey, now: Date = Date(),
        validity: TimeInterval = 2 * 365 * 86400, dnsNames: [String] = [], ipAddresses: [[UInt8]] = []
    ) throws -> CertificateInfo {
        let notAfter = min(now.addingTimeInterval(validity), certificate.notAfter)
        switch (certificate.backing, key.sm2Key) {
        case (.sm2(let cert), .some(let caKey)):
            guard let subject = subjectKey.sm2Key else {
                throw ChainError(.wrongSuite, "an SM2 CA issues certificates for SM2 keys only")
            }
            let issued = try SM2CertificateAuthority(key: caKey, certificate: cert).issue(
                publicKey: subject.publicKey,
                subject: SM2DistinguishedName(organization: org, organizationalUnit: role.rawValue, commonName: name),
                dnsNames: dnsNames, ipAddresses: try ipAddresses.map(Self.ipText),
                notValidBefore: now.addingTimeInterval(-300), notValidAfter: notAfter)
            return CertificateInfo(issued)
        case (.x509(let cert), _):
            // An Ed25519 CA may certify a P-256 key and the other way round (membership then
            // refuses a key of another suite than the chain's); swift-certificates has no SM2 keys.
            guard subjectKey.suite != .sm2 else {
                throw ChainError(.wrongSuite, "a \(key.suite.rawValue) CA cannot certify an SM2 key")
            }
            let subject = try DistinguishedName {
                OrganizationName(org)
                OrganizationalUnitName(role.rawValue)
                CommonName(name)
            }
            let issuerKey = CertificateAuthority.certificatePrivateKey(key)
            let subjectPublic = CertificateAuthority.certificatePrivateKey(subjectKey).publicKey
            let issued = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: subjectPublic,
                notValidBefore: now.addingTimeInterval(-300),
                notValidAfter: notAfter,
                issuer: cert.subject,
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
            return CertificateInfo(certificate: issued, der: try issued.derBytes())
        default:
            throw ChainError(.badKey, "the CA key of \(org) does not match its certificate's algorithm")
        }
    }

    /// The PEM of the CA certificate.
    public var certificatePEM: String {
        get throws { certificate.pem }
    }

    /// An IPv4 (4 bytes) or IPv6 (16 bytes) address as text, for OpenSSL's subjectAltName syntax.
    static func ipText(_ bytes: [UInt8]) throws(ChainError) -> String {
        switch bytes.count {
        case 4: return bytes.map(String.init).joined(separator: ".")
        case 16:
            return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        default: throw ChainError(.malformed, "an IP address is 4 or 16 bytes, not \(bytes.count)")
        }
    }

    static func certificatePrivateKey(_ key: SigningKey) -> Certificate.PrivateKey {
        switch key.suite {
        case .ed25519: return Certificate.PrivateKey(key.ed25519Key!)
        case .p256: return Certificate.PrivateKey(key.p256Key!)
        case .sm2: preconditionFailure("swift-certificates has no SM2 keys: SM2 CAs go through SM2CertificateAuthority")
        }
    }

    static func signatureAlgorithm(_ suite: CryptoSuite) -> Certificate.SignatureAlgorithm {
        switch suite {
        case .ed25519: return .ed25519
        case .p256: return .ecdsaWithSHA256
        case .sm2: preconditionFailure("swift-certificates has no SM2-with-SM3: SM2 CAs go through SM2CertificateAuthority")
        }
    }
}
