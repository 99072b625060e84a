import ChainCore
import Foundation
import Testing

/// The published test vectors of `docs/transactions.md`.
enum Vectors {
    static let seed = Hex.decode("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")!
    static let publicKey = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    static let body =
        #"{"chain":"xiangchain-local","nonce":"vector-1","timestamp":1767225600000,"contract":"evidence","method":"put","args":{"hash":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824","kind":"doc","meta":{"title":"hello"}}}"#
    static let txid = "f354db9b147e01240cf59525bfaab06fad955cbad08a295bdf8a3e6870b9e980"
    static let signature =
        "c78ba4cdd9796048c90b60acba98e92f5b84bdc9b5ea54ec5f28788aae18fdcf2ca1478d56eb9b32314cabb9f8396b9bd54882287e89441ef4a50ff7c8eb6106"
}

@Suite struct TransactionTests {
    /// The SM2/SM3 vector of docs/transactions.md §10 (signature made by the openssl CLI).
    @Test func sm2VectorsMatch() throws {
        let key = try SigningKey(sm2Raw: Hex.decode("3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8")!)
        let publicKey = Hex.decode(
            "0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
        )!
        #expect(key.publicKeyBytes == publicKey)
        let body = Array(Vectors.body.utf8)
        #expect(
            SignedTransaction(body: body, signature: [], signerCertificate: [], hasher: .sm3).txid
                == "497925f6c8aacef7f202cc57ac4621e8d39eaba1d14c04f7162e3158aa44e05f")
        let signature = Hex.decode(
            "3044022050c1b6b7e35ccdcf7d66844eccad03330cde6baf9bae69f65a6304db5eb836940220042db84a1441aaeb6ce6478e9d6fd60f1495773564a6f659924779c69cda9d03"
        )!
        #expect(CryptoSuite.sm2.verify(signature: signature, message: body, publicKey: publicKey))
        #expect(!CryptoSuite.sm2.verify(signature: signature, message: body + [0x20], publicKey: publicKey))
        let parsed = try SM2PublicKey(rawRepresentation: publicKey)
        #expect(!parsed.verify(signature: signature, message: body, userID: []))
        #expect(!parsed.verify(signature: signature, message: body, userID: Array("1234567812345679".utf8)))
        // And a fresh signature by the node verifies the same way.
        #expect(CryptoSuite.sm2.verify(signature: try key.sign(body), message: body, publicKey: publicKey))
    }

    @Test func ed25519VectorsMatch() throws {
        let key = try SigningKey(ed25519Seed: Vectors.seed)
        #expect(Hex.encode(key.publicKeyBytes) == Vectors.publicKey)
        let body = Array(Vectors.body.utf8)
        #expect(body.count == 231)
        #expect(SignedTransaction(body: body, signature: [], signerCertificate: [], hasher: .sha256).txid == Vectors.txid)
        #expect(Hex.encode(try key.sign(body)) == Vectors.signature)
        #expect(
            CryptoSuite.ed25519.verify(signature: Hex.decode(Vectors.signature)!, message: body, publicKey: key.publicKeyBytes))
    }

    @Test func clientEncoderProducesTheVectorBody() throws {
        let args = try JSONParser().parse(
            Array(
                #"{"meta":{"title":"hello"},"kind":"doc","hash":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}"#
                    .utf8))
        let body = TransactionBody.encode(
            chain: "xiangchain-local", nonce: "vector-1", timestamp: 1_767_225_600_000, contract: "evidence", method: "put",
            args: args)
        #expect(String(decoding: body, as: UTF8.self) == Vectors.body)
    }

    @Test func signatureOverOtherBytesFails() throws {
        let key = try SigningKey(ed25519Seed: Vectors.seed)
        var body = Array(Vectors.body.utf8)
        let sig = try key.sign(body)
        body[10] ^= 1
        #expect(!CryptoSuite.ed25519.verify(signature: sig, message: body, publicKey: key.publicKeyBytes))
        #expect(!CryptoSuite.ed25519.verify(signature: Array(sig.prefix(10)), message: body, publicKey: key.publicKeyBytes))
        #expect(!CryptoSuite.ed25519.verify(signature: sig, message: body, publicKey: [1, 2, 3]))
    }

    @Test func p256SignaturesAreDERAndVerify() throws {
        let key = SigningKey.generate(.p256)
        let msg = Array("hello".utf8)
        let sig = try key.sign(msg)
        #expect(sig.first == 0x30)
        #expect(CryptoSuite.p256.verify(signature: sig, message: msg, publicKey: key.publicKeyBytes))
        #expect(!CryptoSuite.p256.verify(signature: sig, message: msg + [0], publicKey: key.publicKeyBytes))
        #expect(!CryptoSuite.ed25519.verify(signature: sig, message: msg, publicKey: key.publicKeyBytes))
    }

    @Test func bodyParsesTheVector() throws {
        let b = try TransactionBody.parse(Array(Vectors.body.utf8))
        #expect(b.chain == "xiangchain-local" && b.nonce == "vector-1" && b.timestamp == 1_767_225_600_000)
        #expect(b.contract == "evidence" && b.method == "put" && b.args["kind"]?.stringValue == "doc")
    }

    @Test(arguments: [
        ("[]", "must be a JSON object"),
        (#"{"chain":"c","nonce":"n","timestamp":1,"contract":"evidence","method":"put"}"#, "args"),
        (#"{"chain":"c","nonce":"","timestamp":1,"contract":"evidence","method":"put","args":{}}"#, "nonce"),
        (
            #"{"chain":"c","nonce":"\#(String(repeating: "n", count: 65))","timestamp":1,"contract":"evidence","method":"put","args":{}}"#,
            "nonce"
        ),
        (#"{"chain":"c","nonce":"n","timestamp":"1","contract":"evidence","method":"put","args":{}}"#, "timestamp"),
        (#"{"chain":"c","nonce":"n","timestamp":1.5,"contract":"evidence","method":"put","args":{}}"#, "timestamp"),
        (#"{"chain":"c","nonce":"n","timestamp":-1,"contract":"evidence","method":"put","args":{}}"#, "timestamp"),
        (#"{"chain":"c","nonce":"n","timestamp":1,"contract":"Evidence!","method":"put","args":{}}"#, "contract"),
        (#"{"chain":"c","nonce":"n","timestamp":1,"contract":"eVidence","method":"put","args":{}}"#, "contract"),
        (#"{"chain":"c","nonce":"n","timestamp":1,"contract":"evidence","method":"9put","args":{}}"#, "method"),
        (#"{"chain":"c","nonce":"n","timestamp":1,"contract":"evidence","method":"put","args":[]}"#, "args"),
        (
            #"{"chain":"c","nonce":"n","timestamp":1,"contract":"evidence","method":"put","args":{},"fee":1}"#,
            "unknown body field"
        ),
        (#"{"chain":"c","chain":"d","nonce":"n","timestamp":1,"contract":"evidence","method":"put","args":{}}"#, "duplicate"),
    ])
    func malformedBodiesAreRefused(body: String, mentions: String) {
        do {
            _ = try TransactionBody.parse(Array(body.utf8))
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.code.rawValue == "malformed_body")
            #expect(error.message.contains(mentions), "\(error.message)")
        }
    }
}
