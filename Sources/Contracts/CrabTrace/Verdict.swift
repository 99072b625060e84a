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

    /// For a consumer named by a merchant's sale or a delivery (not by the consumer's own
    /// signature): the coupon holder's salted hash, when recorded.
    public var holderHash: String? = nil

    /// JSON rendering.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "party": .string(party), "signer": signer.json, "step": .string(step), "txid": .string(txid),
            "height": .int(height), "time": .int(time),
        ]
        if let holderHash { o["holderHash"] = .string(holderHash) }
        return .object(o)
    }
}

/// One leg of a box's journey: who shipped it, the carrier who handed it over, who received it.
public struct CustodyLeg: Sendable, Hashable {
    /// The box (SSCC).
    public let sscc: String
    /// Shipping org and destination (a member org or `consumer`).
    public let from: String
    public let to: String
    /// The carrier named at shipping, if any.
    public let carrier: String?
    /// The `ship` signer.
    public let shippedBy: StepSigner
    /// The carrier's `hand_over` signer (for a consumer delivery, the deliverer's `receive`).
    public var handedOverBy: StepSigner?
    /// The destination member's `receive` signer (nil for a consumer, who signs nothing).
    public var receivedBy: StepSigner?

    /// JSON rendering.
    public var json: JSONValue {
        .object([
            "sscc": .string(sscc), "from": .string(from), "to": .string(to), "carrier": carrier.map { .string($0) } ?? .null,
            "shippedBy": shippedBy.json, "handedOverBy": handedOverBy?.json ?? .null, "receivedBy": receivedBy?.json ?? .null,
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
    /// The accountable parties: farm, lab, merchant, logistics and the consumer when known.
    public let accountable: [AccountableParty]
    /// Every shipment of the boxes on the path, in chain order, with the signer of each handover.
    public let legs: [CustodyLeg]

    /// JSON rendering.
    public var json: JSONValue {
        .object([
            "object": .string(object), "objects": .array(objects.map { .string($0) }),
            "entries": .array(entries.map(\.json)), "accountable": .array(accountable.map(\.json)),
            "legs": .array(legs.map(\.json)),
        ])
    }
}
