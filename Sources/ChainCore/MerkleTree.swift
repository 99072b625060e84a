/// RFC 6962 / RFC 9162 Merkle trees: roots, inclusion proofs and their verification, with the
/// chain's hash function H (SHA-256, or SM3 on an sm2 chain: the same structure, another H).
///
/// Leaf hash = H(0x00 ‖ data); interior node = H(0x01 ‖ left ‖ right); the root of the empty
/// tree is H of the empty string. A block's tx root uses the 32 raw bytes of each transaction id
/// as the leaf data, in block order.
public enum MerkleTree {
    /// The hash of one leaf's data.
    public static func leafHash(_ data: [UInt8], hasher: ChainHasher) -> Hash256 {
        hasher.hash(parts: [[0x00], data])
    }

    /// The hash of an interior node.
    public static func nodeHash(_ left: Hash256, _ right: Hash256, hasher: ChainHasher) -> Hash256 {
        hasher.hash(parts: [[0x01], left.bytes, right.bytes])
    }

    /// The tree head over already-hashed leaves.
    public static func root(leafHashes: [Hash256], hasher: ChainHasher) -> Hash256 {
        if leafHashes.isEmpty { return hasher.hash([UInt8]()) }
        return subtreeRoot(leafHashes[...], hasher)
    }

    /// The tree head over leaf data.
    public static func root(leaves: [[UInt8]], hasher: ChainHasher) -> Hash256 {
        root(leafHashes: leaves.map { leafHash($0, hasher: hasher) }, hasher: hasher)
    }

    /// The audit path for the leaf at `index`, leaf level first (RFC 9162 §2.1.3.1).
    public static func inclusionProof(index: Int, leafHashes: [Hash256], hasher: ChainHasher) -> [Hash256]? {
        guard index >= 0, index < leafHashes.count else { return nil }
        var path: [Hash256] = []
        buildPath(index, leafHashes[...], &path, hasher)
        return path
    }

    /// Checks an inclusion proof (RFC 9162 §2.1.3.2).
    public static func verifyInclusion(
        leafHash: Hash256, index: UInt64, treeSize: UInt64, proof: [Hash256], root: Hash256, hasher: ChainHasher
    ) -> Bool {
        guard index < treeSize else { return false }
        var fn = index
        var sn = treeSize - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r, hasher: hasher)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p, hasher: hasher)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Largest power of two strictly below n (n ≥ 2).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    static func subtreeRoot(_ leaves: ArraySlice<Hash256>, _ hasher: ChainHasher) -> Hash256 {
        if leaves.count == 1 { return leaves.first! }
        let k = split(leaves.count)
        let mid = leaves.startIndex + k
        return nodeHash(
            subtreeRoot(leaves[leaves.startIndex..<mid], hasher), subtreeRoot(leaves[mid...], hasher), hasher: hasher)
    }

    static func buildPath(_ m: Int, _ leaves: ArraySlice<Hash256>, _ path: inout [Hash256], _ hasher: ChainHasher) {
        guard leaves.count > 1 else { return }
        let k = split(leaves.count)
        let mid = leaves.startIndex + k
        if m < k {
            buildPath(m, leaves[leaves.startIndex..<mid], &path, hasher)
            path.append(subtreeRoot(leaves[mid...], hasher))
        } else {
            buildPath(m - k, leaves[mid...], &path, hasher)
            path.append(subtreeRoot(leaves[leaves.startIndex..<mid], hasher))
        }
    }
}
