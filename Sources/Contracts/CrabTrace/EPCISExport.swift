import ChainCore
import EPCIS

/// Renders crab history as GS1 EPCIS 2.0 JSON-LD events and documents.
///
/// Entries of one transaction and step are merged into one event (one commissioning of 500
/// rings is one ObjectEvent with 500 EPCs). Extensions use the `xc:` namespace
/// (`https://xiangchain.example/ns/crab#`). Event ids are `ni:///sha-256;<hex>` of
/// `"XIANGCHAIN-EPCIS-V1" 0x00 txid 0x00 step` — derived ids, not the CBV 2.0 event hash.
public struct EPCISExport: Sendable {
    /// Queries, for member locations (GLN) and box contents.
    public let queries: CrabQueries
    /// Offset of local time, minutes east of UTC (China: 480).
    public let timeZoneOffsetMinutes: Int

    /// The JSON-LD context of exported documents.
    public static let context: JSONValue = .array([
        .string("https://ref.gs1.org/standards/epcis/epcis-context.jsonld"),
        .object(["xc": .string("https://xiangchain.example/ns/crab#")]),
    ])

    /// Creates an exporter.
    public init(queries: CrabQueries, timeZoneOffsetMinutes: Int = 480) {
        self.queries = queries
        self.timeZoneOffsetMinutes = timeZoneOffsetMinutes
    }

    /// An EPCISDocument holding `events`, created at `creationTime` (unix ms).
    public func document(events: [JSONValue], creationTime: Int64) -> JSONValue {
        .object([
            "@context": Self.context, "type": .string("EPCISDocument"), "schemaVersion": .string("2.0"),
            "creationDate": .string(Self.iso8601(creationTime)), "epcisBody": .object(["eventList": .array(events)]),
        ])
    }

    /// EPCIS events for history entries (GS1 objects only; member and season entries have no event).
    public func events(for entries: [HistoryEntry]) throws -> [JSONValue] {
        var groups: [(key: String, entries: [HistoryEntry])] = []
        var index: [String: Int] = [:]
        for e in entries {
            guard (try? DigitalLink.parse(e.object)) != nil else { continue }
            let k = "\(e.txid)|\(e.step)"
            if let i = index[k] {
                groups[i].entries.append(e)
            } else {
                index[k] = groups.count
                groups.append((k, [e]))
            }
        }
        var out: [JSONValue] = []
        for g in groups {
            if g.entries[0].step == "declare_error" {
                let d = g.entries[0].data
                guard let declared = d.str("declaredTxid"),
                    let original = groups.first(where: { $0.entries[0].txid == declared }),
                    case .object(var ev)? = try event(original.entries)
                else { continue }
                var decl: [String: JSONValue] = [
                    "declarationTime": .string(Self.iso8601(g.entries[0].time)),
                    "reason": .string(d.str("reason") ?? "incorrect_data"),
                ]
                decl["correctiveEventIDs"] = .array([.string(Self.eventID(txid: g.entries[0].txid, step: "declare_error"))])
                ev["errorDeclaration"] = .object(decl)
                if let note = d.str("note") { ev["xc:errorNote"] = .string(note) }
                if let c = d["correction"] { ev["xc:correction"] = c }
                out.append(.object(ev))
            } else if let ev = try event(g.entries) {
                out.append(ev)
            }
        }
        return out
    }

    /// The event id of a step.
    public static func eventID(txid: String, step: String) -> String {
        var bytes = Array("XIANGCHAIN-EPCIS-V1".utf8)
        bytes.append(0)
        bytes += Array(txid.utf8)
        bytes.append(0)
        bytes += Array(step.utf8)
        return "ni:///sha-256;\(Hash256.sha256(bytes).hex)"
    }

    func uri(_ object: String) -> String? {
        guard let k = try? DigitalLink.parse(object).key else { return nil }
        return DigitalLink.uri(k, resolver: queries.config.resolver)
    }

    func kind(_ object: String) -> String { (try? DigitalLink.parse(object).key.kind) ?? "" }

