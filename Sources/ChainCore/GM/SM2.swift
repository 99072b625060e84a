/// Constants of the SM2 signature scheme of GB/T 32918.2-2016 as XiangChain uses it.
public enum SM2 {
    /// The default user id of GM/T 0009-2012 (and GB/T 35276-2017): the ASCII text
    /// `1234567812345678`. Signers and verifiers must agree on the id: it enters the Z value.
    /// OpenSSL 3.0's own default is the empty id, so the id is always set explicitly.
    public static let defaultUserID: [UInt8] = Array("1234567812345678".utf8)
    /// The longest user id OpenSSL 3.0 takes: ENTL (the id length in bits) is a 16-bit field, and
    /// OpenSSL refuses ids of 8191 bytes and more (`id_len >= UINT16_MAX / 8`).
    public static let maxUserIDByteCount = 8190
    /// Length of a raw private key (the scalar d).
    public static let privateKeyByteCount = 32
    /// Length of a raw public key (the uncompressed point 04 || x || y).
    public static let publicKeyByteCount = 65
    /// Longest DER signature, `SEQUENCE { INTEGER r, INTEGER s }`.
    public static let maxSignatureByteCount = 72

    package static func checkUserID(_ userID: [UInt8]) throws(ChainError) {
        guard userID.count <= maxUserIDByteCount else {
            throw ChainError(.malformed, "an SM2 user id is at most \(maxUserIDByteCount) bytes, got \(userID.count)")
        }
    }
}
