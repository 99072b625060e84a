import ChainCore
import Crypto
import Foundation
import Identity
import SwiftASN1
import X509

/// Certificates carrying an Ed25519 key of small order, made without any private key: under the
/// identity point as key, the signature R = identity, S = 0 satisfies the Ed25519 equation without
/// the cofactor for every message — the check swift-certificates (BoringSSL) makes of a
/// certificate's signature. So anyone can make a self-signed CA certificate of such a key, and
/// any certificate "issued" by it.
public enum WeakKeyCertificates {
    /// The identity point, as a 32-byte Ed25519 public key.
    public static let identityKey: [UInt8] = [1] + Array(repeating: 0, count: 31)
    /// R = the identity, S = 0.
    public static let forgedSignature: [UInt8] = [1] + Array(repeating: 0, count: 63)

    /// A self-signed CA certificate of `org` whose key is the identity point, "signed" with the
    /// forged signature, as PEM.
    public static func selfSignedCA(org: String) throws -> String {
        let name = try DistinguishedName {
            OrganizationName(org)
            CommonName("\(org) CA")
        }
        return try pem(
            key: identityKey, issuer: name, subject: name,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 1))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            })
    }

    /// An end-entity certificate of `key` (raw Ed25519) with O=`org`, OU=`role`, CN=`name`, issued
    /// by `issuer`: signed by its private key, or, without one, with the forged signature.
    public static func member(
        key: [UInt8], org: String, role: Role, name: String, issuer: CertificateAuthority?
    ) throws -> String {
        let subject = try DistinguishedName {
            OrganizationName(org)
            OrganizationalUnitName(role.rawValue)
            CommonName(name)
        }
        let issuerName = try DistinguishedName {
            OrganizationName(org)
            CommonName("\(org) CA")
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
        }
        guard let issuer else { return try pem(key: key, issuer: issuerName, subject: subject, extensions: extensions) }
        guard let signer = issuer.key.ed25519Key else { throw ChainError(.wrongSuite, "an Ed25519 CA") }
        let caCert = try Certificate(derEncoded: issuer.certificate.der)
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(try Curve25519.Signing.PublicKey(rawRepresentation: key)),
            notValidBefore: Date().addingTimeInterval(-300), notValidAfter: Date().addingTimeInterval(86400),
            issuer: caCert.subject, subject: subject, signatureAlgorithm: .ed25519, extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(signer))
        return try cert.serializeAsPEM().pemString
    }

    /// A certificate of `key` signed by a throwaway key, its signature then replaced by the forged one.
    static func pem(key: [UInt8], issuer: DistinguishedName, subject: DistinguishedName, extensions: Certificate.Extensions)
        throws -> String
    {
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(try Curve25519.Signing.PublicKey(rawRepresentation: key)),
            notValidBefore: Date().addingTimeInterval(-300), notValidAfter: Date().addingTimeInterval(86400),
            issuer: issuer, subject: subject, signatureAlgorithm: .ed25519, extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(Curve25519.Signing.PrivateKey()))
        var serializer = DER.Serializer()
        try serializer.serialize(cert)
        var der = serializer.serializedBytes
        // The DER ends with the signature's BIT STRING: 03 41 00 and the 64 signature bytes.
        precondition(Array(der[der.count - 67..<der.count - 64]) == [0x03, 0x41, 0x00])
        der.replaceSubrange(der.count - 64..<der.count, with: forgedSignature)
        return PEMDocument(type: "CERTIFICATE", derBytes: der).pemString
    }
}
