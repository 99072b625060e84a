/// The light-client path from the genesis validators to the set in force at a height: each epoch
/// change (as proofs carry it, `EpochChange.json`) must be signed by a quorum of the set before it
/// (`docs/proofs.md` §4a).
public enum EpochChain {
    /// The finality check of the validators in force at `height`, starting from the genesis set
    /// `genesisKeys` and following the changes of `epochs` (oldest first, from epoch 1) that start
    /// at or below `height`; throws `proof_invalid` when a change is out of order or lacks a quorum.
    public static func check(
        genesisKeys: [String: [UInt8]], suite: CryptoSuite, chainId: String, epochs: [JSONValue], height: UInt64
    ) throws(ChainError) -> FinalityCheck {
        var current = genesisKeys
        var quorum = EpochChange.quorum(of: genesisKeys.count)
        var expected: UInt64 = 1
        var lastFirst: UInt64 = 0
        for e in epochs.prefix(10_000) {
            let (change, sigs) = try EpochChange.parse(e, chainId: chainId)
            guard change.epoch == expected, change.firstHeight > lastFirst else {
                throw ChainError(.proofInvalid, "epoch changes must follow each other from epoch 1")
            }
            guard change.firstHeight <= height else { break }
            var signed = Set<String>()
            for sig in sigs where !signed.contains(sig.validator) {
                if let key = current[sig.validator],
                    suite.verify(signature: sig.signature, message: change.signingMessage, publicKey: key)
                {
                    signed.insert(sig.validator)
                }
            }
            guard signed.count >= quorum else {
                throw ChainError(
                    .proofInvalid,
                    "epoch \(change.epoch) is signed by \(signed.count) validator(s) of the set before it; \(quorum) needed")
            }
            current = Dictionary(change.validators.map { ($0.nodeId, $0.publicKey) }, uniquingKeysWith: { a, _ in a })
            quorum = EpochChange.quorum(of: change.validators.count)
            expected += 1
            lastFirst = change.firstHeight
        }
        return FinalityCheck(keys: current, quorum: quorum, suite: suite)
    }
}