    private func event(_ entries: [HistoryEntry]) throws -> JSONValue? {
        let first = entries[0]
        var ev: [String: JSONValue] = [
            "eventTime": .string(Self.iso8601(first.time)), "eventTimeZoneOffset": .string(offsetString),
            "eventID": .string(Self.eventID(txid: first.txid, step: first.step)),
            "xc:txid": .string(first.txid), "xc:height": .int(first.height), "xc:signer": first.signer.json,
        ]
        if let b = first.bizStep { ev["bizStep"] = .string(b) }
        if let gln = try queries.record(CrabKeys.member(first.signer.org))?.str("gln") {
            let loc = JSONValue.object(["id": .string(DigitalLink.uri(.gln(gln), resolver: queries.config.resolver))])
            ev["readPoint"] = loc
            ev["bizLocation"] = loc
        }
        let byKind = Dictionary(grouping: entries, by: { kind($0.object) })
        let epcs = { (k: String) -> [JSONValue] in (byKind[k] ?? []).compactMap { self.uri($0.object) }.map { .string($0) } }
        let lots = (byKind["lot"] ?? []).compactMap { uri($0.object) }
        func object(_ action: String, _ list: [JSONValue], disposition: String? = nil) {
            ev["type"] = .string("ObjectEvent")
            ev["action"] = .string(action)
            ev["epcList"] = .array(list)
            if !lots.isEmpty {
                ev["quantityList"] = .array(lots.map { .object(["epcClass": .string($0)]) })
            }
            if let disposition { ev["disposition"] = .string(disposition) }
        }
        let d = first.data
        for (k, v) in d where ["city", "to", "from", "carrier", "reason", "holderHash", "reportHash", "gcn", "sscc"].contains(k) {
            ev["xc:\(k)"] = v
        }
        switch first.step {
        case "commission_rings", "issue_coupons": object("ADD", epcs("sgtin") + epcs("gcn"), disposition: "active")
        case "allocate_rings": object("OBSERVE", epcs("sgtin"))
        case "tag_harvest":
            object("ADD", epcs("sgtin"), disposition: "active")
            let ringEntry = (byKind["sgtin"] ?? []).first?.data ?? d
            var ilmd: [String: JSONValue] = [:]
            for k in ["lot", "pond", "zone", "season", "harvestedAt"] where ringEntry[k] != nil { ilmd["xc:\(k)"] = ringEntry[k] }
            ilmd["xc:crabs"] = .array(
                (byKind["sgtin"] ?? []).compactMap { e in
                    uri(e.object).map {
                        .object(["epc": .string($0), "sex": e.data["sex"] ?? .null, "weightG": e.data["weightG"] ?? .null])
                    }
                })
            ev["ilmd"] = .object(ilmd)
        case "inspect_lot":
            object("OBSERVE", [], disposition: d.str("result") == "pass" ? "conformant" : "non_conformant")
            ev["xc:result"] = d["result"] ?? .null
        case "pack_box", "unpack_box":
            ev["type"] = .string("AggregationEvent")
            ev["action"] = .string(first.step == "pack_box" ? "ADD" : "DELETE")
            if let box = (byKind["sscc"] ?? []).first.flatMap({ uri($0.object) }) { ev["parentID"] = .string(box) }
            ev["childEPCs"] = .array(epcs("sgtin"))
            ev["disposition"] = .string(first.step == "pack_box" ? "container_closed" : "container_open")
        case "ship": object("OBSERVE", epcs("sscc") + epcs("gcn"), disposition: "in_transit")
        case "hand_over", "receive": object("OBSERVE", epcs("sscc"), disposition: "in_progress")
        case "sell_coupon": object("OBSERVE", epcs("gcn"), disposition: "retail_sold")
        case "transfer_coupon", "scan", "complain": object("OBSERVE", epcs("sgtin") + epcs("gcn") + epcs("sscc"))
        case "book_redemption": object("OBSERVE", epcs("gcn"), disposition: "reserved")
        case "redeem":
            object("OBSERVE", epcs("gcn"), disposition: "inactive")
            ev["xc:rings"] = .array(epcs("sgtin"))
            if let box = (byKind["sscc"] ?? []).first.flatMap({ uri($0.object) }) { ev["xc:box"] = .string(box) }
        case "refund_coupon": object("DELETE", epcs("gcn"), disposition: "inactive")
        case "expire_coupons": object("DELETE", epcs("gcn"), disposition: "expired")
        case "freeze_lot": object("OBSERVE", [], disposition: "non_sellable_other")
        case "unfreeze_lot": object("OBSERVE", [], disposition: "sellable_accessible")
        case "recall": object("OBSERVE", epcs("sgtin") + epcs("gcn"), disposition: "recalled")
        default: return nil
        }
        return .object(ev)
    }

    var offsetString: String {
        let m = abs(timeZoneOffsetMinutes)
        return (timeZoneOffsetMinutes < 0 ? "-" : "+") + Self.two(m / 60) + ":" + Self.two(m % 60)
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Unix ms as ISO 8601 UTC with milliseconds, e.g. `2026-10-01T02:03:04.005Z` (EPCIS's canonical time).
    public static func iso8601(_ ms: Int64) -> String { EPCISTime(millis: ms).canonical }
}
