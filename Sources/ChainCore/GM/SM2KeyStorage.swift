import CSMShim
import Synchronization

/// Owns one OpenSSL `EVP_PKEY` of type SM2.
///
/// `@unchecked Sendable`: OpenSSL 3 allows one `EVP_PKEY` to be used by many threads at once as
/// long as nobody changes it, and nothing here changes it after creation.
package final class SM2KeyStorage: @unchecked Sendable {
    /// The OpenSSL key, for the certificate builder of `Identity`.
    package let key: OpaquePointer

    init(_ key: OpaquePointer) { self.key = key }

    deinit { gm_pkey_free(key) }

    /// The 65-byte uncompressed public point.
    func publicPoint() throws(ChainError) -> [UInt8] {
        var point = [UInt8](repeating: 0, count: SM2.publicKeyByteCount)
        guard gm_sm2_public_point(key, &point) == GM_OK else { throw OpenSSL.failure("reading the SM2 public point failed") }
        return point
    }

    /// Maps a failed key constructor's status to an error.
    static func error(_ status: Int32, _ what: String) -> ChainError {
        switch status {
        case GM_ERR_ARGUMENT: return ChainError(.badKey, "\(what): wrong length or out of range")
        case GM_ERR_PARSE: return ChainError(.badKey, "\(what): does not parse")
        case GM_ERR_NOT_SM2: return ChainError(.wrongSuite, "\(what): not an SM2 key")
        default: return OpenSSL.failure(what)
        }
    }
}

/// A handle to an `EVP_MD_CTX` that is owned by one verification at a time.
struct DigestContextHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Per-key verification state: a prototype digest-verify context with the Z value of one user
/// id already absorbed, and spare work contexts, so a verification allocates nothing in steady
/// state but what OpenSSL's context copy does.
struct SM2VerifyCache: ~Copyable {
    var userID: [UInt8] = []
    var prototype: DigestContextHandle?
    var spare: [DigestContextHandle] = []

    static let maxSpare = 4

    deinit {
        if let prototype { gm_md_free(prototype.pointer) }
        for handle in spare { gm_md_free(handle.pointer) }
    }
}
