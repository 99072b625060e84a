import ChainCore
import ChainTesting
import Foundation
import Identity
import Testing

/// Certificates of Ed25519 keys outside the group of prime order are trusted for nothing: under a
/// key of small order anyone can make a signature that verifies without the cofactor, the check
/// the certificate library (BoringSSL) makes of certificate signatures.
@Suite struct SoundKeyTests {
    /// Keys of small order: the identity, the point of order 2, one of order 8.
    static let weakKeys: [[UInt8]] = [
        WeakKeyCertificates.identityKey,
        [0xEC] + Array(repeating: 0xFF, count: 30) + [0x7F],
        Hex.decode("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")!,
    ]

    /// Seen before: a self-signed CA certificate whose key is the identity point, made without any
    /// private key, was "issued by" itself, and a regulator's certificate made the same way was
    /// issued by it — whoever got such a CA into the chain's configuration could deny every
    /// certificate under it, and anyone could mint more.
    @Test func aCAOfAKeyOfSmallOrderIssuesNothing() throws {
        let ca = try CertificateInfo(pem: try WeakKeyCertificates.selfSignedCA(org: "org9"))
        #expect(ca.isCA && ca.org == "org9")
        #expect(!ca.hasSoundKey)
        #expect(!ca.isIssued(by: ca))
        let anyone = SigningKey.generate(.ed25519)
        let member = try CertificateInfo(
            pem: try WeakKeyCertificates.member(
                key: anyone.publicKeyBytes, org: "org9", role: .regulator, name: "anyone", issuer: nil))
        #expect(member.hasSoundKey)
        #expect(!member.isIssued(by: ca))
    }

    /// Seen before: a member certificate of a key of small order, issued by a member org's CA,
    /// passed membership (the transactions it "signs" then failed `bad_signature`, so the holder
    /// could deny them). Now refused at admission and in a block's execution.
    @Test func aMemberCertificateOfAKeyOfSmallOrderIsRefused() throws {
        let consortium = try TestConsortium()
        let m = try consortium.membership()
        let ca = consortium.cas["org0"]!
        for key in Self.weakKeys {
            let pem = try WeakKeyCertificates.member(key: key, org: "org0", role: .farm, name: "weak", issuer: ca)
            let cert = try CertificateInfo(pem: pem)
            #expect(cert.isIssued(by: ca.certificate))
            #expect(!cert.hasSoundKey)
            #expect(errorCode { try m.verify(certificateDER: cert.der, at: Date()) } == "bad_certificate")
            #expect(errorCode { try m.identify(certificateDER: cert.der) } == "bad_certificate")
        }
        // The same certificate of an honest key passes.
        let honest = SigningKey.generate(.ed25519)
        let pem = try WeakKeyCertificates.member(
            key: honest.publicKeyBytes, org: "org0", role: .farm, name: "honest", issuer: ca)
        let der = try CertificateInfo(pem: pem).der
        #expect(try m.verify(certificateDER: der, at: Date()).1 == honest.publicKeyBytes)
    }
}
