import CSodium
import ChainCore
import ChainTesting
import Crypto
import Testing

/// `CryptoSuite.ed25519` verification: every signature an RFC 8032 signer makes verifies, and a
/// public key of small order, with which a signature can hold for messages its holder never
/// signed, verifies nothing.
@Suite struct Ed25519VerificationTests {
    /// Encodings of points of small order: the identity; y = −1 (order 2); y = 0 with either sign
    /// (order 4); two of order 8; and the identity encoded non-canonically (y = p + 1).
    static let smallOrderKeys: [[UInt8]] = [
        [1] + Array(repeating: 0, count: 31),
        [0xEC] + Array(repeating: 0xFF, count: 30) + [0x7F],
        Array(repeating: 0, count: 32),
        Array(repeating: 0, count: 31) + [0x80],
        Hex.decode("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")!,
        Hex.decode("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")!,
        [0xEE] + Array(repeating: 0xFF, count: 30) + [0x7F],
    ]

    /// R = the identity and S = 0 satisfy [S]B = R + [k]A whenever [k]A is the identity: for the
    /// identity key on every message, for the key of order 2 on about half of them. A cofactorless
    /// check accepts those: anyone could sign as the holder of such a key, and the holder could
    /// deny what it signed. (With BoringSSL's check, the code before libsodium, this test failed
    /// with 57 such signatures accepted.)
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
        var rng = SeededGenerator(seed: 0x5EED_ED25_5190)
        for length in [0, 1, 31, 32, 33, 64, 300, 4096] {
            for _ in 0..<8 {
                let key = try Curve25519.Signing.PrivateKey(
                    rawRepresentation: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
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
        #expect(carry == 0)  // S + L < 2^254
        #expect(!CryptoSuite.ed25519.verify(signature: Array(signature[..<32]) + s, message: message, publicKey: publicKey))
        #expect(!CryptoSuite.ed25519.verify(signature: Array(signature.prefix(63)), message: message, publicKey: publicKey))
        #expect(!CryptoSuite.ed25519.verify(signature: signature + [0], message: message, publicKey: publicKey))
        #expect(!CryptoSuite.ed25519.verify(signature: signature, message: message, publicKey: Array(publicKey.prefix(31))))
        #expect(!CryptoSuite.ed25519.verify(signature: signature, message: message, publicKey: publicKey + [0]))
        #expect(!CryptoSuite.ed25519.verify(signature: [], message: message, publicKey: []))
    }

    /// libsodium comes from the system: the node checks at start that it answers as the rule
    /// expects (`Ed25519Verification.selfTest`). Among the vectors, one that libsodium's development
    /// branch would accept: R off by the point of order 2, with S made by the key's holder for it
    /// ([S]B = R − T + [k]A). Accepting it would let a signer split validators of two versions.
    @Test func theSelfTestPassesAndROffByASmallOrderPointIsRefused() throws {
        try Ed25519Verification.selfTest()
        let key = Hex.decode("6d6664c4bd03ed765c41712fd26435e102629b4118796274f8176285a32d5517")!
        let message = Array("xiangchain ed25519 self-test".utf8)
        let honest = Hex.decode(
            "3447de74dc91a49009595af1617e9e256ffa76fb4c947fae0ab81fcaa77cc7090abbe8ecb31d057e3ed3fcd047c3ffda3c53705e52c5367b19c6073f9fe35c0a"
        )!
        let offByT = Hex.decode(
            "48d739df7d73c9a7c864986acab25c85d87810dafed1b9a0d33adf16d1c4a18c1f35d99783867ecf34f449783b7f09fa1619eb15c6d0f8ffff8b4c84804d2d07"
        )!
        #expect(CryptoSuite.ed25519.verify(signature: honest, message: message, publicKey: key))
        #expect(!CryptoSuite.ed25519.verify(signature: offByT, message: message, publicKey: key))
    }

    /// A key is sound only as a point of the group of prime order: every key made from a private
    /// key is; no key of small order is, nor an honest key with a point of small order added (a
    /// key its holder can sign with for some messages — when [k]T is the identity — and under
    /// which a check with the cofactor and one without disagree), nor a non-canonical encoding,
    /// nor the wrong length.
    @Test func onlyKeysOfThePrimeOrderGroupAreSound() throws {
        var rng = SeededGenerator(seed: 0x50_0D_4E_45)
        var honest: [[UInt8]] = []
        for _ in 0..<32 {
            let key = try Curve25519.Signing.PrivateKey(
                rawRepresentation: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
            honest.append(Array(key.publicKey.rawRepresentation))
        }
        for key in honest { #expect(Ed25519Verification.isSoundPublicKey(key)) }
        for key in Self.smallOrderKeys { #expect(!Ed25519Verification.isSoundPublicKey(key), "\(key)") }
        // The canonical points of small order, other than the identity, added to honest keys.
        for torsion in Self.smallOrderKeys[1..<6] {
            for key in honest.prefix(8) {
                var mixed = [UInt8](repeating: 0, count: 32)
                #expect(crypto_core_ed25519_add(&mixed, key, torsion) == 0)
                #expect(mixed != key)
                #expect(!Ed25519Verification.isSoundPublicKey(mixed), "\(key) + \(torsion)")
            }
        }
        // Wrong lengths, and y = 2^255 - 1, which is not below p (not a canonical encoding).
        #expect(!Ed25519Verification.isSoundPublicKey([]))
        #expect(!Ed25519Verification.isSoundPublicKey(honest[0] + [0]))
        #expect(!Ed25519Verification.isSoundPublicKey(Array(honest[0].dropLast())))
        #expect(!Ed25519Verification.isSoundPublicKey([UInt8](repeating: 0xFF, count: 32)))
    }
}
