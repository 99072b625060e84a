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
        for rule in [Ed25519Rule.cofactorless, .cofactored] {
            for key in Self.smallOrderKeys {
                for n in 0..<32 {
                    let message = Array("record \(n)".utf8)
                    #expect(
                        !CryptoSuite.ed25519.verify(signature: forged, message: message, publicKey: key, ed25519: rule),
                        "\(key) \(n)")
                }
            }
        }
    }

    /// Signatures made by swift-crypto (the signer of nodes, clients and the SDK) verify, for
    /// messages of every length; any single bit changed in the signature, the message or the key
    /// fails, as it does with swift-crypto's own verification.
    @Test func agreesWithTheSignerOnHonestSignaturesAndTheirCorruptions() throws {
        var rng = SeededGenerator(seed: 0x5EED_ED25_5190)
        // Both rules agree on these, which have no part of small order anywhere.
        func verifies(_ signature: [UInt8], _ message: [UInt8], _ key: [UInt8]) -> Bool {
            let verdicts = [Ed25519Rule.cofactorless, .cofactored].map {
                CryptoSuite.ed25519.verify(signature: signature, message: message, publicKey: key, ed25519: $0)
            }
            #expect(verdicts[0] == verdicts[1])
            return verdicts[0]
        }
        for length in [0, 1, 31, 32, 33, 64, 300, 4096] {
            for _ in 0..<8 {
                let key = try Curve25519.Signing.PrivateKey(
                    rawRepresentation: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
                let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let signature = Array(try key.signature(for: message))
                let publicKey = Array(key.publicKey.rawRepresentation)
                #expect(verifies(signature, message, publicKey))
                var badSignature = signature
                badSignature[Int.random(in: 0..<64, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                #expect(!verifies(badSignature, message, publicKey))
                #expect(!key.publicKey.isValidSignature(badSignature, for: message))
                if !message.isEmpty {
                    var badMessage = message
                    badMessage[Int.random(in: 0..<length, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                    #expect(!verifies(signature, badMessage, publicKey))
                }
                var badKey = publicKey
                badKey[Int.random(in: 0..<32, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                #expect(!verifies(signature, message, badKey))
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
        for rule in [Ed25519Rule.cofactorless, .cofactored] {
            #expect(
                !CryptoSuite.ed25519.verify(
                    signature: Array(signature[..<32]) + s, message: message, publicKey: publicKey, ed25519: rule))
            #expect(
                !CryptoSuite.ed25519.verify(
                    signature: Array(signature.prefix(63)), message: message, publicKey: publicKey, ed25519: rule))
            #expect(
                !CryptoSuite.ed25519.verify(signature: signature + [0], message: message, publicKey: publicKey, ed25519: rule))
            #expect(
                !CryptoSuite.ed25519.verify(
                    signature: signature, message: message, publicKey: Array(publicKey.prefix(31)), ed25519: rule))
            #expect(
                !CryptoSuite.ed25519.verify(signature: signature, message: message, publicKey: publicKey + [0], ed25519: rule))
            #expect(!CryptoSuite.ed25519.verify(signature: [], message: message, publicKey: [], ed25519: rule))
        }
    }

    /// The node checks at start that both verifiers answer their vectors, the cofactored one alone
    /// and in a batch (`Ed25519Verification.selfTest`). Among them: R off by the point of order 2,
    /// with S made by the key's holder for it ([S]B = R − T + [k]A). The cofactorless rule (every
    /// signature but transactions', and the offline proof verifiers) refuses it; the cofactored
    /// rule of transactions takes it — as it must for a batch to give its members' verdicts (the
    /// rule change of `docs/crypto.md`).
    @Test func theSelfTestPassesAndROffByASmallOrderPointVerifiesOnlyWithTheCofactor() throws {
        try Ed25519Verification.selfTest()
        let key = Hex.decode("6d6664c4bd03ed765c41712fd26435e102629b4118796274f8176285a32d5517")!
        let message = Array("xiangchain ed25519 self-test".utf8)
        let honest = Hex.decode(
            "3447de74dc91a49009595af1617e9e256ffa76fb4c947fae0ab81fcaa77cc7090abbe8ecb31d057e3ed3fcd047c3ffda3c53705e52c5367b19c6073f9fe35c0a"
        )!
        let offByT = Hex.decode(
            "48d739df7d73c9a7c864986acab25c85d87810dafed1b9a0d33adf16d1c4a18c1f35d99783867ecf34f449783b7f09fa1619eb15c6d0f8ffff8b4c84804d2d07"
        )!
        for rule in [Ed25519Rule.cofactorless, .cofactored] {
            #expect(CryptoSuite.ed25519.verify(signature: honest, message: message, publicKey: key, ed25519: rule))
        }
        #expect(!CryptoSuite.ed25519.verify(signature: offByT, message: message, publicKey: key))
        #expect(CryptoSuite.ed25519.verify(signature: offByT, message: message, publicKey: key, ed25519: .cofactored))
        #expect(CryptoSuite.ed25519.verify(batch: [(offByT, message, key), (honest, message, key)]) == [true, true])
    }

    /// RFC 8032 §7.1, tests 1–3: swift-crypto signs them to the published bytes, and they verify
    /// alone and together.
    @Test func theRFC8032VectorsVerify() throws {
        let vectors: [(secret: String, publicKey: String, message: String, signature: String)] = [
            (
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
            ),
            (
                "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
            ),
            (
                "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
                "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
                "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
            ),
        ]
        var batch: [(signature: [UInt8], message: [UInt8], publicKey: [UInt8])] = []
        for v in vectors {
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: Hex.decode(v.secret)!)
            let message = Hex.decode(v.message)!
            #expect(Hex.encode(Array(key.publicKey.rawRepresentation)) == v.publicKey)
            #expect(Hex.encode(Array(try key.signature(for: message))) == v.signature)
            let item = (Hex.decode(v.signature)!, message, Hex.decode(v.publicKey)!)
            for rule in [Ed25519Rule.cofactorless, .cofactored] {
                #expect(CryptoSuite.ed25519.verify(signature: item.0, message: item.1, publicKey: item.2, ed25519: rule))
            }
            batch.append(item)
        }
        #expect(CryptoSuite.ed25519.verify(batch: batch) == [true, true, true])
    }

    /// The rules on signatures its holder made with R moved by each point of small order: the
    /// cofactored rule takes them (its equation holds, R is not of small order), the cofactorless
    /// one refuses them (as libsodium does); an R that is itself of small order is refused by
    /// both though the cofactored equation holds for it. The crafted honest case matches swift-crypto's signature.
    @Test func signaturesWithRMovedByASmallOrderPointFollowTheCofactoredRule() throws {
        var rng = SeededGenerator(seed: 0x70_25_10_4E)
        for n in 0..<8 {
            let seed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let message = Array("scan \(n)".utf8)
            let swiftKey = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
            let identity: [UInt8] = [1] + Array(repeating: 0, count: 31)
            let plain = TorsionSignature.make(seed: seed, message: message, torsion: identity)
            #expect(plain.publicKey == Array(swiftKey.publicKey.rawRepresentation))
            #expect(plain.signature == Array(try swiftKey.signature(for: message)))
            for torsion in Self.smallOrderKeys[1..<6] {
                let moved = TorsionSignature.make(seed: seed, message: message, torsion: torsion)
                #expect(moved.signature != plain.signature)
                #expect(
                    CryptoSuite.ed25519.verify(
                        signature: moved.signature, message: message, publicKey: moved.publicKey, ed25519: .cofactored))
                #expect(!CryptoSuite.ed25519.verify(signature: moved.signature, message: message, publicKey: moved.publicKey))
                #expect(crypto_sign_verify_detached(moved.signature, message, UInt64(message.count), moved.publicKey) != 0)
                let small = TorsionSignature.make(seed: seed, message: message, torsion: torsion, torsionOnly: true)
                for rule in [Ed25519Rule.cofactorless, .cofactored] {
                    #expect(
                        !CryptoSuite.ed25519.verify(
                            signature: small.signature, message: message, publicKey: small.publicKey, ed25519: rule))
                }
            }
        }
    }

    /// A batch gives the verdicts of its members checked alone under the cofactored rule, whatever
    /// it mixes: honest
    /// signatures under several keys (some repeated), single bits changed anywhere, signatures
    /// with R moved by a point of small order (valid) or of small order (invalid), S + L, keys of
    /// small order, random bytes, wrong lengths — in batches of 0 to 160 (groups of 64 inside),
    /// and each alone as a batch of one (a single submission's).
    @Test func aBatchGivesTheVerdictsOfItsMembersAlone() throws {
        var rng = SeededGenerator(seed: 0xBA7C_ED25)
        let seeds = (0..<5).map { _ in (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        var pool: [(signature: [UInt8], message: [UInt8], publicKey: [UInt8])] = []
        for n in 0..<160 {
            let seed = seeds[n % seeds.count]
            let message = (0..<(n * 7 % 200)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let torsion = Self.smallOrderKeys[n % 6]
            var item = TorsionSignature.make(seed: seed, message: message, torsion: torsion, torsionOnly: n % 23 == 5)
            switch n % 10 {
            case 3: item.signature[Int.random(in: 0..<64, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 5: item.publicKey = Self.smallOrderKeys[n % Self.smallOrderKeys.count]
            case 7: item.signature = (0..<64).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 8 where n % 20 == 8: item.signature.removeLast()
            case 9 where n % 20 == 9: item.publicKey = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
            default: break
            }
            pool.append((item.signature, message, item.publicKey))
        }
        let alone = pool.map {
            CryptoSuite.ed25519.verify(
                signature: $0.signature, message: $0.message, publicKey: $0.publicKey, ed25519: .cofactored)
        }
        #expect(alone.filter { $0 }.count > 60)
        #expect(alone.filter { !$0 }.count > 30)
        #expect(CryptoSuite.ed25519.verify(batch: []) == [])
        #expect(pool.map { CryptoSuite.ed25519.verify(batch: [$0]) } == alone.map { [$0] })
        for size in [1, 2, 3, 8, 63, 64, 65, 130, 160] {
            let start = (size * 13) % (pool.count - size + 1)
            let batch = Array(pool[start..<start + size])
            #expect(CryptoSuite.ed25519.verify(batch: batch) == Array(alone[start..<start + size]), "size \(size)")
        }
        // All valid, then one bad among them: only it fails.
        let valid = pool.indices.filter { alone[$0] }.prefix(64).map { pool[$0] }
        #expect(CryptoSuite.ed25519.verify(batch: valid) == Array(repeating: true, count: valid.count))
        var one = valid
        one[17].signature[50] ^= 4
        var expected = Array(repeating: true, count: valid.count)
        expected[17] = false
        #expect(CryptoSuite.ed25519.verify(batch: one) == expected)
    }

    /// More keys than the verifier remembers (1,024 slots by their encoding), interleaved: each
    /// signature verifies under its own key and not under the next one, whichever key a slot
    /// held last.
    @Test func keysSharingAMemorySlotAreNeverTakenForEachOther() throws {
        var rng = SeededGenerator(seed: 0x51_07_5)
        var items: [(signature: [UInt8], message: [UInt8], publicKey: [UInt8])] = []
        for n in 0..<1_300 {
            let key = try Curve25519.Signing.PrivateKey(
                rawRepresentation: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let message = Array("record \(n)".utf8)
            items.append((Array(try key.signature(for: message)), message, Array(key.publicKey.rawRepresentation)))
        }
        for round in 0..<2 {
            for (n, item) in items.enumerated() {
                let other = items[(n + 1 + round) % items.count].publicKey
                #expect(
                    CryptoSuite.ed25519.verify(
                        signature: item.signature, message: item.message, publicKey: item.publicKey, ed25519: .cofactored))
                #expect(
                    !CryptoSuite.ed25519.verify(
                        signature: item.signature, message: item.message, publicKey: other, ed25519: .cofactored))
            }
        }
        let swapped = items.enumerated().map { n, item in
            (item.signature, item.message, n % 3 == 0 ? items[(n + 7) % items.count].publicKey : item.publicKey)
        }
        #expect(CryptoSuite.ed25519.verify(batch: swapped) == items.indices.map { $0 % 3 != 0 })
    }

    /// On honest signatures and their corruptions (no R moved by a small-order point, which no
    /// RFC 8032 signer makes) the two rules agree, and the cofactorless one is libsodium's.
    @Test func onHonestSignaturesAndTheirCorruptionsTheRuleAgreesWithLibsodium() throws {
        var rng = SeededGenerator(seed: 0x50D1_0E)
        for n in 0..<200 {
            let key = try Curve25519.Signing.PrivateKey(
                rawRepresentation: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let message = (0..<(n % 90)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var signature = Array(try key.signature(for: message))
            var publicKey = Array(key.publicKey.rawRepresentation)
            if n % 2 == 1 { signature[Int.random(in: 0..<64, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng) }
            if n % 5 == 2 { publicKey[Int.random(in: 0..<32, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng) }
            let sodium = crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
            #expect(CryptoSuite.ed25519.verify(signature: signature, message: message, publicKey: publicKey) == sodium)
            #expect(
                CryptoSuite.ed25519.verify(signature: signature, message: message, publicKey: publicKey, ed25519: .cofactored)
                    == sodium)
        }
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
