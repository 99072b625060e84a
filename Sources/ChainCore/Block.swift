/// A block header. Its hash (the chain's hash of `encoded`: SHA-256, or SM3 on an sm2 chain) is
/// the block id.
///
/// Order-then-execute: a header commits to its own transactions (`txRoot`) and to the execution
/// results of an earlier block (`execHeight`, `resultRoot`, `stateHash`), normally its parent.
public struct BlockHeader: Sendable, Hashable {
    /// Encoding version; 1.
    public var version: UInt16 = 1
    /// The chain this block belongs to.
    public var chainId: String
    /// Height; the first block after genesis is 1.
    public var height: UInt64
    /// Hash of the previous header (zero for block 1's parent, the genesis).
    public var parentHash: Hash256
    /// Proposer clock, unix milliseconds; strictly increasing along the chain.
    public var timestamp: Int64
    /// Node id of the validator that proposed it.
    public var proposer: String
    /// Number of transactions.
    public var txCount: UInt32
    /// RFC 6962 root over the transaction ids, in block order.
    public var txRoot: Hash256
    /// Height of the executed block whose results follow (height − 1; 0 means genesis).
    public var execHeight: UInt64
    /// RFC 6962 root over the encoded results of block `execHeight`.
    public var resultRoot: Hash256
    /// Hash chain of state writes through block `execHeight`.
    public var stateHash: Hash256
    /// The chain's hash function, which makes the block id (not part of the encoding).
    public let hasher: ChainHasher

    /// Creates a header.
    public init(
        chainId: String, height: UInt64, parentHash: Hash256, timestamp: Int64, proposer: String,
        txCount: UInt32, txRoot: Hash256, execHeight: UInt64, resultRoot: Hash256, stateHash: Hash256, hasher: ChainHasher
    ) {
        self.chainId = chainId
        self.height = height
        self.parentHash = parentHash
        self.timestamp = timestamp
        self.proposer = proposer
        self.txCount = txCount
        self.txRoot = txRoot
        self.execHeight = execHeight
        self.resultRoot = resultRoot
        self.stateHash = stateHash
        self.hasher = hasher
    }

    /// The canonical bytes (layout in `docs/proofs.md`).
    public var encoded: [UInt8] {
        var w = BinaryWriter()
        w.u16(version)
        w.string(chainId)
        w.u64(height)
        w.hash(parentHash)
        w.i64(timestamp)
        w.string(proposer)
        w.u32(txCount)
        w.hash(txRoot)
        w.u64(execHeight)
        w.hash(resultRoot)
        w.hash(stateHash)
        return w.bytes
    }

    /// The block id.
    public var hash: Hash256 { hasher.hash(encoded) }

    /// Decodes canonical bytes of a chain hashing with `hasher`; refuses unknown versions and
    /// trailing bytes.
    public init(decoding bytes: [UInt8], hasher: ChainHasher) throws(ChainError) {
        self.hasher = hasher
        var r = BinaryReader(bytes, maxFieldLength: 1024)
        version = try r.u16()
        guard version == 1 else { throw .decoding("unknown header version \(version)") }
        chainId = try r.string()
        height = try r.u64()
        parentHash = try r.hash()
        timestamp = try r.i64()
        proposer = try r.string()
        txCount = try r.u32()
        txRoot = try r.hash()
        execHeight = try r.u64()
        resultRoot = try r.hash()
        stateHash = try r.hash()
        try r.finish()
    }

    /// The bytes a validator signs to seal this header: the domain tag then the header hash.
    public var signingMessage: [UInt8] { BlockHeader.signingDomain + hash.bytes }

    /// Domain-separation tag for header signatures.
    public static let signingDomain = Array("XIANGCHAIN-BLOCK-V1".utf8)
}

/// One validator's signature over a header's signing message.
public struct ValidatorSignature: Sendable, Hashable, Codable {
    /// The validator's node id.
    public let validator: String
    /// Signature bytes under the chain's suite.
    public let signature: [UInt8]

    /// Creates a signature record.
    public init(validator: String, signature: [UInt8]) {
        self.validator = validator
        self.signature = signature
    }
}

extension ValidatorSignature {
    /// Most signatures in one encoded list.
    public static let maxListCount = 1024

    /// Writes a list: u32 count, then per signature the validator id (string) and the
    /// length-prefixed signature bytes. The one encoding of a block's signatures, on disk and in
    /// sync batches.
    public static func write(_ list: [ValidatorSignature], to w: inout BinaryWriter) {
        w.u32(UInt32(list.count))
        for s in list {
            w.string(s.validator)
            w.lengthPrefixed(s.signature)
        }
    }

    /// Reads a list written by `write(_:to:)`; refuses more than `maxListCount` signatures and
    /// validator ids over 256 bytes.
    public static func readList(from r: inout BinaryReader) throws(ChainError) -> [ValidatorSignature] {
        let count = Int(try r.u32())
        guard count <= maxListCount else { throw .decoding("block carries \(count) signatures") }
        var out: [ValidatorSignature] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            let validator = try r.string()
            guard validator.utf8.count <= 256 else { throw .decoding("validator id over 256 bytes") }
            out.append(ValidatorSignature(validator: validator, signature: try r.lengthPrefixed()))
        }
        return out
    }

    /// A list alone, as bytes.
    public static func encodeList(_ list: [ValidatorSignature]) -> [UInt8] {
        var w = BinaryWriter()
        write(list, to: &w)
        return w.bytes
    }

    /// A list alone, from bytes (no trailing bytes).
    public static func decodeList(_ bytes: [UInt8]) throws(ChainError) -> [ValidatorSignature] {
        var r = BinaryReader(bytes)
        let list = try readList(from: &r)
        try r.finish()
        return list
    }
}

/// A committed block: header, transactions in order, and the signatures that make it final
/// (one proposer signature in solo mode; a quorum certificate's votes under BFT).
public struct Block: Sendable {
    /// The header.
    public let header: BlockHeader
    /// The transactions, in the order of `header.txRoot`.
    public let transactions: [SignedTransaction]
    /// Finality signatures over `header.signingMessage`.
    public let signatures: [ValidatorSignature]

    /// Creates a block.
    public init(header: BlockHeader, transactions: [SignedTransaction], signatures: [ValidatorSignature]) {
        self.header = header
        self.transactions = transactions
        self.signatures = signatures
    }

    /// Tx root over the given transactions.
    public static func txRoot(_ txs: [SignedTransaction], hasher: ChainHasher) -> Hash256 {
        MerkleTree.root(leafHashes: txs.map { MerkleTree.leafHash($0.id.bytes, hasher: hasher) }, hasher: hasher)
    }
}
