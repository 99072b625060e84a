import Foundation
import Identity
import Testing

@testable import ChainCore

/// A root, an intermediate and leaves, issued once for the certificate tests.
struct PKI {
    static let now = Date()
    static let root = try! SM2CertificateAuthority.createRoot(
        subject: SM2DistinguishedName(country: "CN", organization: "湘链 District Government", commonName: "XiangChain Root CA"),
        notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
        maxPathLength: 1)
    static let intermediate = try! root.issueIntermediate(
        key: SM2PrivateKey(), subject: SM2DistinguishedName(organization: "Org1", commonName: "Org1 CA"),
        notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(5 * 365 * 86400))
    static let leafKey = SM2PrivateKey()
    static let leaf = try! root.issue(
        publicKey: leafKey.publicKey,
        subject: SM2DistinguishedName(organization: "湘链 District Government", organizationalUnit: "client", commonName: "alice"),
        dnsNames: ["node1.xiangchain.local", "*.peers.xiangchain.local"], ipAddresses: ["10.1.2.3", "::1"],
        notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(365 * 86400))
    static let intermediateLeaf = try! intermediate.issue(
        publicKey: SM2PrivateKey().publicKey,
        subject: SM2DistinguishedName(organization: "Org1", organizationalUnit: "peer", commonName: "peer0.org1"),
        dnsNames: ["peer0.org1.example"], keyUsage: [.digitalSignature, .keyEncipherment],
        notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(365 * 86400))
}

@Suite("X.509 with SM2")
struct CertificateTests {
    @Test func rootFields() {
        let cert = PKI.root.certificate
        #expect(cert.version == 3)
        #expect(cert.subject == cert.issuer)
        #expect(cert.subject.organization == "湘链 District Government")
        #expect(cert.subject.country == "CN")
        #expect(cert.isCertificateAuthority)
        #expect(cert.pathLengthConstraint == 1)
        #expect(cert.keyUsage == [.keyCertSign, .cRLSign])
        #expect(cert.isSignedWithSM2)
        #expect(cert.publicKey == PKI.root.key.publicKey)
        #expect(cert.serialNumber.count == 16)
        #expect(cert.isIssued(by: cert))
    }

