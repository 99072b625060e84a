import Foundation

/// Checks, offline, a transaction proof as served by `GET /v1/txs/{txid}/proof`:
/// the audit path leads from the txid to the header's tx root, the header bytes hash to the
/// header hash and carry that tx root, and (given the validators' keys) the finality
/// signatures verify. `docs/proofs.md` describes the same steps for other languages.
public enum ProofVerifier {
    /// What was checked.
    public struct Report: Sendable {
        /// The transaction id proven.
        public let txid: String
        /// Its block height.
        public let height: UInt64
        /// Validators whose signature verified.
        public let validSigners: [String]
        /// True when signatures were checked (validator keys were given).
        public let signaturesChecked: Bool
    }

    /// Verifies `proof` with the hash function and signatures of `suite` (the genesis's; a proof's
    /// own `hashAlgorithm` field is informative only); `validatorKeys` maps node id to raw public
    /// key. Throws `proof_invalid` on any mismatch.
    public static func verify(
        proof: JSONValue, suite: CryptoSuite, validatorKeys: [String: [UInt8]]?, quorum: Int = 1,
        chainId: String? = nil
    ) throws(ChainError) -> Report {
        func fail(_ m: String) -> ChainError { ChainError(.proofInvalid, m) }
        guard let txid = proof["txid"]?.stringValue, let id = Hash256(hex: txid) else { throw fail("txid missing") }
        guard let index = proof["leafIndex"]?.int64Value, let size = proof["treeSize"]?.int64Value, index >= 0, size > 0
        else { throw fail("leafIndex/treeSize missing") }
        guard let pathJSON = proof["auditPath"]?.arrayValue else { throw fail("auditPath missing") }
        var path: [Hash256] = []
        for p in pathJSON {
            guard let s = p.stringValue, let h = Hash256(hex: s) else { throw fail("auditPath holds a non-hash") }
            path.append(h)
        }
        guard let headerB64 = proof["headerBytes"]?.stringValue ?? proof["header"]?["headerBytes"]?.stringValue,
            let headerData = Data(base64Encoded: headerB64)
        else { throw fail("headerBytes missing or not base64") }
        let header = try BlockHeader(decoding: Array(headerData), hasher: suite.hasher)
        if let chainId, header.chainId != chainId {
            throw fail("block belongs to chain \(header.chainId), not \(chainId)")
        }
        if let claimed = proof["headerHash"]?.stringValue ?? proof["header"]?["headerHash"]?.stringValue {
            guard claimed == header.hash.hex else { throw fail("headerBytes do not hash to headerHash") }
        }
        if let root = proof["txRoot"]?.stringValue {
            guard root == header.txRoot.hex else { throw fail("txRoot differs from the header's") }
        }
        guard UInt64(size) == UInt64(header.txCount) else { throw fail("treeSize differs from the header's txCount") }
        guard
            MerkleTree.verifyInclusion(
                leafHash: MerkleTree.leafHash(id.bytes, hasher: suite.hasher), index: UInt64(index), treeSize: UInt64(size),
                proof: path, root: header.txRoot, hasher: suite.hasher)
        else { throw fail("audit path does not lead to the header's tx root") }
        var valid: [String] = []
        var keys = validatorKeys
        var quorum = quorum
        if var current = validatorKeys, let epochs = proof["epochs"]?.arrayValue, !epochs.isEmpty {
            // From the genesis set to the set of the block's epoch, each change signed by a
            // quorum of the set before it.
            let chain = chainId ?? header.chainId
            var expected: UInt64 = 1
            var lastFirst: UInt64 = 0
            var currentQuorum = quorum
            for e in epochs {
                let (change, sigs) = try EpochChange.parse(e, chainId: chain)
                guard change.epoch == expected, change.firstHeight > lastFirst else {
                    throw fail("epoch changes must follow each other from epoch 1")
                }
                guard change.firstHeight <= header.height else {
                    throw fail("epoch \(change.epoch) starts after the block: it does not belong in this proof")
                }
                var signed = Set<String>()
                for sig in sigs where !signed.contains(sig.validator) {
                    if let key = current[sig.validator],
                        suite.verify(signature: sig.signature, message: change.signingMessage, publicKey: key)
                    {
                        signed.insert(sig.validator)
                    }
                }
                guard signed.count >= currentQuorum else {
                    throw fail(
                        "epoch \(change.epoch) is signed by \(signed.count) validator(s) of the set before it; \(currentQuorum) needed"
                    )
                }
                current = Dictionary(change.validators.map { ($0.nodeId, $0.publicKey) }, uniquingKeysWith: { a, _ in a })
                currentQuorum = EpochChange.quorum(of: change.validators.count)
                expected += 1
                lastFirst = change.firstHeight
            }
            keys = current
            quorum = currentQuorum
        }
        if let keys {
            let sigs = proof["finality"]?["signatures"]?.arrayValue ?? []
            var seen = Set<String>()
            for s in sigs {
                guard let v = s["validator"]?.stringValue, let b64 = s["signature"]?.stringValue,
                    let sig = Data(base64Encoded: b64), let key = keys[v], !seen.contains(v)
                else { continue }
                if suite.verify(signature: Array(sig), message: header.signingMessage, publicKey: key) {
                    seen.insert(v)
                    valid.append(v)
                }
            }
            guard valid.count >= quorum else {
                throw fail("\(valid.count) valid validator signature(s); \(quorum) needed")
            }
        }
        return Report(txid: txid, height: header.height, validSigners: valid, signaturesChecked: keys != nil)
    }
}
