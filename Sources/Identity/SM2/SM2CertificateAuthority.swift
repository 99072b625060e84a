import CSMShim
import ChainCore
import Foundation

/// A certificate authority with an SM2 key: a self-signed root or an intermediate, issuing
/// certificates signed with SM2-with-SM3 through OpenSSL.
///
/// Every certificate it issues carries basicConstraints and keyUsage (critical), subject and
/// authority key identifiers, and a random 128-bit serial number.
public struct SM2CertificateAuthority: Sendable {
    /// The CA's private key.
    public let key: SM2PrivateKey
    /// The CA's certificate.
    public let certificate: SM2Certificate
    /// The SM2 user id its signatures are made with (GM/T 0009's default unless told otherwise).
    public let userID: [UInt8]

    /// A CA from its key and certificate; throws unless the key belongs to the certificate and the
    /// certificate is a CA certificate.
    public init(key: SM2PrivateKey, certificate: SM2Certificate, userID: [UInt8] = SM2.defaultUserID) throws(ChainError) {
        try SM2.checkUserID(userID)
        guard key.publicKey == certificate.publicKey else {
            throw ChainError(.badKey, "the private key does not belong to the certificate of \(certificate.subject)")
        }
        guard certificate.isCertificateAuthority else {
            throw ChainError(
                .badCertificate, "\(certificate.subject) is not a CA certificate (basicConstraints CA:FALSE or absent)")
        }
        self.key = key
        self.certificate = certificate
        self.userID = userID
    }

    /// Creates a self-signed root CA certificate for `subject`.
    ///
    /// - Parameter maxPathLength: how many intermediate CAs may follow it; nil for no limit.
    public static func createRoot(
        subject: SM2DistinguishedName, key: SM2PrivateKey = SM2PrivateKey(), notValidBefore: Date,
        notValidAfter: Date, maxPathLength: Int? = nil, userID: [UInt8] = SM2.defaultUserID
    ) throws(ChainError) -> SM2CertificateAuthority {
        try SM2.checkUserID(userID)
        let der = try buildCertificate(
            subject: subject, publicKey: key.publicKey, issuer: nil, issuerKey: key, userID: userID,
            notValidBefore: notValidBefore, notValidAfter: notValidAfter,
            extensions: caExtensions(maxPathLength: maxPathLength))
        return try SM2CertificateAuthority(key: key, certificate: SM2Certificate(derRepresentation: der), userID: userID)
    }

    /// Issues an intermediate CA certificate for `key`, and answers the intermediate CA.
    ///
    /// - Parameter maxPathLength: how many further CAs may follow it; nil takes one less than
    ///   this CA allows (or no limit when this CA has none).
    public func issueIntermediate(
        key intermediateKey: SM2PrivateKey, subject: SM2DistinguishedName, notValidBefore: Date, notValidAfter: Date,
        maxPathLength: Int? = 0
    ) throws(ChainError) -> SM2CertificateAuthority {
        if let limit = certificate.pathLengthConstraint {
            guard limit > 0 else {
                throw ChainError(.badCertificate, "\(certificate.subject) has pathlen 0: it cannot issue CA certificates")
            }
            if let asked = maxPathLength, asked >= limit {
                throw ChainError(.badCertificate, "an intermediate under pathlen \(limit) takes a pathlen below \(limit)")
            }
        }
        let pathLength = maxPathLength ?? certificate.pathLengthConstraint.map { $0 - 1 }
        let der = try Self.buildCertificate(
            subject: subject, publicKey: intermediateKey.publicKey, issuer: certificate, issuerKey: key, userID: userID,
            notValidBefore: notValidBefore, notValidAfter: notValidAfter,
            extensions: Self.caExtensions(maxPathLength: pathLength))
        return try SM2CertificateAuthority(
            key: intermediateKey, certificate: SM2Certificate(derRepresentation: der), userID: userID)
    }

    /// Issues an end-entity certificate (CA:FALSE) for `publicKey`.
    ///
    /// - Parameters:
    ///   - dnsNames: DNS names for subjectAltName (letters, digits, `-`, `.`, an optional `*.`).
    ///   - ipAddresses: IPv4 or IPv6 addresses for subjectAltName, as text.
    ///   - keyUsage: the key usage bits (critical); digitalSignature by default.
    public func issue(
        publicKey: SM2PublicKey, subject: SM2DistinguishedName, dnsNames: [String] = [], ipAddresses: [String] = [],
        keyUsage: SM2KeyUsage = .digitalSignature, notValidBefore: Date, notValidAfter: Date
    ) throws(ChainError) -> SM2Certificate {
        guard !keyUsage.isEmpty, !keyUsage.contains(.keyCertSign) else {
            throw ChainError(.malformed, "an end-entity key usage is not empty and has no keyCertSign")
        }
        var extensions: [(String, String)] = [
            ("basicConstraints", "critical,CA:FALSE"),
            ("keyUsage", "critical," + keyUsage.configurationNames.joined(separator: ",")),
            ("subjectKeyIdentifier", "hash"),
            ("authorityKeyIdentifier", "keyid:always"),
        ]
        let names = try Self.alternativeNames(dnsNames: dnsNames, ipAddresses: ipAddresses)
        if !names.isEmpty { extensions.append(("subjectAltName", names)) }
        let der = try Self.buildCertificate(
            subject: subject, publicKey: publicKey, issuer: certificate, issuerKey: key, userID: userID,
            notValidBefore: notValidBefore, notValidAfter: notValidAfter, extensions: extensions)
        return try SM2Certificate(derRepresentation: der)
    }

