import CSodium

/// Ed25519 verification of the chain's signatures (transactions, votes, finality signatures)
/// through the system's libsodium (`crypto_sign_verify_detached`), not swift-crypto's BoringSSL.
///
/// Two reasons. It refuses public keys (and R values) of small order and non-canonical
/// encodings: with such a key, the cofactorless check BoringSSL makes accepts a signature of
/// R = the identity and S = 0 on any message for which [k]A is the identity — every message for
/// the identity key — so anyone could sign as the holder of that key, and the holder could deny
/// what it signed (`Ed25519VerificationTests.aKeyOfSmallOrderVerifiesNothing`). And it is faster:
/// ~51 µs a verification against ~66–76 µs on this project's 2-core machines, measured side by side
/// in one process (`docs/performance.md`, thirteenth pass), and each transaction is verified once
/// by every validator. Every signature an RFC 8032 signer makes verifies with both.
///
/// Signing stays with swift-crypto: Ed25519 signatures are deterministic, the same bytes either way.
enum Ed25519Verification {
    /// `sodium_init` once, before the first verification (it may be called from any thread).
    private static let ready: Bool = sodium_init() >= 0

    /// Whether `signature` (64 bytes) over `message` verifies with the 32-byte `publicKey`.
    static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard ready, signature.count == 64, publicKey.count == 32 else { return false }
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
}
