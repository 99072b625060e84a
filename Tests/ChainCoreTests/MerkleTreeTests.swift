import ChainCore
import Testing

/// RFC 6962 reference data: the certificate-transparency test leaves and their published roots
/// and subtree hashes.
enum RFC6962 {
    static let leaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        Array(0x50...0x57), Array(0x60...0x6f),
    ]
    static let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
}

@Suite struct MerkleTreeTests {
    @Test func emptyTreeRootIsHashOfEmptyString() {
        #expect(
            MerkleTree.root(leafHashes: [], hasher: .sha256).hex
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test(arguments: 1...8) func referenceRoots(size: Int) {
        #expect(MerkleTree.root(leaves: Array(RFC6962.leaves.prefix(size)), hasher: .sha256).hex == RFC6962.roots[size - 1])
    }

    @Test func referenceAuditPaths() {
        // Leaf, level-1 and level-2 subtree hashes of the 8-leaf reference tree.
        let hashes = RFC6962.leaves.map { MerkleTree.leafHash($0, hasher: .sha256) }
        #expect(hashes[1].hex == "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")
        let path0 = MerkleTree.inclusionProof(index: 0, leafHashes: hashes, hasher: .sha256)!.map(\.hex)
        #expect(
            path0 == [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ])
        let path5 = MerkleTree.inclusionProof(index: 5, leafHashes: hashes, hasher: .sha256)!.map(\.hex)
        #expect(
            path5 == [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ])
    }

    @Test func everyProofOfEverySizeVerifiesAndTamperingFails() {
        for size in 1...40 {
            let leaves = (0..<size).map { MerkleTree.leafHash([UInt8(truncatingIfNeeded: $0), 7], hasher: .sha256) }
            let root = MerkleTree.root(leafHashes: leaves, hasher: .sha256)
            for i in 0..<size {
                let path = MerkleTree.inclusionProof(index: i, leafHashes: leaves, hasher: .sha256)!
                let ok = MerkleTree.verifyInclusion(
                    leafHash: leaves[i], index: UInt64(i), treeSize: UInt64(size), proof: path, root: root, hasher: .sha256)
                #expect(ok, "size \(size) index \(i)")
                // Wrong index, wrong size, extra or altered path element, wrong leaf: all refused.
                if size > 1 {
                    #expect(
                        !MerkleTree.verifyInclusion(
                            leafHash: leaves[i], index: UInt64((i + 1) % size), treeSize: UInt64(size), proof: path, root: root,
                            hasher: .sha256))
                }
                // The proof does not hold against the head of a larger tree.
                let largerRoot = MerkleTree.root(
                    leafHashes: leaves + [MerkleTree.leafHash([0xaa], hasher: .sha256)], hasher: .sha256)
                #expect(
                    !MerkleTree.verifyInclusion(
                        leafHash: leaves[i], index: UInt64(i), treeSize: UInt64(size + 1), proof: path, root: largerRoot,
                        hasher: .sha256))
                #expect(
                    !MerkleTree.verifyInclusion(
                        leafHash: leaves[i], index: UInt64(i), treeSize: UInt64(size), proof: path + [root], root: root,
                        hasher: .sha256))
                if !path.isEmpty {
                    var bad = path
                    bad[0] = MerkleTree.leafHash([0xff], hasher: .sha256)
                    #expect(
                        !MerkleTree.verifyInclusion(
                            leafHash: leaves[i], index: UInt64(i), treeSize: UInt64(size), proof: bad, root: root, hasher: .sha256
                        ))
                }
                #expect(
                    !MerkleTree.verifyInclusion(
                        leafHash: MerkleTree.leafHash([0xee], hasher: .sha256), index: UInt64(i), treeSize: UInt64(size),
                        proof: path, root: root, hasher: .sha256))
            }
        }
    }

    @Test func indexBeyondTreeIsRefused() {
        let leaves = [MerkleTree.leafHash([1], hasher: .sha256)]
        #expect(MerkleTree.inclusionProof(index: 1, leafHashes: leaves, hasher: .sha256) == nil)
        #expect(
            !MerkleTree.verifyInclusion(leafHash: leaves[0], index: 1, treeSize: 1, proof: [], root: leaves[0], hasher: .sha256))
    }
}
