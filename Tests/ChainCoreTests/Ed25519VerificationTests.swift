import ChainCore
import Crypto
import Testing

/// `CryptoSuite.ed25519` verification: every signature an RFC 8032 signer makes verifies, and a
/// public key of small order, with which a signature can hold for messages its holder never
/// signed, verifies nothing.
@Suite struct Ed25519VerificationTests {
    /// The encodings of points of order 1, 2 and 4 (the identity; y = −1; y = 0 with either sign).
    static let smallOrderKeys: [[UInt8]] = [
        [1] + Array(repeating: 0, count: 31),
        [0xEC] + Array(repeating: 0xFF, count: 30) + [0x7F],
        Array(repeating: 0, count: 32),
        Array(repeating: 0, count: 31) + [0x80],
    ]

    /// R = the identity and S = 0 satisfy [S]B = R + [k]A whenever [k]A is the identity: for the
    /// identity key on every message, for the key of order 2 on about half of them. A cofactorless
    /// check accepts those (the library used before did): anyone could sign as the holder of such
    /// a key, and the holder could deny what it signed.
    @Test func aKeyOfSmallOrderVerifiesNothing() {
        let forged: [UInt8] = [1] + Array(repeating: 0, count: 63)
        for key in Self.smallOrderKeys {
            for n in 0..<32 {
                let message = Array("record \(n)".utf8)
                #expect(!CryptoSuite.ed25519.verify(signature: forged, message: message, publicKey: key), "\(key) \(n)")
            }
        }
    }

    /// Signatures made by swift-crypto (the signer of nodes, clients and the SDK) verify, for
    /// messages of every length; any single bit changed in the signature, the message or the key
    /// fails, as it does with swift-crypto's own verification.
    @Test func agreesWithTheSignerOnHonestSignaturesAndTheirCorruptions() throws {
        var rng = SystemRandomNumberGenerator()
        for length in [0, 1, 31, 32, 33, 64, 300, 4096] {
            for _ in 0..<8 {
                let key = Curve25519.Signing.PrivateKey()
                let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let signature = Array(try key.signature(for: message))
                let publicKey = Array(key.publicKey.rawRepresentation)
                #expect(CryptoSuite.ed25519.verify(signature: signature, message: message, publicKey: publicKey))
                var badSignature = signature
                badSignature[Int.random(in: 0..<64, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                #expect(!CryptoSuite.ed25519.verify(signature: badSignature, message: message, publicKey: publicKey))
                #expect(!key.publicKey.isValidSignature(badSignature, for: message))
                if !message.isEmpty {
                    var badMessage = message
                    badMessage[Int.random(in: 0..<length, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                    #expect(!CryptoSuite.ed25519.verify(signature: signature, message: badMessage, publicKey: publicKey))
                }
                var badKey = publicKey
                badKey[Int.random(in: 0..<32, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                #expect(!CryptoSuite.ed25519.verify(signature: signature, message: message, publicKey: badKey))
            }
        }
    }

    /// S must be below the group order L (RFC 8032 §5.1.7): the same signature with L added to S
    /// is refused (both libraries refuse it), as are signatures and keys of the wrong length.
    @Test func aNonCanonicalSAndWrongLengthsAreRefused() throws {
        let key = Curve25519.Signing.PrivateKey()
        let message = Array("evidence".utf8)
        let signature = Array(try key.signature(for: message))
        let publicKey = Array(key.publicKey.rawRepresentation)
        // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let order: [UInt8] = [
            0xED, 0xD3, 0xF5, 0x5C, 0x1A, 0x63, 0x12, 0x58, 0xD6, 0x9C, 0xF7, 0xA2, 0xDE, 0xF9, 0xDE, 0x14,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ]
        var s = Array(signature[32...])
        var carry = 0
        for i in 0..<32 {
            let sum = Int(s[i]) + Int(order[i]) + carry
            s[i] = UInt8(sum & 0xFF)
            carry = sum >> 8
        }
        if carry == 0 {
            #expect(!CryptoSuite.ed25519.verify(signature: Array(signature[..<32]) + s, message: message, publicKey: publicKey))
        }
        #expect(!CryptoSuite.ed25519.verify(signature: Array(signature.prefix(63)), message: message, publicKey: publicKey))
        #expect(!CryptoSuite.ed25519.verify(signature: signature + [0], message: message, publicKey: publicKey))
        #expect(!CryptoSuite.ed25519.verify(signature: signature, message: message, publicKey: Array(publicKey.prefix(31))))
        #expect(!CryptoSuite.ed25519.verify(signature: signature, message: message, publicKey: publicKey + [0]))
        #expect(!CryptoSuite.ed25519.verify(signature: [], message: message, publicKey: []))
    }
}