    static func caExtensions(maxPathLength: Int?) -> [(String, String)] {
        let pathLength = maxPathLength.map { ",pathlen:\(max($0, 0))" } ?? ""
        return [
            ("basicConstraints", "critical,CA:TRUE" + pathLength),
            ("keyUsage", "critical,keyCertSign,cRLSign"),
            ("subjectKeyIdentifier", "hash"),
            ("authorityKeyIdentifier", "keyid:always"),
        ]
    }

    /// `DNS:…,IP:…` in OpenSSL's syntax, after checking that no name can break out of it.
    static func alternativeNames(dnsNames: [String], ipAddresses: [String]) throws(ChainError) -> String {
        var parts: [String] = []
        for name in dnsNames {
            var labels = name.split(separator: ".", omittingEmptySubsequences: false)
            if labels.first == "*" && labels.count > 2 { labels.removeFirst() }
            let labelOK = { (label: Substring) -> Bool in
                !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                    && label.utf8.allSatisfy { c in
                        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d
                    }
            }
            guard name.utf8.count <= 253, !labels.isEmpty, labels.allSatisfy(labelOK) else {
                throw ChainError(
                    .malformed, "\"\(name)\" is not a DNS name (ASCII letters, digits, '-', '.', an optional leading '*.')")
            }
            parts.append("DNS:\(name)")
        }
        for address in ipAddresses {
            guard !address.isEmpty, address.utf8.count <= 45,
                address.utf8.allSatisfy({ c in
                    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) || c == 0x2e
                        || c == 0x3a
                })
            else {
                throw ChainError(.malformed, "\"\(address)\" is not an IPv4 or IPv6 address")
            }
            parts.append("IP:\(address)")
        }
        return parts.joined(separator: ",")
    }

    /// Builds and signs one certificate through the C builder.
    static func buildCertificate(
        subject: SM2DistinguishedName, publicKey: SM2PublicKey, issuer: SM2Certificate?, issuerKey: SM2PrivateKey,
        userID: [UInt8], notValidBefore: Date, notValidAfter: Date, extensions: [(String, String)]
    ) throws(ChainError) -> [UInt8] {
        guard notValidBefore < notValidAfter else {
            throw ChainError(.malformed, "notValidBefore (\(notValidBefore)) is not before notValidAfter (\(notValidAfter))")
        }
        guard !subject.attributes.isEmpty else { throw ChainError(.malformed, "the subject name is empty") }
        guard let builder = gm_cert_builder_new() else { throw OpenSSL.failure("creating a certificate failed") }
        defer { gm_cert_builder_free(builder) }

        var serial = OpenSSL.randomBytes(16)
        serial[0] = serial[0] & 0x7f | 0x40  // positive, and a full 16 bytes long
        guard gm_cert_builder_set_serial(builder, serial, serial.count) == GM_OK,
            gm_cert_builder_set_validity(
                builder, Int64(notValidBefore.timeIntervalSince1970.rounded(.down)),
                Int64(notValidAfter.timeIntervalSince1970.rounded(.down))) == GM_OK
        else { throw OpenSSL.failure("setting serial number and validity failed") }
        for (field, value) in subject.attributes {
            let utf8 = Array(value.utf8)
            guard gm_cert_builder_add_subject(builder, field, utf8, utf8.count) == GM_OK else {
                gm_clear_errors()
                throw ChainError(.malformed, "subject \(field)=\"\(value)\" is refused (empty, or longer than X.520 allows)")
            }
        }
        guard gm_cert_builder_set_public_key(builder, publicKey.storage.box.key) == GM_OK else {
            throw OpenSSL.failure("setting the subject key failed")
        }
        if let issuer {
            let der = issuer.derRepresentation
            guard gm_cert_builder_set_issuer(builder, der, der.count) == GM_OK else {
                throw ChainError(.badCertificate, "the issuer certificate does not parse")
            }
        }
        for (name, value) in extensions {
            guard gm_cert_builder_add_extension(builder, name, value) == GM_OK else {
                throw ChainError(.malformed, "too many extensions")
            }
        }
        var out: UnsafeMutablePointer<UInt8>?
        var count = 0
        let status = gm_cert_builder_sign(builder, issuerKey.storage.key, userID, userID.count, &out, &count)
        switch status {
        case GM_OK: return OpenSSL.take(out, count: count)
        case GM_ERR_KEY_MISMATCH:
            throw ChainError(.badKey, "the signing key does not belong to the issuer certificate")
        case GM_ERR_ARGUMENT:
            throw ChainError(.malformed, "an extension is refused by OpenSSL: \(OpenSSL.lastError())")
        default: throw OpenSSL.failure("signing the certificate failed")
        }
    }
}