    @Test func leafFields() throws {
        let cert = PKI.leaf
        #expect(
            cert.subject
                == SM2DistinguishedName(organization: "湘链 District Government", organizationalUnit: "client", commonName: "alice")
        )
        #expect(cert.issuer == PKI.root.certificate.subject)
        #expect(cert.dnsNames == ["node1.xiangchain.local", "*.peers.xiangchain.local"])
        #expect(cert.ipAddresses == ["10.1.2.3", "::1"])
        #expect(!cert.isCertificateAuthority)
        #expect(cert.pathLengthConstraint == nil)
        #expect(cert.keyUsage == .digitalSignature)
        #expect(cert.publicKey == PKI.leafKey.publicKey)
        #expect(abs(cert.notValidBefore.timeIntervalSince(PKI.now.addingTimeInterval(-60))) < 1)
        #expect(abs(cert.notValidAfter.timeIntervalSince(PKI.now.addingTimeInterval(365 * 86400))) < 1)
        #expect(cert.isValid(at: PKI.now))
        #expect(!cert.isValid(at: PKI.now.addingTimeInterval(400 * 86400)))
        #expect(cert.sha256Fingerprint.count == 32 && cert.sm3Fingerprint.count == 32)
        #expect(cert.sm3Fingerprint == SM3.hash(cert.derRepresentation))
        #expect(cert.serialNumber != PKI.root.certificate.serialNumber)
    }

    @Test func algorithmIdentifiers() {
        let der = PKI.leaf.derRepresentation
        func contains(_ needle: [UInt8]) -> Bool {
            der.indices.contains { index in der[index...].starts(with: needle) }
        }
        // SM2-with-SM3 1.2.156.10197.1.501, id-ecPublicKey 1.2.840.10045.2.1, curve 1.2.156.10197.1.301.
        #expect(contains(TestHex.decode("06082a811ccf55018375")))
        #expect(contains(TestHex.decode("06072a8648ce3d0201")))
        #expect(contains(TestHex.decode("06082a811ccf5501822d")))
    }

    @Test func pemRoundTrip() throws {
        let pem = PKI.leaf.pemRepresentation
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(try SM2Certificate(pemRepresentation: pem) == PKI.leaf)
        // A chain file: the first certificate is read, a key block before it is skipped.
        let bundle = PKI.leafKey.publicKey.pemRepresentation + pem + PKI.root.certificate.pemRepresentation
        #expect(try SM2Certificate(pemRepresentation: bundle) == PKI.leaf)
    }

    @Test func trustStoreAcceptsValidChains() throws {
        let store = try SM2TrustStore(roots: [PKI.root.certificate], intermediates: [PKI.intermediate.certificate])
        try store.verify(PKI.leaf, at: PKI.now)
        try store.verify(PKI.intermediate.certificate, at: PKI.now)
        try store.verify(PKI.intermediateLeaf, at: PKI.now)
        try PKI.intermediateLeaf.verifyIssued(by: PKI.intermediate.certificate)
        try PKI.intermediate.certificate.verifyIssued(by: PKI.root.certificate)
        #expect(PKI.intermediateLeaf.keyUsage == [.digitalSignature, .keyEncipherment])
        #expect(PKI.intermediate.certificate.pathLengthConstraint == 0)
    }

    @Test func trustStoreIsSafeToShare() async throws {
        let store = try SM2TrustStore(roots: [PKI.root.certificate], intermediates: [PKI.intermediate.certificate])
        let leaves = [PKI.leaf, PKI.intermediateLeaf, PKI.intermediate.certificate]
        let failures = await withTaskGroup(of: Int.self) { group in
            for index in 0..<48 {
                group.addTask {
                    let leaf = leaves[index % leaves.count]
                    do {
                        try store.verify(leaf, at: PKI.now)
                        return 0
                    } catch {
                        return 1
                    }
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }

    static func code(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as ChainError {
            return error.code.rawValue
        } catch {
            return "unexpected: \(error)"
        }
    }

    @Test func trustStoreRefusals() throws {
        let store = try SM2TrustStore(roots: [PKI.root.certificate])
        #expect(Self.code { try store.verify(PKI.leaf, at: PKI.now.addingTimeInterval(400 * 86400)) } == "certificate_expired")
        #expect(Self.code { try store.verify(PKI.leaf, at: PKI.now.addingTimeInterval(-86400)) } == "certificate_not_yet_valid")
        // The intermediate is not in this store: no path.
        #expect(Self.code { try store.verify(PKI.intermediateLeaf, at: PKI.now) } == "unknown_ca")
        // Another CA with the very same name: the signature check refuses it.
        let impostor = try SM2CertificateAuthority.createRoot(
            subject: PKI.root.certificate.subject, notValidBefore: PKI.now.addingTimeInterval(-3600),
            notValidAfter: PKI.now.addingTimeInterval(86400))
        let forged = try impostor.issue(
            publicKey: SM2PrivateKey().publicKey,
            subject: SM2DistinguishedName(
                organization: "湘链 District Government", organizationalUnit: "admin", commonName: "mallory"),
            notValidBefore: PKI.now.addingTimeInterval(-60), notValidAfter: PKI.now.addingTimeInterval(3600))
        let refusal = Self.code { try store.verify(forged, at: PKI.now) }
        #expect(refusal == "unknown_ca" || refusal == "unknown_ca")
        #expect(Self.code { try forged.verifyIssued(by: PKI.root.certificate) } != nil)
        // A leaf is no CA.
        let leafAsRoot = try SM2TrustStore(roots: [PKI.leaf])
        #expect(Self.code { try leafAsRoot.verify(PKI.root.certificate, at: PKI.now) } != nil)
        // Verified with another user id, every signature fails.
        let otherID = try SM2TrustStore(roots: [PKI.root.certificate], userID: Array("not the default".utf8))
        #expect(Self.code { try otherID.verify(PKI.leaf, at: PKI.now) } == "unknown_ca")
        #expect(Self.code { try PKI.leaf.verifyIssued(by: PKI.root.certificate, userID: []) } == "unknown_ca")
    }

    @Test func tamperedCertificates() throws {
        let store = try SM2TrustStore(roots: [PKI.root.certificate])
        let der = PKI.leaf.derRepresentation
        // Change "alice" into "blice" inside the signed part.
        let alice = Array("alice".utf8)
        let at = try #require(der.indices.first { der[$0...].starts(with: alice) })
        var renamed = der
        renamed[at] = UInt8(ascii: "b")
        let tampered = try SM2Certificate(derRepresentation: renamed)
        #expect(tampered.subject.commonName == "blice")
        #expect(Self.code { try store.verify(tampered, at: PKI.now) } == "unknown_ca")
        #expect(Self.code { try tampered.verifyIssued(by: PKI.root.certificate) } == "unknown_ca")
        // Change the last byte of the signature value.
        var resigned = der
        resigned[resigned.count - 1] ^= 0x01
        if let cert = try? SM2Certificate(derRepresentation: resigned) {
            #expect(Self.code { try store.verify(cert, at: PKI.now) } == "unknown_ca")
        }
        // The wrong issuer.
        #expect(Self.code { try PKI.leaf.verifyIssued(by: PKI.intermediate.certificate) } == "unknown_ca")
        // A root whose self-signature is broken: its key and name still match the leaf, so only
        // the self-signature check (which `openssl verify -check_ss_sig` cannot do for SM2) notices.
        var rootDER = PKI.root.certificate.derRepresentation
        rootDER[rootDER.count - 1] ^= 0x01
        if let brokenRoot = try? SM2Certificate(derRepresentation: rootDER) {
            let brokenStore = try SM2TrustStore(roots: [brokenRoot])
            #expect(Self.code { try brokenStore.verify(PKI.leaf, at: PKI.now) } == "unknown_ca")
        } else {
            Issue.record("the root with a changed signature byte no longer parses")
        }
    }

    @Test func garbageIsRefused() {
        for bytes in [
            [], [0x30], [0x30, 0x00], [UInt8](repeating: 0x41, count: 300), Array(PKI.leaf.derRepresentation.dropLast()),
            PKI.leaf.derRepresentation + [0x00],
        ] as [[UInt8]] {
            #expect(throws: ChainError.self) { try SM2Certificate(derRepresentation: bytes) }
        }
        #expect(throws: ChainError.self) { try SM2Certificate(pemRepresentation: "not a certificate") }
        #expect(throws: ChainError.self) {
            try SM2Certificate(pemRepresentation: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        }
    }

    @Test func issuingRules() throws {
        let start = PKI.now
        let end = PKI.now.addingTimeInterval(3600)
        let subject = SM2DistinguishedName(organization: "Org", commonName: "x")
        // pathlen 0 forbids further CAs.
        #expect(throws: ChainError.self) {
            try PKI.intermediate.issueIntermediate(
                key: SM2PrivateKey(), subject: subject, notValidBefore: start, notValidAfter: end)
        }
        #expect(throws: ChainError.self) {
            try PKI.root.issue(publicKey: PKI.leafKey.publicKey, subject: subject, notValidBefore: end, notValidAfter: start)
        }
        #expect(throws: ChainError.self) {
            try PKI.root.issue(
                publicKey: PKI.leafKey.publicKey, subject: subject, dnsNames: ["bad,IP:1.2.3.4"], notValidBefore: start,
                notValidAfter: end)
        }
        #expect(throws: ChainError.self) {
            try PKI.root.issue(
                publicKey: PKI.leafKey.publicKey, subject: subject, ipAddresses: ["300.1.1.1"], notValidBefore: start,
                notValidAfter: end)
        }
        #expect(throws: ChainError.self) {
            try PKI.root.issue(
                publicKey: PKI.leafKey.publicKey, subject: SM2DistinguishedName(commonName: String(repeating: "x", count: 65)),
                notValidBefore: start, notValidAfter: end)
        }
        #expect(throws: ChainError.self) {
            try PKI.root.issue(
                publicKey: PKI.leafKey.publicKey, subject: subject, keyUsage: .keyCertSign, notValidBefore: start,
                notValidAfter: end)
        }
        // A CA needs its own key and a CA certificate.
        #expect(throws: ChainError.self) { try SM2CertificateAuthority(key: SM2PrivateKey(), certificate: PKI.root.certificate) }
        #expect(throws: ChainError.self) { try SM2CertificateAuthority(key: PKI.leafKey, certificate: PKI.leaf) }
    }
}
