import CEd25519
import CSodium

/// The two Ed25519 equations a signature may be held to (RFC 8032 §5.1.7 allows both): both
/// refuse S ≥ L, non-canonical encodings, and keys and R of small order.
public enum Ed25519Rule: Sendable {
    /// [S]B = R + [k]A exactly (libsodium's check): every signature but transactions' — votes,
    /// timeouts, finality and epoch-change signatures, snapshots, sync batches, API request
    /// authentication — and what the offline proof verifiers (the Python client, the browser)
    /// check.
    case cofactorless
    /// [8]([S]B − R − [k]A) = the identity: transactions' signatures, which are checked in
    /// batches (`Ed25519Verification.verify(batch:)`); it also takes a signature whose R its key's
    /// holder moved by a point of small order.
    case cofactored
}

/// Ed25519 verification of the chain's signatures (everything goes through `CryptoSuite.verify`
/// and `CryptoSuite.verify(batch:)`), not swift-crypto's BoringSSL.
///
/// Keys and R of small order are refused under both rules: with such a key an equation holds for
/// R = the identity and S = 0 on every message for which [k]A vanishes, so anyone could sign as
/// its holder and the holder could deny what it signed
/// (`Ed25519VerificationTests.aKeyOfSmallOrderVerifiesNothing`).
///
/// - `.cofactorless` goes through the system's libsodium (`crypto_sign_verify_detached`): which
///   signatures verify is a rule every validator must apply alike and the library is the
///   system's, so before the first verification it must answer `vectors` as expected (releases
///   1.0.16–1.0.22 do; older ones take keys of small order, its development branch an R off by
///   a point of small order); a node refuses to start otherwise (`selfTest`, `crypto_failure`).
/// - `.cofactored` goes through this package's own C code (`Sources/CEd25519`), one signature or
///   a batch with the same verdicts: a batch is checked as one random linear combination of its
///   equations, which gives its members' verdicts only with the cofactor (without it, an R off
///   by a point of small order could make the combination pass or fail by chance). It is faster
///   alone too (a key's table of multiples is remembered). Transactions use it: each is verified
///   by every validator, most of them in batches of gossip and of the submission stream.
///
/// `docs/crypto.md` gives the argument and the rule change. Signing stays with swift-crypto.
public enum Ed25519Verification {
    /// The outcome of the initialisations and the vectors, once (it may be called from any thread).
    private static let status: Result<Void, ChainError> = check()

    /// Throws `crypto_failure` unless libsodium and the verifier are initialised and answer every
    /// vector as this code expects. Nodes call it as they start.
    public static func selfTest() throws(ChainError) { try status.get() }

