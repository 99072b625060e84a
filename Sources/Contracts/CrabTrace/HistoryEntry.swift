import ChainCore

/// Who signed a step, as recorded on chain.
public struct StepSigner: Sendable, Hashable {
    /// Organisation.
    public let org: String
    /// Certificate role.
    public let role: String
    /// Account name (certificate CN).
    public let subject: String
    /// SHA-256 fingerprint of the signing certificate.
    public let certificateFingerprint: String

    init(_ o: [String: JSONValue]) {
        org = o.str("org") ?? ""
        role = o.str("role") ?? ""
        subject = o.str("subject") ?? ""
        certificateFingerprint = o.str("cert") ?? ""
    }

    /// JSON rendering.
    public var json: JSONValue {
        .object([
            "org": .string(org), "role": .string(role), "subject": .string(subject), "cert": .string(certificateFingerprint),
        ])
    }
}

/// One entry of an object's history: a step, who signed it, in which transaction and block.
public struct HistoryEntry: Sendable, Hashable {
    /// The object (`GS1Key.canonical`, or `member:<org>` / `season:<id>`).
    public let object: String
    /// Position in the object's history, from 1.
    public let seq: Int64
    /// The contract method (or `expire_coupons` for sweep expiries).
    public let step: String
    /// The CBV 2.0 business step, where the step has one.
    public let bizStep: String?
    /// The signer.
    public let signer: StepSigner
    /// Transaction id, hex.
    public let txid: String
    /// Block height.
    public let height: Int64
    /// Block time, unix ms.
    public let time: Int64
    /// Step data.
    public let data: [String: JSONValue]

    /// Reads a stored entry; nil when `v` is not one.
    public init?(_ v: JSONValue) {
        guard let o = v.objectValue, let object = o.str("object"), let step = o.str("step"), let txid = o.str("txid") else {
            return nil
        }
        self.object = object
        seq = o.int("seq")
        self.step = step
        bizStep = o.str("bizStep")
        signer = StepSigner(o["signer"]?.objectValue ?? [:])
        self.txid = txid
        height = o.int("height")
        time = o.int("time")
        data = o["data"]?.objectValue ?? [:]
    }

    /// JSON rendering.
    public var json: JSONValue {
        .object([
            "object": .string(object), "seq": .int(seq), "step": .string(step), "bizStep": bizStep.map { .string($0) } ?? .null,
            "signer": signer.json, "txid": .string(txid), "height": .int(height), "time": .int(time), "data": .object(data),
        ])
    }
}
