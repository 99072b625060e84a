import ChainCore
import Execution
import Identity

/// Lots: inspection by labs; freezes and recalls by the regulator.
extension CrabTraceContract {
    func lotKey(_ a: Arguments) throws -> GS1Key {
        .lot(gtin: try a.gtin(), lot: try GS1Key.checkedLot(try a.string("lot", maxLength: GS1Key.maxLotLength)))
    }

    func existingLot(_ key: GS1Key, _ s: CrabStep) throws -> Record {
        guard let lot = try s.record(CrabKeys.object(key)) else {
            throw ChainError(.unknownLot, "lot \(key.canonical) has no tagged crabs")
        }
        return lot
    }

    /// `inspect_lot {gtin, lot, result: pass|fail, residues?, reportHash}` (lab). The latest inspection counts; all stay in history.
    func inspectLot(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["gtin", "lot", "result", "residues", "reportHash"])
        let key = try lotKey(a)
        let result = try a.choice("result", ["pass", "fail"])
        let residues = try a.smallObject("residues", maxBytes: 2048)
        let report = try a.hash64("reportHash")
        var lot = try existingLot(key, s)
        let inspection: Record = [
            "result": .string(result), "residues": residues.map { .object($0) } ?? .null, "reportHash": .string(report),
            "lab": .string(s.caller.org), "subject": .string(s.caller.subject), "time": .int(s.now),
            "txid": .string(s.ctx.txid.hex),
        ]
        lot["inspection"] = .object(inspection)
        s.put(CrabKeys.object(key), lot)
        try s.history(key.canonical, inspection)
    }

    /// `freeze_lot {gtin, lot, reason}` / `unfreeze_lot {gtin, lot, reason?}` (regulator).
    func freezeLot(_ args: JSONValue, _ s: CrabStep, frozen: Bool) throws {
        let a = try Arguments(args, allowed: ["gtin", "lot", "reason"])
        let key = try lotKey(a)
        let reason: String? = try frozen ? a.string("reason", maxLength: 500) : a.optionalString("reason", maxLength: 500)
        var lot = try existingLot(key, s)
        lot["frozen"] = .bool(frozen)
        lot["frozenReason"] = frozen ? .string(reason ?? "") : nil
        s.put(CrabKeys.object(key), lot)
        try s.history(key.canonical, ["reason": reason.map { .string($0) } ?? .null])
    }

    /// `recall {reason, gtin + lot | gtin + serial | gcn}` (regulator): disposition recalled.
    /// A recalled live coupon releases its reservation.
    func recall(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["gtin", "lot", "serial", "gcn", "reason"])
        let reason = try a.string("reason", maxLength: 500)
        let targets = [a["lot"], a["serial"], a["gcn"]].compactMap { $0 }.count
        guard targets == 1 else { throw ChainError(.badArgs, "recall exactly one of \"lot\", \"serial\" or \"gcn\"") }
        let key: GS1Key
        if a["gcn"] != nil {
            key = .gcn(try GS1Key.checkedGCN(try a.string("gcn", maxLength: 25)))
            var c = try existingCoupon(key, s)
            if CouponStatus.live.contains(c.str("status") ?? "") { try release(c, s) }
            c["status"] = .string(CouponStatus.recalled)
            c["recallReason"] = .string(reason)
            s.put(CrabKeys.object(key), c)
        } else if a["serial"] != nil {
            key = .sgtin(gtin: try a.gtin(), serial: try GS1Key.checkedSerial(try a.string("serial", maxLength: 20)))
            guard var ring = try s.record(CrabKeys.object(key)) else {
                throw ChainError(.unknownRing, "ring \(key.canonical) was never commissioned")
            }
            ring["recalled"] = .bool(true)
            ring["recallReason"] = .string(reason)
            s.put(CrabKeys.object(key), ring)
        } else {
            key = try lotKey(a)
            var lot = try existingLot(key, s)
            lot["recalled"] = .bool(true)
            lot["recallReason"] = .string(reason)
            s.put(CrabKeys.object(key), lot)
        }
        try s.history(key.canonical, ["reason": .string(reason), "disposition": .string("recalled")])
    }
}
