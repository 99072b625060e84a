import Crypto

/// The hash function a chain defines its identifiers and commitments with: transaction ids,
/// RFC 6962 Merkle trees, header and block ids, state and result roots, the genesis hash. SHA-256
/// on the `ed25519` and `p256` suites, SM3 (GB/T 32905) on `sm2` chains; `CryptoSuite.hasher`
/// picks it, and every such hash goes through here. Hashes that standards or tools fix
/// (GS1 event hashes, certificate fingerprints, password KDFs) stay SHA-256 on every chain.
public enum ChainHasher: String, Sendable, Hashable, Codable, CaseIterable {
    /// SHA-256 (FIPS 180-4).
    case sha256
    /// SM3 (GB/T 32905-2016), through OpenSSL.
    case sm3

    /// The digest of `bytes`.
    public func hash(_ bytes: [UInt8]) -> Hash256 {
        switch self {
        case .sha256: return Hash256(unchecked: Array(SHA256.hash(data: bytes)))
        case .sm3: return Hash256(unchecked: SM3.hash(bytes))
        }
    }

    /// The digest of several byte strings fed in order (their concatenation).
    public func hash(parts: [[UInt8]]) -> Hash256 {
        hash { feed in for p in parts { feed(p) } }
    }

    /// The digest of the byte strings `write` gives to `feed`, in order: that of their
    /// concatenation, which is never held whole.
    public func hash(streaming write: (_ feed: (borrowing [UInt8]) -> Void) -> Void) -> Hash256 {
        switch self {
        case .sha256:
            var hasher = SHA256()
            write { hasher.update(data: $0) }
            return Hash256(unchecked: Array(hasher.finalize()))
        case .sm3:
            var hasher = SM3.Hasher()
            write { hasher.update($0) }
            return Hash256(unchecked: hasher.finalize())
        }
    }

    /// The name used in documents and proofs: `sha256` or `sm3`.
    public var name: String { rawValue }
}