    /// Whether `signature` (64 bytes) over `message` verifies with the 32-byte `publicKey` under
    /// `rule`; false for everything when `selfTest` fails.
    static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8], rule: Ed25519Rule) -> Bool {
        guard case .success = status else { return false }
        switch rule {
        case .cofactorless: return sodiumVerify(signature, message, publicKey)
        case .cofactored: return verifyOne(signature, message, publicKey)
        }
    }

    /// The verdicts of `verify(signature:message:publicKey:rule: .cofactored)` for every item,
    /// found faster: the signatures are checked together (groups of up to 64, one random linear
    /// combination of their equations each), and only a group that fails is checked signature by
    /// signature. A batch of one (each single submission's) is checked alone, without the copies
    /// and tables of a group.
    static func verify(batch items: [(signature: [UInt8], message: [UInt8], publicKey: [UInt8])]) -> [Bool] {
        guard case .success = status else { return Array(repeating: false, count: items.count) }
        if items.count == 1 { return [verifyOne(items[0].signature, items[0].message, items[0].publicKey)] }
        return verifyBatchUnchecked(items)
    }

    static func verifyBatchUnchecked(_ items: [(signature: [UInt8], message: [UInt8], publicKey: [UInt8])]) -> [Bool] {
        var verdicts = Array(repeating: false, count: items.count)
        let wellFormed = items.indices.filter { items[$0].signature.count == 64 && items[$0].publicKey.count == 32 }
        guard !wellFormed.isEmpty else { return verdicts }
        // One contiguous copy of each part, so that C sees stable pointers to every item.
        var signatures: [UInt8] = []
        var keys: [UInt8] = []
        var messages: [UInt8] = []
        var lengths: [Int] = []
        signatures.reserveCapacity(64 * wellFormed.count)
        keys.reserveCapacity(32 * wellFormed.count)
        lengths.reserveCapacity(wellFormed.count)
        messages.reserveCapacity(wellFormed.reduce(0) { $0 + items[$1].message.count })
        for i in wellFormed {
            signatures += items[i].signature
            keys += items[i].publicKey
            messages += items[i].message
            lengths.append(items[i].message.count)
        }
        var ok = [UInt8](repeating: 0, count: wellFormed.count)
        signatures.withUnsafeBufferPointer { s in
            keys.withUnsafeBufferPointer { k in
                messages.withUnsafeBufferPointer { m in
                    // An empty message may have no storage: any valid pointer with length 0.
                    let messageBase = m.baseAddress ?? s.baseAddress!
                    var offset = 0
                    var sigPointers: [UnsafePointer<UInt8>?] = []
                    var keyPointers: [UnsafePointer<UInt8>?] = []
                    var messagePointers: [UnsafePointer<UInt8>?] = []
                    for (n, length) in lengths.enumerated() {
                        sigPointers.append(s.baseAddress! + 64 * n)
                        keyPointers.append(k.baseAddress! + 32 * n)
                        messagePointers.append(messageBase + offset)
                        offset += length
                    }
                    _ = xc_ed25519_verify_batch(
                        lengths.count, sigPointers, messagePointers, lengths, keyPointers, &ok)
                }
            }
        }
        for (n, i) in wellFormed.enumerated() { verdicts[i] = ok[n] == 1 }
        return verdicts
    }

    /// Whether `publicKey` is an Ed25519 key whose signatures prove something: 32 bytes, the
    /// canonical encoding of a point on the curve, in the group of prime order L (neither of small
    /// order nor with a part of small order). Every key made from a private key is. With a key of
    /// small order anyone can make signatures that verify; with a part of small order, verifiers
    /// that check the equation with and without the cofactor disagree over some signatures. So no
    /// such key is trusted as a CA's, a member's or a validator's (`CertificateInfo.hasSoundKey`).
    public static func isSoundPublicKey(_ publicKey: [UInt8]) -> Bool {
        guard case .success = status, publicKey.count == 32 else { return false }
        return publicKey.withUnsafeBufferPointer { crypto_core_ed25519_is_valid_point($0.baseAddress!) == 1 }
    }

    static func sodiumVerify(_ signature: [UInt8], _ message: [UInt8], _ publicKey: [UInt8]) -> Bool {
        withParts(signature, message, publicKey) { s, m, length, k in
            crypto_sign_verify_detached(s, m, UInt64(length), k) == 0
        }
    }

    static func verifyOne(_ signature: [UInt8], _ message: [UInt8], _ publicKey: [UInt8]) -> Bool {
        withParts(signature, message, publicKey) { s, m, length, k in xc_ed25519_verify(s, m, length, k) == 1 }
    }

    /// `check` on the parts' storage; false unless the signature is 64 bytes and the key 32.
    private static func withParts(
        _ signature: [UInt8], _ message: [UInt8], _ publicKey: [UInt8],
        _ check: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, Int, UnsafePointer<UInt8>) -> Bool
    ) -> Bool {
        guard signature.count == 64, publicKey.count == 32 else { return false }
        return signature.withUnsafeBufferPointer { s in
            publicKey.withUnsafeBufferPointer { k in
                message.withUnsafeBufferPointer { m in
                    // An empty message may have no storage: any valid pointer with length 0.
                    check(s.baseAddress!, m.baseAddress ?? s.baseAddress!, m.count, k.baseAddress!)
                }
            }
        }
    }

    /// Known answers: (what, signature, message, public key, whether it verifies without the
    /// cofactor, and with it). The key is that of the seed SHA-256("xiangchain ed25519
    /// self-test"), and the message that text.
    static let vectors: [(String, String, String, String, Bool, Bool)] = {
        let key = "6d6664c4bd03ed765c41712fd26435e102629b4118796274f8176285a32d5517"
        let message = Hex.encode(Array("xiangchain ed25519 self-test".utf8))
        let identity = "01" + String(repeating: "00", count: 31)
        return [
            (
                "an RFC 8032 signature",
                "3447de74dc91a49009595af1617e9e256ffa76fb4c947fae0ab81fcaa77cc709"
                    + "0abbe8ecb31d057e3ed3fcd047c3ffda3c53705e52c5367b19c6073f9fe35c0a", message, key, true, true
            ),
            (
                "the same signature with L added to S",
                "3447de74dc91a49009595af1617e9e256ffa76fb4c947fae0ab81fcaa77cc709"
                    + "f78ede49ce8017d61470f47326bddeef3c53705e52c5367b19c6073f9fe35c1a", message, key, false, false
            ),
            (
                "R = the identity and S = 0 from the identity as the key",
                identity + String(repeating: "00", count: 32), message, identity, false, false
            ),
            (
                "R off by the point of order 2 (S made by the key's holder for that R)",
                "48d739df7d73c9a7c864986acab25c85d87810dafed1b9a0d33adf16d1c4a18c"
                    + "1f35d99783867ecf34f449783b7f09fa1619eb15c6d0f8ffff8b4c84804d2d07", message, key, false, true
            ),
        ]
    }()

    static func check() -> Result<Void, ChainError> {
        guard sodium_init() >= 0 else { return .failure(ChainError(.cryptoFailure, "libsodium did not initialise")) }
        guard xc_ed25519_init() == 0 else {
            return .failure(ChainError(.cryptoFailure, "the Ed25519 verifier's constants did not check out"))
        }
        // Each vector alone under each rule, then all of them as one batch (with the honest one
        // twice, so that the batch holds good and bad signatures together).
        var batch: [(signature: [UInt8], message: [UInt8], publicKey: [UInt8])] = []
        var expected: [Bool] = []
        for (what, signature, message, key, cofactorless, cofactored) in vectors + [vectors[0]] {
            guard let s = Hex.decode(signature), let m = Hex.decode(message), let k = Hex.decode(key) else {
                return .failure(ChainError(.cryptoFailure, "a self-test vector does not decode"))
            }
            guard sodiumVerify(s, m, k) == cofactorless else {
                let version = String(cString: sodium_version_string())
                return .failure(
                    ChainError(
                        .cryptoFailure,
                        "libsodium \(version) \(cofactorless ? "refuses" : "accepts") \(what), unlike the releases this chain's Ed25519 rule is written for (1.0.16–1.0.22)"
                    ))
            }
            guard verifyOne(s, m, k) == cofactored else {
                return .failure(
                    ChainError(
                        .cryptoFailure, "the cofactored Ed25519 verifier \(cofactored ? "refuses" : "accepts") \(what)"))
            }
            batch.append((s, m, k))
            expected.append(cofactored)
        }
        guard verifyBatchUnchecked(batch) == expected else {
            return .failure(
                ChainError(.cryptoFailure, "the cofactored Ed25519 verifier answers the vectors otherwise in a batch"))
        }
        // Which keys are sound decides what membership and governance accept in a block's
        // execution, so that function answers known keys too: the self-test key; the identity;
        // the self-test key plus the point of order 2.
        let keys: [(String, String, Bool)] = [
            ("an honest key", "6d6664c4bd03ed765c41712fd26435e102629b4118796274f8176285a32d5517", true),
            ("the identity", "01" + String(repeating: "00", count: 31), false),
            ("a key with a part of order 2", "80999b3b42fc1289a3be8ed02d9bca1efd9d64bee7869d8b07e89d7a5cd2aae8", false),
        ]
        for (what, key, sound) in keys {
            guard let k = Hex.decode(key), (crypto_core_ed25519_is_valid_point(k) == 1) == sound else {
                let version = String(cString: sodium_version_string())
                return .failure(
                    ChainError(
                        .cryptoFailure,
                        "libsodium \(version) \(sound ? "refuses" : "accepts") \(what) as a point of the prime-order group, unlike the releases this chain's rules are written for"
                    ))
            }
        }
        return .success(())
    }
}
