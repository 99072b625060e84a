import ChainCore
import Execution
import Identity

/// Boxes (SSCC): packing rings, shipping and receiving; custody moves with the box.
extension CrabTraceContract {
    /// Most rings in one box.
    public static let maxRingsPerBox = 100
    /// Most boxes a ring passes through.
    public static let maxBoxesPerRing = 16
    /// `to` value of a shipment to a consumer.
    public static let consumerDestination = "consumer"

    func boxKey(_ a: Arguments) throws -> GS1Key {
        .sscc(try GS1Key.checkedSSCC(try a.string("sscc", maxLength: 18)))
    }

    func existingBox(_ key: GS1Key, _ s: CrabStep) throws -> Record {
        guard let box = try s.record(CrabKeys.object(key)) else {
            throw ChainError(.unknownBox, "box \(key.canonical) was never packed")
        }
        return box
    }

    /// `pack_box {sscc, gtin, serials}` (farm, merchant, logistics): AggregationEvent ADD. The caller must hold every ring.
    func packBox(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["sscc", "gtin", "serials"])
        let key = try boxKey(a)
        let gtin = try a.gtin()
        let serials = try a.stringList("serials", maxItems: Self.maxRingsPerBox, maxLength: GS1Key.maxSerialLength)
        guard try s.record(CrabKeys.object(key)) == nil else {
            throw ChainError(.boxExists, "box \(key.canonical) was already packed; an SSCC is used once")
        }
        guard case .sscc(let sscc) = key else { return }
        for serial in serials {
            let rk = GS1Key.sgtin(gtin: gtin, serial: try GS1Key.checkedSerial(serial))
            guard var ring = try s.record(CrabKeys.object(rk)) else {
                throw ChainError(.unknownRing, "ring \(rk.canonical) was never commissioned")
            }
            guard ring.str("status") == "tagged" else { throw ChainError(.notTagged, "ring \(rk.canonical) is not on a crab") }
            guard ring["box"] == nil, ring.str("custodian") == s.caller.org else {
                throw ChainError(.notCustodian, "\(s.caller.org) does not hold ring \(rk.canonical) outside a box")
            }
            if ring.flag("recalled") { throw ChainError(.recalled, "ring \(rk.canonical) is recalled") }
            var boxes = ring["boxes"]?.arrayValue ?? []
            guard boxes.count < Self.maxBoxesPerRing else {
                throw ChainError(.badArgs, "ring \(rk.canonical) has been boxed \(Self.maxBoxesPerRing) times")
            }
            boxes.append(.string(sscc))
            ring["boxes"] = .array(boxes)
            ring["box"] = .string(sscc)
            if s.caller.role == .merchant { ring["merchant"] = .string(s.caller.org) }
            s.put(CrabKeys.object(rk), ring)
            try s.history(rk.canonical, ["sscc": .string(sscc)])
        }
        s.put(
            CrabKeys.object(key),
            [
                "type": .string("box"), "sscc": .string(sscc), "gtin": .string(gtin),
                "rings": .array(serials.map { .string($0) }), "packedBy": .string(s.caller.org),
                "custodian": .string(s.caller.org), "status": .string("packed"), "packedAt": .int(s.now),
            ])
        try s.history(key.canonical, ["gtin": .string(gtin), "rings": .array(serials.map { .string($0) })])
    }

    /// `unpack_box {sscc}` (custodian): AggregationEvent DELETE; the rings stay with the caller.
    func unpackBox(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["sscc"])
        let key = try boxKey(a)
        var box = try existingBox(key, s)
        try requireHolder(box, key, s)
        guard box["coupon"] == nil else { throw ChainError(.boxUsed, "box \(key.canonical) was delivered against a coupon") }
        let gtin = box.str("gtin") ?? ""
        for v in box["rings"]?.arrayValue ?? [] {
            let rk = GS1Key.sgtin(gtin: gtin, serial: v.stringValue ?? "")
            guard var ring = try s.record(CrabKeys.object(rk)) else { continue }
            ring["box"] = nil
            ring["custodian"] = .string(s.caller.org)
            s.put(CrabKeys.object(rk), ring)
            try s.history(rk.canonical, ["sscc": box["sscc"] ?? .null])
        }
        box["status"] = .string("unpacked")
        s.put(CrabKeys.object(key), box)
        try s.history(key.canonical)
    }

    private func requireHolder(_ box: Record, _ key: GS1Key, _ s: CrabStep) throws {
        guard box.str("custodian") == s.caller.org else {
            throw ChainError(.notCustodian, "box \(key.canonical) is held by \(box.str("custodian") ?? "nobody")")
        }
        guard ["packed", "received"].contains(box.str("status") ?? "") else {
            throw ChainError(.badState, "box \(key.canonical) is \(box.str("status") ?? "?")")
        }
    }

    /// `ship {sscc, to, carrier?}` (custodian). `to` is a member org or "consumer"; `carrier` a logistics member,
    /// who then holds the box. Shipping a box delivered against a coupon marks the coupon shipped.
    func ship(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["sscc", "to", "carrier"])
        let key = try boxKey(a)
        let to = try a.identifier("to")
        let carrier = try a["carrier"] == nil ? nil : a.identifier("carrier")
        var box = try existingBox(key, s)
        try requireHolder(box, key, s)
        if to != Self.consumerDestination {
            guard let m = try s.record(CrabKeys.member(to)), !m.flag("suspended") else {
                throw ChainError(.notAMember, "\"to\": \(to) is not an active member")
            }
        }
        if let carrier { _ = try s.activeMember(carrier, role: .logistics, field: "carrier") }
        box["status"] = .string("in_transit")
        box["from"] = .string(s.caller.org)
        box["to"] = .string(to)
        box["carrier"] = carrier.map { .string($0) }
        box["shippedAt"] = .int(s.now)
        box["custodian"] = .string(carrier ?? s.caller.org)
        s.put(CrabKeys.object(key), box)
        if box["coupon"] == nil, let gtin = box.str("gtin") {
            try unstock(gtin: gtin, serials: (box["rings"]?.arrayValue ?? []).compactMap(\.stringValue), s)
        }
        var data: Record = ["to": .string(to), "from": .string(s.caller.org)]
        if let carrier { data["carrier"] = .string(carrier) }
        if let gcn = box.str("coupon") {
            let ck = GS1Key.gcn(gcn)
            if var c = try s.record(CrabKeys.object(ck)), c["shippedAt"] == nil {
                c["shippedAt"] = .int(s.now)
                s.put(CrabKeys.object(ck), c)
                try s.history(ck.canonical, ["sscc": box["sscc"] ?? .null])
            }
            data["coupon"] = .string(gcn)
        }
        try s.history(key.canonical, data)
    }

    /// Whether a box in transit goes through a carrier's handover to a member: carried by a
    /// logistics member to another member (a consumer delivery's handover is the carrier's `receive`).
    private func needsHandover(_ box: Record) -> Bool {
        box.str("carrier") != nil && box.str("to") != Self.consumerDestination
    }

    /// `hand_over {sscc}` (the carrier of a box in transit to a member): the carrier signs that it
    /// handed the box to its destination, who then `receive`s it. Every leg with a carrier thus
    /// carries the carrier's signature, farm → shop included (invariant 6).
    func handOver(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["sscc"])
        let key = try boxKey(a)
        var box = try existingBox(key, s)
        guard box.str("status") == "in_transit", needsHandover(box), let to = box.str("to") else {
            throw ChainError(.badState, "box \(key.canonical) is not in transit to a member with a carrier")
        }
        guard box.str("carrier") == s.caller.org, box.str("custodian") == s.caller.org else {
            throw ChainError(.notCustodian, "\(s.caller.org) is not the carrier of box \(key.canonical)")
        }
        box["status"] = .string("handed_over")
        box["handedOverAt"] = .int(s.now)
        s.put(CrabKeys.object(key), box)
        try s.history(key.canonical, ["to": .string(to), "carrier": .string(s.caller.org)])
    }

    /// `receive {sscc}`: by the destination org (after the carrier's `hand_over` when a carrier
    /// carried it); for a consumer delivery, by the carrier (or shipper) on handing over.
    func receive(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["sscc"])
        let key = try boxKey(a)
        var box = try existingBox(key, s)
        let arrived = needsHandover(box) ? "handed_over" : "in_transit"
        guard box.str("status") == arrived, let to = box.str("to") else {
            if box.str("status") == "in_transit", needsHandover(box) {
                throw ChainError(
                    .badState, "box \(key.canonical) awaits its carrier \(box.str("carrier") ?? "")'s hand_over")
            }
            throw ChainError(.badState, "box \(key.canonical) is not in transit")
        }
        let deliverer = box.str("carrier") ?? box.str("from")
        let allowed = to == Self.consumerDestination ? s.caller.org == deliverer : s.caller.org == to
        guard allowed else { throw ChainError(.notCustodian, "\(s.caller.org) cannot receive box \(key.canonical)") }
        box["status"] = .string(to == Self.consumerDestination ? "delivered" : "received")
        box["custodian"] = .string(to)
        box["receivedAt"] = .int(s.now)
        s.put(CrabKeys.object(key), box)
        try stockReceived(box, s)
        try s.history(key.canonical, ["to": .string(to), "by": .string(s.caller.org)])
    }
}
