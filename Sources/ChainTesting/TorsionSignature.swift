import CSodium

/// Ed25519 signatures that no RFC 8032 signer makes, for tests of the verification rules
/// (`Ed25519Rule`): libsodium's scalar and point functions with a key's seed.
public enum TorsionSignature {
    /// A signature made by the key's holder with R moved by a point of small order: the honest
    /// R = [r]B plus `torsion`, k = SHA-512(R ‖ A ‖ M), S = r + k·a (libsodium's scalar and point
    /// functions). With `torsionOnly`, R is the small-order point itself and S = k·a.
    public static func make(
        seed: [UInt8], message: [UInt8], torsion: [UInt8], torsionOnly: Bool = false
    ) -> (signature: [UInt8], publicKey: [UInt8]) {
        var h = [UInt8](repeating: 0, count: 64)
        crypto_hash_sha512(&h, seed, UInt64(seed.count))
        var clamped = Array(h[0..<32])
        clamped[0] &= 248
        clamped[31] &= 127
        clamped[31] |= 64
        var a = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_reduce(&a, clamped + [UInt8](repeating: 0, count: 32))
        var publicKey = [UInt8](repeating: 0, count: 32)
        _ = crypto_scalarmult_ed25519_base_noclamp(&publicKey, a)
        var nonce = [UInt8](repeating: 0, count: 64)
        let nonceInput = Array(h[32..<64]) + message
        crypto_hash_sha512(&nonce, nonceInput, UInt64(nonceInput.count))
        var r = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_reduce(&r, nonce)
        var rPoint = [UInt8](repeating: 0, count: 32)
        if torsionOnly {
            rPoint = torsion
        } else {
            var honestR = [UInt8](repeating: 0, count: 32)
            _ = crypto_scalarmult_ed25519_base_noclamp(&honestR, r)
            _ = crypto_core_ed25519_add(&rPoint, honestR, torsion)
        }
        var digest = [UInt8](repeating: 0, count: 64)
        let input = rPoint + publicKey + message
        crypto_hash_sha512(&digest, input, UInt64(input.count))
        var k = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_reduce(&k, digest)
        var ka = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_mul(&ka, k, a)
        var s = ka
        if !torsionOnly { crypto_core_ed25519_scalar_add(&s, r, ka) }
        return (rPoint + s, publicKey)
    }

}
