import CEd25519
import CSodium

/// Ed25519 verification of the chain's signatures — every signature of the chain's data goes
/// through `CryptoSuite.verify`: transactions, votes, timeouts, finality and epoch-change
/// signatures, snapshots, sync batches, proofs, API request authentication — by this package's
/// own C code (`Sources/CEd25519`), not swift-crypto's BoringSSL; one signature at a time or many
/// at once (`verify(batch:)`), with the same verdicts.
///
/// The rule (RFC 8032 §5.1.7, with the cofactor): S below the group order L; the key A and R
/// canonical encodings of points on the curve, neither of small order; and
/// [8]([S]B − R − [k]A) the identity, k = SHA-512(R ‖ A ‖ M) mod L. Keys and R of small order are
/// refused: with such a key the equation holds for R = the identity and S = 0 on every message for
/// which [k]A vanishes, so anyone could sign as its holder and the holder could deny what it signed
/// (`Ed25519VerificationTests.aKeyOfSmallOrderVerifiesNothing`). The cofactor makes a batch give
/// the verdicts of its members alone: a batch is checked as one random linear combination of the
/// equations, which without the cofactor could pass or fail by chance when an R is off by a point
/// of small order. So the one rule is the cofactored one, for single signatures too — which also
/// accepts a signature whose R its key's holder moved by a point of small order (only the holder
/// can make one; no RFC 8032 signer does). `docs/crypto.md` gives the argument and the rule change.
///
/// Signing stays with swift-crypto.
public enum Ed25519Verification {
    /// The outcome of the initialisations and the vectors, once (it may be called from any thread).
    private static let status: Result<Void, ChainError> = check()

    /// Throws `crypto_failure` unless libsodium and the verifier are initialised and answer every
    /// vector as this code expects. Nodes call it as they start.
    public static func selfTest() throws(ChainError) { try status.get() }

    /// Whether `signature` (64 bytes) over `message` verifies with the 32-byte `publicKey`; false
    /// for everything when `selfTest` fails.
    static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard case .success = status else { return false }
        return verifyOne(signature, message, publicKey)
    }

    /// The verdicts of `verify(signature:message:publicKey:)` for every item, found faster: the
    /// signatures are checked together (groups of up to 64, one random linear combination of
    /// their equations each), and only a group that fails is checked signature by signature.
    static func verify(batch items: [(signature: [UInt8], message: [UInt8], publicKey: [UInt8])]) -> [Bool] {
        guard case .success = status else { return Array(repeating: false, count: items.count) }
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

    static func verifyOne(_ signature: [UInt8], _ message: [UInt8], _ publicKey: [UInt8]) -> Bool {
        guard signature.count == 64, publicKey.count == 32 else { return false }
        return signature.withUnsafeBufferPointer { s in
            publicKey.withUnsafeBufferPointer { k in
                message.withUnsafeBufferPointer { m in
                    // An empty message may have no storage: any valid pointer with length 0.
                    let base = m.baseAddress ?? s.baseAddress!
                    return xc_ed25519_verify(s.baseAddress!, base, m.count, k.baseAddress!) == 1
                }
            }
        }
    }

    /// Known answers: (what, signature, message, public key, whether it verifies). The key is
    /// that of the seed SHA-256("xiangchain ed25519 self-test"), and the message that text.
    static let vectors: [(String, String, String, String, Bool)] = {
        let key = "6d6664c4bd03ed765c41712fd26435e102629b4118796274f8176285a32d5517"
        let message = Hex.encode(Array("xiangchain ed25519 self-test".utf8))
        let identity = "01" + String(repeating: "00", count: 31)
        return [
            (
                "an RFC 8032 signature",
                "3447de74dc91a49009595af1617e9e256ffa76fb4c947fae0ab81fcaa77cc709"
                    + "0abbe8ecb31d057e3ed3fcd047c3ffda3c53705e52c5367b19c6073f9fe35c0a", message, key, true
            ),
            (
                "the same signature with L added to S",
                "3447de74dc91a49009595af1617e9e256ffa76fb4c947fae0ab81fcaa77cc709"
                    + "f78ede49ce8017d61470f47326bddeef3c53705e52c5367b19c6073f9fe35c1a", message, key, false
            ),
            (
                "R = the identity and S = 0 from the identity as the key",
                identity + String(repeating: "00", count: 32), message, identity, false
            ),
            (
                "R off by the point of order 2 (S made by the key's holder for that R; the cofactored equation holds)",
                "48d739df7d73c9a7c864986acab25c85d87810dafed1b9a0d33adf16d1c4a18c"
                    + "1f35d99783867ecf34f449783b7f09fa1619eb15c6d0f8ffff8b4c84804d2d07", message, key, true
            ),
        ]
    }()

    static func check() -> Result<Void, ChainError> {
        guard sodium_init() >= 0 else { return .failure(ChainError(.cryptoFailure, "libsodium did not initialise")) }
        guard xc_ed25519_init() == 0 else {
            return .failure(ChainError(.cryptoFailure, "the Ed25519 verifier's constants did not check out"))
        }
        // Each vector alone, then all of them as one batch (with the honest one twice, so that the
        // batch holds good and bad signatures together).
        var batch: [(signature: [UInt8], message: [UInt8], publicKey: [UInt8])] = []
        var expected: [Bool] = []
        for (what, signature, message, key, verifies) in vectors + [vectors[0]] {
            guard let s = Hex.decode(signature), let m = Hex.decode(message), let k = Hex.decode(key),
                verifyOne(s, m, k) == verifies
            else {
                return .failure(
                    ChainError(.cryptoFailure, "the Ed25519 verifier \(verifies ? "refuses" : "accepts") \(what)"))
            }
            batch.append((s, m, k))
            expected.append(verifies)
        }
        guard verifyBatchUnchecked(batch) == expected else {
            return .failure(ChainError(.cryptoFailure, "the Ed25519 verifier answers the vectors otherwise in a batch"))
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
