import CSMShim

/// HMAC (RFC 2104) with SM3: 32-byte authentication codes, and HKDF (RFC 5869) over it.
public enum HMACSM3 {
    /// Tag length in bytes.
    public static let byteCount = 32

    /// The HMAC-SM3 of `data` under `key` (any length; keys longer than 64 bytes are hashed first).
    public static func authenticationCode(for data: [UInt8], key: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: byteCount)
        guard gm_hmac_sm3(key, key.count, data, data.count, &out) == GM_OK else {
            preconditionFailure("OpenSSL has no HMAC-SM3: \(OpenSSL.lastError())")
        }
        return out
    }

    /// Whether `code` is the HMAC-SM3 of `data` under `key`, compared in constant time.
    public static func isValidAuthenticationCode(_ code: [UInt8], for data: [UInt8], key: [UInt8]) -> Bool {
        constantTimeEqual(code, authenticationCode(for: data, key: key))
    }

    /// HKDF (RFC 5869) with SM3: `count` bytes derived from `key`, `salt` and `info`.
    public static func deriveKey(from key: [UInt8], salt: [UInt8], info: [UInt8], count: Int) throws(ChainError)
        -> [UInt8]
    {
        guard (1...(255 * byteCount)).contains(count) else {
            throw ChainError(.malformed, "HKDF-SM3 derives 1 to \(255 * byteCount) bytes, not \(count)")
        }
        var out = [UInt8](repeating: 0, count: count)
        guard gm_hkdf_sm3(key, key.count, salt, salt.count, info, info.count, &out, count) == GM_OK else {
            throw OpenSSL.failure("HKDF-SM3 failed")
        }
        return out
    }
}
