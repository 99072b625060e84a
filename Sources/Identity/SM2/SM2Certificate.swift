import CSMShim
import ChainCore
import Crypto
import Foundation

/// An X.509 certificate with an SM2 public key, parsed by OpenSSL into plain values: the
/// SM2 backing of `CertificateInfo` (swift-certificates does not know SM2).
///
/// The value keeps the DER; every OpenSSL operation parses it afresh, so the value is freely
/// shareable across tasks.
public struct SM2Certificate: Sendable, Hashable {
    /// The DER encoding.
    public let derRepresentation: [UInt8]
    /// X.509 version (3 for every certificate this kit issues).
    public let version: Int
    /// Serial number, big-endian without leading zeros.
    public let serialNumber: [UInt8]
    /// Subject attributes (C, O, OU, CN).
    public let subject: SM2DistinguishedName
    /// Issuer attributes (C, O, OU, CN).
    public let issuer: SM2DistinguishedName
    /// Start of the validity window.
    public let notValidBefore: Date
    /// End of the validity window.
    public let notValidAfter: Date
    /// The subject's SM2 public key.
    public let publicKey: SM2PublicKey
    /// DNS names of the subjectAltName extension.
    public let dnsNames: [String]
    /// IP addresses of the subjectAltName extension, as text (`10.0.0.1`, `::1`).
    public let ipAddresses: [String]
    /// Whether basicConstraints says CA:TRUE.
    public let isCertificateAuthority: Bool
    /// The CA path length constraint, when there is one.
    public let pathLengthConstraint: Int?
    /// Key usage bits, or nil when the extension is absent (any usage).
    public let keyUsage: SM2KeyUsage?
    /// Whether the certificate is signed with SM2-with-SM3 (OID 1.2.156.10197.1.501).
    public let isSignedWithSM2: Bool
    /// SHA-256 of the DER, as most tools show fingerprints.
    public let sha256Fingerprint: [UInt8]
    /// SM3 of the DER.
    public let sm3Fingerprint: [UInt8]

    /// Parses a DER certificate. Throws `bad_certificate` when it does not parse (trailing bytes
    /// included) and `wrong_suite` when its key is not an SM2 key.
    public init(derRepresentation der: [UInt8]) throws(ChainError) {
        var info = gm_cert_info()
        guard gm_certificate_info(der, der.count, &info) == GM_OK else {
            throw ChainError(.badCertificate, "the certificate does not parse as DER X.509")
        }
        guard info.sm2_key == 1 else {
            throw ChainError(.wrongSuite, "the certificate's key is not an SM2 key (id-ecPublicKey on the SM2 curve)")
        }
        let point = withUnsafeBytes(of: info.public_point) { Array($0) }
        derRepresentation = der
        version = Int(info.version)
        notValidBefore = Date(timeIntervalSince1970: TimeInterval(info.not_before))
        notValidAfter = Date(timeIntervalSince1970: TimeInterval(info.not_after))
        isCertificateAuthority = info.is_ca == 1
        pathLengthConstraint = info.has_basic_constraints == 1 && info.path_length >= 0 ? Int(info.path_length) : nil
        keyUsage = info.has_key_usage == 1 ? SM2KeyUsage(rawValue: info.key_usage) : nil
        isSignedWithSM2 = info.sm2_with_sm3 == 1
        publicKey = try SM2PublicKey(rawRepresentation: point)
        serialNumber = try Self.serial(der)
        subject = try Self.name(der, issuer: false)
        issuer = try Self.name(der, issuer: true)
        (dnsNames, ipAddresses) = try Self.alternativeNames(der)
        sha256Fingerprint = Array(SHA256.hash(data: der))
        sm3Fingerprint = SM3.hash(der)
    }

    /// Parses the first "CERTIFICATE" block of a PEM text (a chain may follow it).
    public init(pemRepresentation pem: String) throws(ChainError) {
        let utf8 = Array(pem.utf8)
        var der: UnsafeMutablePointer<UInt8>?
        var count = 0
        guard gm_pem_certificate_to_der(utf8.map { CChar(bitPattern: $0) }, utf8.count, &der, &count) == GM_OK else {
            throw ChainError(.badCertificate, "no PEM \"CERTIFICATE\" block found")
        }
        try self.init(derRepresentation: OpenSSL.take(der, count: count))
    }

