import ChainCore
import Execution
import Identity

/// Stock backed by crabs (invariant 2): a merchant's coupons may promise only inspected crabs it
/// holds, by size class; the association's quota is a further cap.
///
/// `stock/<season>/<merchant>` keeps `onHand` {size in tenths of a liang: crabs} — the inspected
/// crabs the merchant holds that are heavy enough for that season size (at most 10 g under it),
/// counted when it receives them and taken off when they leave (redeemed against a coupon, or
/// shipped on) — and `promisedBySize` {size: crabs promised by its live coupons of that size}. A
/// crab heavy enough for a size is heavy enough for every smaller one, so the coupons can be
/// served exactly when, for every season size X, the crabs promised for sizes ≥ X are at most the
/// crabs on hand that are heavy enough for X.
extension CrabTraceContract {
    /// Lightest crab a coupon of `tenths` of a liang accepts, grams (1 liang = 50 g, 10 g tolerance).
    static func minWeight(forSize tenths: Int64) -> Int64 { tenths * 5 - 10 }

    /// A season's coupon sizes, tenths of a liang, ascending.
    func seasonSizes(_ season: Record) -> [Int64] {
        (season["sizes"]?.arrayValue ?? []).compactMap(Arguments.tenths).sorted()
    }

    private static func sizeKey(_ tenths: Int64) -> String { String(tenths) }

    private static func counts(_ st: Record, _ field: String) -> [Int64: Int64] {
        var out: [Int64: Int64] = [:]
        for (k, v) in st[field]?.objectValue ?? [:] {
            if let size = Int64(k) { out[size] = v.int64Value ?? 0 }
        }
        return out
    }

    private static func countsJSON(_ counts: [Int64: Int64]) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: counts.map { (sizeKey($0.key), JSONValue.int($0.value)) }))
    }

    /// A lot's record (empty when there is none), read at most once per step through `cache`.
    func lotRecord(gtin: String, lot lotNo: String, cache: inout [String: Record], _ s: CrabStep) throws -> Record {
        if let known = cache[lotNo] { return known }
        let lot = try s.record(CrabKeys.object(.lot(gtin: gtin, lot: lotNo))) ?? [:]
        cache[lotNo] = lot
        return lot
    }

    /// Whether a ring on a crab counts as inspected stock: its lot passed inspection and neither is
    /// recalled nor frozen.
    private func isInspectedStock(_ ring: Record, gtin: String, _ s: CrabStep, lots: inout [String: Record]) throws -> Bool {
        guard ring.str("status") == "tagged", !ring.flag("recalled"), let lotNo = ring.str("lot") else { return false }
        let lot = try lotRecord(gtin: gtin, lot: lotNo, cache: &lots, s)
        guard lot["inspection"]?.objectValue?.str("result") == "pass" else { return false }
        return !lot.flag("recalled") && !lot.flag("frozen")
    }

    /// Adds `weights` (grams, by season) to (`delta` 1) or takes them from (`delta` −1) `merchant`'s crabs on hand.
    private func adjustOnHand(_ merchant: String, _ weights: [String: [Int64]], delta: Int64, _ s: CrabStep) throws {
        for (seasonId, ws) in weights.sorted(by: { $0.key < $1.key }) where !ws.isEmpty {
            guard let se = try s.record(CrabKeys.season(seasonId)) else { continue }
            let key = CrabKeys.stock(seasonId, merchant)
            var st = try s.record(key) ?? ["promised": .int(0), "delivered": .int(0)]
            var onHand = Self.counts(st, "onHand")
            for size in seasonSizes(se) {
                let n = Int64(ws.filter { $0 >= Self.minWeight(forSize: size) }.count)
                onHand[size] = max(0, (onHand[size] ?? 0) + delta * n)
            }
            st["onHand"] = Self.countsJSON(onHand)
            s.put(key, st)
        }
    }

    /// A merchant receives a box: its rings of inspected lots become stock on hand (once per ring).
    func stockReceived(_ box: Record, _ s: CrabStep) throws {
        guard s.caller.role == .merchant, let gtin = box.str("gtin") else { return }
        var lots: [String: Record] = [:]
        var weights: [String: [Int64]] = [:]
        for v in box["rings"]?.arrayValue ?? [] {
            let rk = GS1Key.sgtin(gtin: gtin, serial: v.stringValue ?? "")
            guard var ring = try s.record(CrabKeys.object(rk)) else { continue }
            ring["merchant"] = .string(s.caller.org)
            if ring["stockedBy"] == nil, try isInspectedStock(ring, gtin: gtin, s, lots: &lots) {
                ring["stockedBy"] = .string(s.caller.org)
                weights[ring.str("season") ?? "", default: []].append(ring.int("weightG"))
            }
            s.put(CrabKeys.object(rk), ring)
        }
        try adjustOnHand(s.caller.org, weights, delta: 1, s)
    }

    /// Rings leave the merchant who stocked them (redeemed, or shipped on): they are no longer on hand.
    func unstock(gtin: String, serials: [String], _ s: CrabStep) throws {
        var weights: [String: [String: [Int64]]] = [:]
        for serial in serials {
            let rk = GS1Key.sgtin(gtin: gtin, serial: serial)
            guard var ring = try s.record(CrabKeys.object(rk)), let merchant = ring.str("stockedBy") else { continue }
            ring["stockedBy"] = nil
            s.put(CrabKeys.object(rk), ring)
            weights[merchant, default: [:]][ring.str("season") ?? "", default: []].append(ring.int("weightG"))
        }
        for (merchant, ws) in weights.sorted(by: { $0.key < $1.key }) { try adjustOnHand(merchant, ws, delta: -1, s) }
    }

    /// Adds `crabs` (negative: releases them) to the crabs promised for coupons of `size` in `st`.
    func promise(_ st: inout Record, size: Int64, crabs: Int64) {
        var promised = Self.counts(st, "promisedBySize")
        promised[size] = max(0, (promised[size] ?? 0) + crabs)
        st["promisedBySize"] = Self.countsJSON(promised)
    }

    /// `insufficient_stock` unless the crabs on hand can serve every live coupon of `st` (with the new ones already counted).
    func requireCrabsOnHand(_ st: Record, sizes: [Int64], newSize: Int64, org: String) throws {
        let onHand = Self.counts(st, "onHand")
        let promised = Self.counts(st, "promisedBySize")
        for x in sizes where x <= newSize {
            let need = promised.filter { $0.key >= x }.values.reduce(0, +)
            let have = onHand[x] ?? 0
            guard need <= have else {
                throw ChainError(
                    .insufficientStock,
                    "\(org) holds \(have) inspected crabs of at least \(x / 10).\(x % 10) liang (≥ \(Self.minWeight(forSize: x)) g); its live coupons would promise \(need)"
                )
            }
        }
    }
}
