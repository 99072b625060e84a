import CSMShim

/// Glue between Swift values and the C shim over OpenSSL 3 (`CSMShim`): error text and the
/// buffers the shim allocates.
package enum OpenSSL {
    /// The last OpenSSL error of this thread as text (empty when none); empties the queue.
    package static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = gm_error_string(&buffer, buffer.count)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A `crypto_failure` error: OpenSSL failed where it should not; the message carries its words.
    package static func failure(_ what: String) -> ChainError {
        let detail = lastError()
        return ChainError(.cryptoFailure, detail.isEmpty ? what : "\(what): \(detail)")
    }

    /// Copies and frees a byte buffer that the shim allocated.
    package static func take(_ pointer: UnsafeMutablePointer<UInt8>?, count: Int) -> [UInt8] {
        defer { gm_free(pointer) }
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    /// Copies and frees a text buffer that the shim allocated (overwritten first when `secret`).
    package static func takeString(_ pointer: UnsafeMutablePointer<CChar>?, count: Int, secret: Bool = false) -> String {
        defer { secret ? gm_clear_free(pointer, count) : gm_free(pointer) }
        guard let pointer, count > 0 else { return "" }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
    }

    /// `count` bytes from OpenSSL's CSPRNG.
    package static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard gm_random_bytes(&bytes, count) == GM_OK else {
            // Not input-dependent: the process has no working random source at all.
            preconditionFailure("OpenSSL's random generator failed: \(lastError())")
        }
        return bytes
    }

    /// The OpenSSL version the node runs on, for logs.
    package static var version: String { String(cString: gm_openssl_version()) }
}

/// Compares two byte arrays in time that depends only on their lengths.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return gm_constant_time_equal(a, b, a.count) == 1
}
