import CSMShim

/// The SM3 hash function of GB/T 32905-2016: 256-bit digests, computed by OpenSSL.
public enum SM3 {
    /// Digest length in bytes.
    public static let byteCount = 32

    /// The SM3 digest of `data`.
    public static func hash(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        var count = 0
        guard gm_digest("SM3", data, data.count, &out, &count) == GM_OK, count == byteCount else {
            // Not input-dependent: the linked OpenSSL has no SM3 at all.
            preconditionFailure("OpenSSL has no SM3: \(OpenSSL.lastError())")
        }
        return Array(out.prefix(byteCount))
    }

    /// An incremental SM3 computation over data given in parts.
    ///
    /// Non-copyable: each hasher owns its OpenSSL context, freed when the hasher ends.
    public struct Hasher: ~Copyable, @unchecked Sendable {
        // A unique owner of its EVP_MD_CTX, so sending it to another task is safe.
        private let context: OpaquePointer

        /// A hasher that has absorbed nothing yet.
        public init() {
            guard let context = gm_sm3_new() else {
                preconditionFailure("OpenSSL has no SM3: \(OpenSSL.lastError())")
            }
            self.context = context
        }

        private init(context: OpaquePointer) { self.context = context }

        deinit { gm_md_free(context) }

        /// Absorbs `data`.
        public mutating func update(_ data: [UInt8]) {
            guard gm_md_update(context, data, data.count) == GM_OK else {
                preconditionFailure("SM3 update failed: \(OpenSSL.lastError())")
            }
        }

        /// An independent hasher in the same state, for digests of several messages sharing a prefix.
        public func copy() -> Hasher {
            guard let copy = gm_md_copy(context) else {
                preconditionFailure("SM3 context copy failed: \(OpenSSL.lastError())")
            }
            return Hasher(context: copy)
        }

        /// The digest of everything absorbed; ends the hasher.
        public consuming func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: SM3.byteCount)
            let status = gm_md_final(context, &out)
            gm_md_free(context)
            discard self
            guard status == GM_OK else { preconditionFailure("SM3 final failed: \(OpenSSL.lastError())") }
            return out
        }
    }
}
