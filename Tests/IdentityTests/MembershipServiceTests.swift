import ChainCore
import ChainTesting
import Foundation
import Synchronization
import Testing

@testable import Identity

@Suite struct MembershipServiceTests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium() }

    @Test func memberCertificateGivesOrgRoleAndSubject() throws {
        let farm = try consortium.identity(.farm, org: "org1", name: "farm-7")
        let (who, key) = try consortium.membership().verify(certificateDER: farm.certificateDER, at: Date())
        #expect(who.org == "org1" && who.role == .farm && who.subject == "farm-7")
        #expect(key == farm.key.publicKeyBytes)
        #expect(who.certificateHash == Hash256.sha256(farm.certificateDER))
        #expect(who.certificateFingerprint == Hash256.sha256(farm.certificateDER).hex)
    }

    @Test func certificateFromAnUnknownCAIsRefused() throws {
        let stranger = try TestConsortium(orgs: ["org0"])  // same org name, different CA key
        let id = try stranger.identity(.merchant)
        let m = try consortium.membership()
        #expect(errorCode { try m.verify(certificateDER: id.certificateDER, at: Date()) } == "unknown_ca")
    }

    @Test func expiredAndNotYetValidCertificatesAreRefused() throws {
        let old = try consortium.identity(.lab, validFrom: Date().addingTimeInterval(-10 * 86400), validity: 86400)
        let m = try consortium.membership()
        #expect(errorCode { try m.verify(certificateDER: old.certificateDER, at: Date()) } == "certificate_expired")
        let future = try consortium.identity(.lab, validFrom: Date().addingTimeInterval(86400))
        #expect(errorCode { try m.verify(certificateDER: future.certificateDER, at: Date()) } == "certificate_not_yet_valid")
    }

    @Test func garbageAndCACertificatesAreRefused() throws {
        let m = try consortium.membership()
        for garbage: [UInt8] in [[], [0x30], Array(repeating: 0x41, count: 500)] {
            #expect(errorCode { try m.verify(certificateDER: garbage, at: Date()) } == "bad_certificate")
        }
        let caDER = consortium.cas["org0"]!.certificate.derBytes()
        #expect(throws: ChainError.self) { try m.verify(certificateDER: caDER, at: Date()) }
    }

    @Test func keyOfAnotherSuiteIsRefused() throws {
        // A P-256 key certified by an Ed25519 CA on an Ed25519 chain.
        let ca = consortium.cas["org0"]!
        let key = SigningKey.generate(.p256)
        let cert = try ca.issue(role: .farm, name: "p", subjectKey: key)
        let der = cert.derBytes()
        let m = try consortium.membership()
        #expect(errorCode { try m.verify(certificateDER: der, at: Date()) } == "wrong_suite")
    }

    @Test func p256ChainWorksEndToEnd() throws {
        let c = try TestConsortium(suite: .p256)
        let id = try c.identity(.regulator)
        let (who, key) = try c.membership().verify(certificateDER: id.certificateDER, at: Date())
        #expect(who.role == .regulator)
        let tx = try id.transaction(chain: "test-chain", contract: "evidence", method: "put", args: .object([:]))
        #expect(CryptoSuite.p256.verify(signature: tx.signature, message: tx.body, publicKey: key))
    }

    @Test(arguments: CryptoSuite.allCases) func keysRoundTripThroughPEM(suite: CryptoSuite) throws {
        let key = SigningKey.generate(suite)
        let back = try KeyPEM.decode(KeyPEM.encode(key))
        #expect(back.publicKeyBytes == key.publicKeyBytes)
        #expect(throws: ChainError.self) { try KeyPEM.decode("not a pem") }
        #expect(throws: ChainError.self) { try KeyPEM.certificateDER(fromPEM: KeyPEM.encode(key)) }
    }

    /// The DER of a signer's PEM is kept by the exact text: read again it is the same bytes, a
    /// refused PEM stays refused (never kept), and the memory holds at most its size.
    @Test func certificatePEMsAreReadOnceAndTheMemoryIsBounded() throws {
        let farm = try consortium.identity(.farm, org: "org1", name: "farm-pem")
        let pem = KeyPEM.certificatePEM(fromDER: farm.certificateDER)
        #expect(try KeyPEM.certificateDER(fromPEM: pem) == farm.certificateDER)
        #expect(try KeyPEM.certificateDER(fromPEM: pem) == farm.certificateDER)
        let key = KeyPEM.encode(SigningKey.generate(.ed25519))
        for _ in 0..<2 {
            #expect(errorCode { try KeyPEM.certificateDER(fromPEM: key) } == "bad_certificate")
        }
        // The same certificate under many texts (text after the PEM block is ignored by the parse).
        for i in 0..<(KeyPEM.certificateCacheSize + 10) {
            #expect(try KeyPEM.certificateDER(fromPEM: pem + "\n# \(i)\n") == farm.certificateDER)
        }
        #expect(KeyPEM.certificateCache.withLock { $0.count } <= KeyPEM.certificateCacheSize)
        #expect(try KeyPEM.certificateDER(fromPEM: pem) == farm.certificateDER)
        // A long text (anyone may send one as a signer) is read but never kept.
        let long = pem + "\n#" + String(repeating: "x", count: KeyPEM.maxCachedPEMBytes) + "\n"
        #expect(try KeyPEM.certificateDER(fromPEM: long) == farm.certificateDER)
        #expect(KeyPEM.certificateCache.withLock { $0[long] } == nil)
    }

    @Test func submissionEnvelopeRoundTripsAndNamesBadFields() throws {
        let id = try consortium.identity(.farm)
        let tx = try id.transaction(chain: "test-chain", contract: "evidence", method: "put", args: .object([:]))
        #expect(try TransactionSubmission(tx).decode(hasher: .sha256) == tx)
        var bad = TransactionSubmission(tx)
        bad.body = "%%%"
        let badBody = bad
        #expect(errorCode { try badBody.decode(hasher: .sha256) } == "bad_base64")
        bad = TransactionSubmission(tx)
        bad.signer = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
        let badSigner = bad
        let m = try consortium.membership()
        #expect(
            errorCode { try m.verify(certificateDER: try badSigner.decode(hasher: .sha256).signerCertificate, at: Date()) }
                == "bad_certificate")
    }

    @Test func aSignerFollowedByItsCAChainIsReadAsTheSigner() throws {
        let id = try consortium.identity(.farm)
        var envelope = TransactionSubmission(
            try id.transaction(chain: "test-chain", contract: "evidence", method: "put", args: .object([:])))
        envelope.signer += try consortium.cas["org0"]!.certificatePEM
        #expect(try envelope.decode(hasher: .sha256).signerCertificate == id.certificateDER)
    }
}
