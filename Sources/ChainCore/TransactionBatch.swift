/// The payload of a consensus block: its transactions in order.
///
/// Layout: u8 version (1), u32 count, then per transaction the u32-length-prefixed body,
/// signature and signer certificate (DER).
public enum TransactionBatch {
    /// Encodes transactions.
    public static func encode(_ txs: [SignedTransaction]) -> [UInt8] {
        var w = BinaryWriter()
        w.u8(1)
        w.u32(UInt32(txs.count))
        for t in txs {
            w.lengthPrefixed(t.body)
            w.lengthPrefixed(t.signature)
            w.lengthPrefixed(t.signerCertificate)
        }
        return w.bytes
    }

    /// The count a payload's header states (nil when it has no version 1 header); its
    /// transactions are not decoded.
    public static func count(of bytes: [UInt8]) -> Int? {
        guard bytes.count >= 5, bytes[0] == 1 else { return nil }
        return bytes[1...4].reduce(0) { $0 << 8 | Int($1) }
    }

    /// Decodes a payload; refuses more than `maxCount` transactions or fields over `maxFieldBytes`.
    public static func decode(_ bytes: [UInt8], maxCount: Int, maxFieldBytes: Int = 1 << 20, hasher: ChainHasher)
        throws(ChainError) -> [SignedTransaction]
    {
        var r = BinaryReader(bytes, maxFieldLength: maxFieldBytes)
        guard try r.u8() == 1 else { throw .decoding("unknown batch version") }
        let n = Int(try r.u32())
        guard n <= maxCount else { throw .decoding("batch of \(n) transactions exceeds \(maxCount)") }
        var txs: [SignedTransaction] = []
        txs.reserveCapacity(n)
        for _ in 0..<n {
            txs.append(
                SignedTransaction(
                    body: try r.lengthPrefixed(), signature: try r.lengthPrefixed(), signerCertificate: try r.lengthPrefixed(),
                    hasher: hasher))
        }
        try r.finish()
        return txs
    }
}
