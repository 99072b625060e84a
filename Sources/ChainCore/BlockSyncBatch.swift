/// Committed blocks with their finality signatures, as one node serves them to another that is
/// catching up (an observer, or a node restored from an old copy).
///
/// Layout: u8 version (1), u32 block count, then per block the u32-length-prefixed header bytes,
/// the u32-length-prefixed `TransactionBatch` of its transactions, a u32 signature count and per
/// signature the validator id (string) and the signature bytes (length-prefixed).
public enum BlockSyncBatch {
    /// Most blocks in one batch.
    public static let maxBlocks = 256

    /// Encodes blocks.
    public static func encode(_ blocks: [Block]) -> [UInt8] {
        var w = BinaryWriter()
        w.u8(1)
        w.u32(UInt32(blocks.count))
        for b in blocks {
            w.lengthPrefixed(b.header.encoded)
            w.lengthPrefixed(TransactionBatch.encode(b.transactions))
            ValidatorSignature.write(b.signatures, to: &w)
        }
        return w.bytes
    }

    /// Decodes a batch; refuses unknown versions, more than `maxBlocks` blocks, more than
    /// `maxTxs` transactions in a block, oversized fields and trailing bytes.
    public static func decode(_ bytes: [UInt8], maxTxs: Int, maxBlockBytes: Int, hasher: ChainHasher) throws(ChainError)
        -> [Block]
    {
        var r = BinaryReader(bytes, maxFieldLength: maxBlockBytes)
        guard try r.u8() == 1 else { throw .decoding("unknown sync batch version") }
        let n = Int(try r.u32())
        guard n <= maxBlocks else { throw .decoding("sync batch of \(n) blocks exceeds \(maxBlocks)") }
        var blocks: [Block] = []
        for _ in 0..<n {
            let header = try BlockHeader(decoding: try r.lengthPrefixed(), hasher: hasher)
            let txs = try TransactionBatch.decode(try r.lengthPrefixed(), maxCount: maxTxs, hasher: hasher)
            let signatures = try ValidatorSignature.readList(from: &r)
            blocks.append(Block(header: header, transactions: txs, signatures: signatures))
        }
        try r.finish()
        return blocks
    }
}

/// Checks that a header is final: signed by at least `quorum` distinct validators of the set.
public struct FinalityCheck: Sendable {
    /// Validator public keys by node id.
    public let keys: [String: [UInt8]]
    /// Signatures needed.
    public let quorum: Int
    /// The chain's signature suite.
    public let suite: CryptoSuite

    /// A check against a validator set.
    public init(keys: [String: [UInt8]], quorum: Int, suite: CryptoSuite) {
        self.keys = keys
        self.quorum = quorum
        self.suite = suite
    }

    /// The signatures over `header` that verify, one per validator of the set, in the given order.
    public func validSignatures(of header: BlockHeader, _ signatures: [ValidatorSignature]) -> [ValidatorSignature] {
        let message = header.signingMessage
        var seen = Set<String>()
        var valid: [ValidatorSignature] = []
        for s in signatures where !seen.contains(s.validator) {
            if let key = keys[s.validator], suite.verify(signature: s.signature, message: message, publicKey: key) {
                seen.insert(s.validator)
                valid.append(s)
            }
        }
        return valid
    }

    /// The signatures of a quorum or more that verify (`validSignatures`); throws `no_quorum` otherwise.
    public func verify(_ header: BlockHeader, _ signatures: [ValidatorSignature]) throws(ChainError) -> [ValidatorSignature] {
        let valid = validSignatures(of: header, signatures)
        guard valid.count >= quorum else {
            throw ChainError(
                .noQuorum,
                "block \(header.height) carries \(valid.count) valid validator signatures; finality needs \(quorum)")
        }
        return valid
    }

    /// Whether signatures already checked when they were stored name a quorum of distinct validators
    /// of the set (no signature is verified again).
    public func isFinal(stored signatures: [ValidatorSignature]) -> Bool {
        Set(signatures.map(\.validator).filter { keys[$0] != nil }).count >= quorum
    }
}