    /// The PEM text ("CERTIFICATE").
    public var pemRepresentation: String {
        var pem: UnsafeMutablePointer<CChar>?
        var count = 0
        guard gm_der_certificate_to_pem(derRepresentation, derRepresentation.count, &pem, &count) == GM_OK else {
            preconditionFailure("a parsed certificate failed to re-encode: \(OpenSSL.lastError())")
        }
        return OpenSSL.takeString(pem, count: count)
    }

    /// Whether `date` lies within the validity window.
    public func isValid(at date: Date) -> Bool { notValidBefore <= date && date <= notValidAfter }

    /// Checks that `issuer` issued this certificate: names and key identifiers match, the issuer
    /// may sign certificates, and the SM2-with-SM3 signature verifies under the issuer's key with
    /// `userID`. Validity dates are not checked here (see ``SM2TrustStore``).
    public func verifyIssued(by issuer: SM2Certificate, userID: [UInt8] = SM2.defaultUserID) throws(ChainError) {
        try SM2.checkUserID(userID)
        let status = gm_certificate_verify_issued_by(
            derRepresentation, derRepresentation.count, issuer.derRepresentation, issuer.derRepresentation.count,
            userID, userID.count)
        switch status {
        case GM_OK: return
        case GM_ERR_NOT_ISSUER:
            throw ChainError(
                .unknownCA,
                "\(subject) names issuer \(self.issuer), which is not \(issuer.subject) or whose key identifier differs")
        case GM_ERR_BAD_SIGNATURE:
            throw ChainError(
                .unknownCA, "the signature of \(subject) does not verify under the key of \(issuer.subject)")
        case GM_ERR_ALGORITHM:
            throw ChainError(.wrongSuite, "\(subject) is not signed with SM2-with-SM3")
        case GM_ERR_NOT_SM2:
            throw ChainError(.wrongSuite, "the issuer \(issuer.subject) has no SM2 key")
        case GM_ERR_PARSE: throw ChainError(.badCertificate, "a certificate does not parse")
        default: throw OpenSSL.failure("certificate verification failed")
        }
    }

    /// Whether `issuer` issued this certificate; see ``verifyIssued(by:userID:)``.
    public func isIssued(by issuer: SM2Certificate, userID: [UInt8] = SM2.defaultUserID) -> Bool {
        (try? verifyIssued(by: issuer, userID: userID)) != nil
    }

    /// Certificates are equal when their DER is.
    public static func == (lhs: SM2Certificate, rhs: SM2Certificate) -> Bool {
        lhs.derRepresentation == rhs.derRepresentation
    }

    /// Hashes the DER.
    public func hash(into hasher: inout Hasher) { hasher.combine(derRepresentation) }

    private static func serial(_ der: [UInt8]) throws(ChainError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        var count = 0
        guard gm_certificate_serial(der, der.count, &out, &count) == GM_OK else {
            throw ChainError(.badCertificate, "the serial number does not parse")
        }
        return OpenSSL.take(out, count: count)
    }

    static func name(_ der: [UInt8], issuer: Bool) throws(ChainError) -> SM2DistinguishedName {
        func entry(_ field: String) throws(ChainError) -> String? {
            var out: UnsafeMutablePointer<CChar>?
            var count = 0
            guard gm_certificate_name_entry(der, der.count, issuer ? 1 : 0, field, &out, &count) == GM_OK else {
                throw ChainError(.badCertificate, "the \(issuer ? "issuer" : "subject") attribute \(field) does not parse")
            }
            guard out != nil else { return nil }
            return OpenSSL.takeString(out, count: count)
        }
        return SM2DistinguishedName(
            country: try entry("C"), organization: try entry("O"), organizationalUnit: try entry("OU"),
            commonName: try entry("CN"))
    }

    private static func alternativeNames(_ der: [UInt8]) throws(ChainError) -> (dns: [String], ip: [String]) {
        var out: UnsafeMutablePointer<UInt8>?
        var count = 0
        guard gm_certificate_sans(der, der.count, &out, &count) == GM_OK else {
            throw ChainError(.badCertificate, "the subjectAltName extension does not parse")
        }
        let records = OpenSSL.take(out, count: count)
        var dns: [String] = []
        var ip: [String] = []
        var index = 0
        while index + 3 <= records.count {
            let kind = records[index]
            let length = Int(records[index + 1]) << 8 | Int(records[index + 2])
            let end = index + 3 + length
            guard end <= records.count else { break }
            let text = String(decoding: records[(index + 3)..<end], as: UTF8.self)
            if kind == UInt8(ascii: "D") { dns.append(text) } else { ip.append(text) }
            index = end
        }
        return (dns, ip)
    }
}
