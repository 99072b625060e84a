import CSodium

/// Ed25519 verification of the chain's signatures — every signature of the chain's data goes
/// through `CryptoSuite.verify`: transactions, votes, timeouts, finality and epoch-change
/// signatures, snapshots, sync batches, proofs, API request authentication — through the
/// system's libsodium (`crypto_sign_verify_detached`), not swift-crypto's BoringSSL.
///
/// Two reasons. It refuses public keys (and R values) of small order and non-canonical
/// encodings: with such a key, the cofactorless check BoringSSL makes accepts a signature of
/// R = the identity and S = 0 on any message for which [k]A is the identity — every message for
/// the identity key — so anyone could sign as the holder of that key, and the holder could deny
/// what it signed (`Ed25519VerificationTests.aKeyOfSmallOrderVerifiesNothing`). And it is faster
/// (`docs/performance.md`, thirteenth pass); each transaction is verified once by every validator.
///
/// Which signatures verify is a rule every validator must apply alike, and libsodium comes from
/// the system, not from this package: releases 1.0.16–1.0.22 check alike, older ones take keys of
/// small order, and libsodium's development branch accepts R off by a point of small order. So
/// before the first verification the library must answer `vectors` as this code expects; a node
/// refuses to start otherwise (`selfTest`, `crypto_failure`), and every verification fails.
///
/// Signing stays with swift-crypto.
public enum Ed25519Verification {
    /// The outcome of `sodium_init` and the vectors, once (it may be called from any thread).
    private static let status: Result<Void, ChainError> = check()

    /// Throws `crypto_failure` unless libsodium is initialised and answers every vector as this
    /// code expects. Nodes call it as they start.
    public static func selfTest() throws(ChainError) { try status.get() }

    /// Whether `signature` (64 bytes) over `message` verifies with the 32-byte `publicKey`; false
    /// for everything when `selfTest` fails.
    static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard case .success = status else { return false }
        return sodiumVerify(signature, message, publicKey)
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
        guard signature.count == 64, publicKey.count == 32 else { return false }
        return signature.withUnsafeBufferPointer { s in
            publicKey.withUnsafeBufferPointer { k in
                message.withUnsafeBufferPointer { m in
                    // An empty message may have no storage: any valid pointer with length 0.
                    let base = m.baseAddress ?? s.baseAddress!
                    return crypto_sign_verify_detached(s.baseAddress!, base, UInt64(m.count), k.baseAddress!) == 0
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
                "R off by the point of order 2 (S made by the key's holder for that R)",
                "48d739df7d73c9a7c864986acab25c85d87810dafed1b9a0d33adf16d1c4a18c"
                    + "1f35d99783867ecf34f449783b7f09fa1619eb15c6d0f8ffff8b4c84804d2d07", message, key, false
            ),
        ]
    }()

    static func check() -> Result<Void, ChainError> {
        guard sodium_init() >= 0 else { return .failure(ChainError(.cryptoFailure, "libsodium did not initialise")) }
        for (what, signature, message, key, verifies) in vectors {
            guard let s = Hex.decode(signature), let m = Hex.decode(message), let k = Hex.decode(key),
                sodiumVerify(s, m, k) == verifies
            else {
                let version = String(cString: sodium_version_string())
                return .failure(
                    ChainError(
                        .cryptoFailure,
                        "libsodium \(version) \(verifies ? "refuses" : "accepts") \(what), unlike the releases this chain's Ed25519 rule is written for (1.0.16–1.0.22)"
                    ))
            }
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
