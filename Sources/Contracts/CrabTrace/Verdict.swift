import ChainCore

/// What a scan of a code tells its holder.
public enum VerdictStatus: String, Sendable, CaseIterable {
    /// Known, secret matches, nothing wrong recorded.
    case genuine
    /// Never issued, or the secret is missing or wrong (likely forged); no product data is shown.
    case unknown
    /// A coupon already redeemed.
    case redeemed
    /// The ring, its lot or the coupon is recalled.
    case recalled
    /// Known and secret matches, but something is wrong: open alerts, frozen or failed lot,
    /// suspended member, expired or refunded coupon, or a ring never tagged on a crab.
    case suspicious
}

/// The answer to verifying a code: the status, its reasons, and what a buyer wants to know.
public struct Verdict: Sendable, Hashable {
    /// The status.
    public let status: VerdictStatus
    /// Why, as stable short codes (`never_issued`, `secret_mismatch`, `two_cities`, `lot_frozen`, …).
    public let reasons: [String]
    /// The object's canonical key.
    public let object: String
    /// `sgtin` or `gcn`.
    public let kind: String
    /// Farm, zone, pond, harvest date, inspection, merchant, scans, season … (empty for `unknown`).
    public let details: [String: JSONValue]

    /// JSON rendering.
    public var json: JSONValue {
        .object([
            "status": .string(status.rawValue), "reasons": .array(reasons.map { .string($0) }), "object": .string(object),
            "kind": .string(kind), "details": .object(details),
        ])
    }
}

/// A party the accountability trace names (invariant 6).
public struct AccountableParty: Sendable, Hashable {
    /// `farm`, `lab`, `merchant`, `logistics` or `consumer`.
    public let party: String
    /// The signer.
    public let signer: StepSigner
    /// The step that makes it accountable.
    public let step: String
    /// Its transaction.
    public let txid: String
    /// Its block height.
    public let height: Int64
    /// Its block time.
    public let time: Int64

    /// JSON rendering.
    public var json: JSONValue {
        .object([
            "party": .string(party), "signer": signer.json, "step": .string(step), "txid": .string(txid),
            "height": .int(height), "time": .int(time),
        ])
    }
}

/// The chain of custody of a code: every history entry on its path, and who is accountable.
public struct AccountabilityTrace: Sendable, Hashable {
    /// The traced object.
    public let object: String
    /// Objects on the path (ring, lot, boxes, coupon …).
    public let objects: [String]
    /// Their history entries, in chain order.
    public let entries: [HistoryEntry]
    /// The accountable parties: farm, lab, merchant, logistics (and consumer steps).
    public let accountable: [AccountableParty]

    /// JSON rendering.
    public var json: JSONValue {
        .object([
            "object": .string(object), "objects": .array(objects.map { .string($0) }),
            "entries": .array(entries.map(\.json)), "accountable": .array(accountable.map(\.json)),
        ])
    }
}
