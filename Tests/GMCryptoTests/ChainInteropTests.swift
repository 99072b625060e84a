import ChainTesting
import Foundation
import Identity
import Testing

@testable import ChainCore

/// The chain's own objects on the `sm2` suite, checked by the `openssl` command line: an org CA
/// and the node and member certificates it issues (`openssl verify`), a transaction signed by a
/// member (`openssl pkeyutl -verify`), and a transaction signed by `openssl` accepted by the
/// chain's membership and suite.
@Suite("Interop: the sm2 chain and openssl")
struct ChainInteropTests {
    @Test func certificatesAndTransactionsOfAnSM2ChainCheckWithOpenSSLAndBack() throws {
        let dir = try Run.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let consortium = try TestConsortium(suite: .sm2)
        let ca = try #require(consortium.cas["org0"])
        try OpenSSLInteropTests.write(try ca.certificatePEM, "ca.pem", in: dir)
        let member = try consortium.identity(.farm, org: "org0", name: "farm-1")
        let node = try ca.issue(role: .node, name: "node9", subjectKey: SigningKey.generate(.sm2), dnsNames: ["node9.example"])
        try OpenSSLInteropTests.write(member.certificatePEM, "member.pem", in: dir)
        try OpenSSLInteropTests.write(node.pem, "node.pem", in: dir)
        for leaf in ["member.pem", "node.pem"] {
            let ok = try OpenSSLInteropTests.openssl(
                ["verify", "-vfyopt", OpenSSLInteropTests.distid, "-CAfile", "ca.pem", leaf], in: dir)
            #expect(ok.status == 0 && ok.stdout.contains("OK"), "\(leaf): \(ok.stdout) \(ok.stderr)")
            let text = try OpenSSLInteropTests.openssl(["x509", "-in", leaf, "-noout", "-text"], in: dir)
            #expect(text.stdout.contains("SM2-with-SM3"), "\(leaf)")
        }

        // A transaction the chain's client signs verifies with openssl (SM3 digest, default id).
        let tx = try member.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
        let key = try #require(member.key.sm2Key)
        try OpenSSLInteropTests.write(key.publicKey.pemRepresentation, "pub.pem", in: dir)
        try OpenSSLInteropTests.write(tx.body, "body", in: dir)
        try OpenSSLInteropTests.write(tx.signature, "sig", in: dir)
        let verified = try OpenSSLInteropTests.openssl(
            [
                "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", "pub.pem", "-in", "body", "-sigfile", "sig",
                "-pkeyopt", OpenSSLInteropTests.distid,
            ], in: dir)
        #expect(verified.status == 0, "\(verified.stderr)")
        // And openssl's `dgst -sm3` gives the txid.
        let digest = try OpenSSLInteropTests.openssl(["dgst", "-sm3", "-r", "body"], in: dir)
        #expect(digest.stdout.hasPrefix(tx.txid))

        // The other way round: openssl signs the body with the member's key; the chain accepts it.
        try OpenSSLInteropTests.write(key.pemRepresentation, "key.pem", in: dir)
        let signed = try OpenSSLInteropTests.openssl(
            [
                "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", "key.pem", "-in", "body", "-out", "osig", "-pkeyopt",
                OpenSSLInteropTests.distid,
            ], in: dir)
        #expect(signed.status == 0, "\(signed.stderr)")
        let foreign = try OpenSSLInteropTests.read("osig", in: dir)
        let (_, publicKey) = try consortium.membership().verify(certificateDER: member.certificateDER, at: Date())
        #expect(throws: Never.self) {
            try CryptoSuite.sm2.check(signature: foreign, message: tx.body, publicKey: publicKey, what: "openssl's")
        }
        // Without the default id (OpenSSL 3.0's own default is the empty id) it does not verify.
        _ = try OpenSSLInteropTests.openssl(
            ["pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", "key.pem", "-in", "body", "-out", "esig"], in: dir)
        let emptyID = try OpenSSLInteropTests.read("esig", in: dir)
        #expect(!CryptoSuite.sm2.verify(signature: emptyID, message: tx.body, publicKey: publicKey))
    }
}
