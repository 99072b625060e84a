import ChainCore
import Execution
import Identity

/// Coupon states.
public enum CouponStatus {
    /// Issued by the merchant, not yet sold.
    public static let issued = "issued"
    /// Sold to a buyer.
    public static let sold = "sold"
    /// A redemption is booked.
    public static let booked = "booked"
    /// Redeemed against a box of rings.
    public static let redeemed = "redeemed"
    /// Expired past its validity; reservation released.
    public static let expired = "expired"
    /// Refunded; reservation released.
    public static let refunded = "refunded"
    /// Recalled by the regulator.
    public static let recalled = "recalled"
    /// States that hold a reservation of crabs.
    public static let live: Set<String> = [issued, sold, booked]
}

/// Coupons: issuance within stock (invariant 2), sale, booking, redemption exactly once (invariant 5), expiry and refund.
extension CrabTraceContract {
    /// Most coupons per issuance or expiry transaction.
    public static let maxCouponsPerTx = 500

    func couponKey(_ a: Arguments, _ name: String = "gcn") throws -> GS1Key {
        .gcn(try GS1Key.checkedGCN(try a.string(name, maxLength: 25)))
    }

    func existingCoupon(_ key: GS1Key, _ s: CrabStep) throws -> Record {
        guard let c = try s.record(CrabKeys.object(key)) else {
            throw ChainError(.unknownCoupon, "coupon \(key.canonical) was never issued")
        }
        return c
    }

    /// Releases a live coupon's reservation from its merchant's stock.
    func release(_ c: Record, _ s: CrabStep) throws {
        let k = CrabKeys.stock(c.str("season") ?? "", c.str("merchant") ?? "")
        guard var st = try s.record(k) else { return }
        st["promised"] = .int(max(0, st.int("promised") - c.int("crabsPerCoupon")))
        promise(&st, size: c["sizeLiang"].flatMap(Arguments.tenths) ?? 0, crabs: -c.int("crabsPerCoupon"))
        s.put(k, st)
    }

    /// `issue_coupons {season, coupons: [{gcn, secretHash}], sizeLiang, crabsPerCoupon, validUntil?}` (merchant).
    ///
    /// Invariant 2: the new crabs must be on hand (`insufficient_stock`: inspected crabs received, by
    /// size class, minus those promised by live coupons; see `StockMethods`), and promised +
    /// delivered + new ≤ granted (`paper_crabs`, the association's cap). When an issuance brings
    /// promised + delivered to `breakerPercent` of granted, a `capacity_exhausted` alert is raised and
    /// further issuance fails `issuance_suspended` until the association lifts it.
    func issueCoupons(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["season", "coupons", "sizeLiang", "crabsPerCoupon", "validUntil"])
        let seasonId = try a.identifier("season", maxLength: 16)
        let size = try a.tenthsOfLiang("sizeLiang")
        let perCoupon = try a.int("crabsPerCoupon", in: 1...100)
        let items = try a.array("coupons", maxItems: Self.maxCouponsPerTx)
        let se = try season(seasonId, s)
        guard (se["sizes"]?.arrayValue ?? []).compactMap(Arguments.tenths).contains(size) else {
            throw ChainError(.badArgs, "\"sizeLiang\" is not one of season \(seasonId)'s sizes")
        }
        let latest = s.now + se.int("couponValidityDays") * Self.day
        let validUntil = try a.optionalInt("validUntil", in: 0...Self.maxTime) ?? latest
        guard validUntil > s.now, validUntil <= latest else {
            throw ChainError(
                .badArgs, "\"validUntil\" must be after now and at most \(se.int("couponValidityDays")) days ahead")
        }
        let org = s.caller.org
        var st = try s.record(CrabKeys.stock(seasonId, org)) ?? [:]
        if st.flag("issuanceSuspended") {
            throw ChainError(.issuanceSuspended, "coupon issuance of \(org) is suspended by the circuit breaker")
        }
        let granted = st.int("granted")
        let wanted = Int64(items.count) * perCoupon
        let committed = st.int("promised") + st.int("delivered")
        guard committed + wanted <= granted else {
            throw ChainError(
                .paperCrabs,
                "\(org) has \(granted) crabs granted, \(committed) promised or delivered; \(wanted) more would be paper crabs")
        }
        promise(&st, size: size, crabs: wanted)
        try requireCrabsOnHand(st, sizes: seasonSizes(se), newSize: size, org: org)
        var seen = Set<String>()
        for item in items {
            let c = try Arguments(item, allowed: ["gcn", "secretHash"])
            let key = try couponKey(c)
            let hash = try c.hash64("secretHash")
            guard seen.insert(key.canonical).inserted, try s.record(CrabKeys.object(key)) == nil else {
                throw ChainError(.couponReused, "coupon \(key.canonical) was already issued")
            }
            guard case .gcn(let gcn) = key else { continue }
            s.put(
                CrabKeys.object(key),
                [
                    "type": .string("coupon"), "gcn": .string(gcn), "merchant": .string(org), "season": .string(seasonId),
                    "secretHash": .string(hash), "sizeLiang": liangJSON(size), "crabsPerCoupon": .int(perCoupon),
                    "validUntil": .int(validUntil), "status": .string(CouponStatus.issued), "issuedAt": .int(s.now),
                    "scans": .int(0),
                ])
            try s.history(
                key.canonical,
                [
                    "sizeLiang": liangJSON(size), "crabsPerCoupon": .int(perCoupon), "validUntil": .int(validUntil),
                    "season": .string(seasonId),
                ])
        }
        st["promised"] = .int(st.int("promised") + wanted)
        let used = st.int("promised") + st.int("delivered")
        if used * 100 >= granted * se.int("breakerPercent") {
            st["issuanceSuspended"] = .bool(true)
            try s.alert(
                .capacityExhausted, object: CrabKeys.memberObject(org),
                ["season": .string(seasonId), "granted": .int(granted), "committed": .int(used)])
        }
        s.put(CrabKeys.stock(seasonId, org), st)
    }

    private func ownCoupon(_ key: GS1Key, _ s: CrabStep) throws -> Record {
        let c = try existingCoupon(key, s)
        guard c.str("merchant") == s.caller.org else {
            throw ChainError(.notOwner, "coupon \(key.canonical) was issued by \(c.str("merchant") ?? "?")")
        }
        return c
    }

    /// The coupon must be live and inside its validity.
    func requireLive(_ c: Record, _ key: GS1Key, _ s: CrabStep) throws {
        switch c.str("status") ?? "" {
        case CouponStatus.redeemed: throw ChainError(.alreadyRedeemed, "coupon \(key.canonical) was already redeemed")
        case CouponStatus.expired: throw ChainError(.couponExpired, "coupon \(key.canonical) has expired")
        case CouponStatus.refunded: throw ChainError(.couponRefunded, "coupon \(key.canonical) was refunded")
        case CouponStatus.recalled: throw ChainError(.recalled, "coupon \(key.canonical) is recalled")
        default: break
        }
        guard s.now <= c.int("validUntil") else {
            throw ChainError(.couponExpired, "coupon \(key.canonical) was valid until \(c.int("validUntil"))")
        }
    }

    private func requireSecret(_ c: Record, _ hash: String?, _ key: GS1Key) throws {
        guard let hash, hash == c.str("secretHash") else {
            throw ChainError(.badSecret, "the secret presented for \(key.canonical) does not match")
        }
    }

    /// `sell_coupon {gcn, toHolderHash?}` (issuing merchant): issued → sold.
    func sellCoupon(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["gcn", "toHolderHash"])
        let key = try couponKey(a)
        let holder = try a.optionalHash64("toHolderHash")
        var c = try ownCoupon(key, s)
        try requireLive(c, key, s)
        guard c.str("status") == CouponStatus.issued else {
            throw ChainError(.badState, "coupon \(key.canonical) was already sold")
        }
        c["status"] = .string(CouponStatus.sold)
        c["holderHash"] = holder.map { .string($0) }
        c["soldAt"] = .int(s.now)
        s.put(CrabKeys.object(key), c)
        try s.history(key.canonical, holder.map { ["holderHash": .string($0)] } ?? [:])
    }

    /// `transfer_coupon {gcn, toHolderHash, secretHash?}` (merchant; consumer or gateway with the coupon's secretHash).
    func transferCoupon(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["gcn", "toHolderHash", "secretHash"])
        let key = try couponKey(a)
        let holder = try a.hash64("toHolderHash")
        let presented = try a.optionalHash64("secretHash")
        var c = try existingCoupon(key, s)
        if s.caller.role == .merchant {
            guard c.str("merchant") == s.caller.org else { throw ChainError(.notOwner, "coupon \(key.canonical) is not yours") }
        } else {
            try requireSecret(c, presented, key)
        }
        try requireLive(c, key, s)
        c["holderHash"] = .string(holder)
        if c.str("status") == CouponStatus.issued { c["status"] = .string(CouponStatus.sold) }
        s.put(CrabKeys.object(key), c)
        try s.history(key.canonical, ["holderHash": .string(holder)])
    }

    /// `book_redemption {gcn, secretHash, phoneHash, city}` (consumer or gateway): proves possession with the secret.
    func bookRedemption(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["gcn", "secretHash", "phoneHash", "city"])
        let key = try couponKey(a)
        let presented = try a.hash64("secretHash")
        let phone = try a.hash64("phoneHash")
        let city = try a.city("city")
        var c = try existingCoupon(key, s)
        try requireSecret(c, presented, key)
        try requireLive(c, key, s)
        c["status"] = .string(CouponStatus.booked)
        c["booking"] = .object(["phoneHash": .string(phone), "city": .string(city), "time": .int(s.now)])
        s.put(CrabKeys.object(key), c)
        try s.history(key.canonical, ["phoneHash": .string(phone), "city": .string(city)])
    }

    /// `redeem {gcn, sscc}` (issuing merchant, holding the box), only of a coupon whose holder booked
    /// the redemption (`not_booked`; at the counter the consumer books first, proving possession).
    /// Invariant 5: `already_redeemed`, `coupon_expired`, `wrong_count`, `wrong_size`, `not_inspected`,
    /// `inspection_failed`, `lot_frozen`, `recalled`.
    func redeem(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["gcn", "sscc"])
        let key = try couponKey(a)
        let bk = try boxKey(a)
        var c = try ownCoupon(key, s)
        try requireLive(c, key, s)
        guard c.str("status") == CouponStatus.booked else {
            throw ChainError(
                .notBooked, "coupon \(key.canonical) is \(c.str("status") ?? "?"): its holder has not booked a redemption")
        }
        var box = try existingBox(bk, s)
        guard box.str("custodian") == s.caller.org, ["packed", "received"].contains(box.str("status") ?? "") else {
            throw ChainError(.notCustodian, "\(s.caller.org) does not hold box \(bk.canonical)")
        }
        guard box["coupon"] == nil else {
            throw ChainError(.boxUsed, "box \(bk.canonical) was already delivered against a coupon")
        }
        let serials = (box["rings"]?.arrayValue ?? []).compactMap(\.stringValue)
        guard Int64(serials.count) == c.int("crabsPerCoupon") else {
            throw ChainError(
                .wrongCount, "coupon \(key.canonical) is for \(c.int("crabsPerCoupon")) crabs; the box holds \(serials.count)")
        }
        let size = c["sizeLiang"].flatMap(Arguments.tenths) ?? 0
        let minWeight = size * 5 - 10
        let gtin = box.str("gtin") ?? ""
        guard case .gcn(let gcn) = key, case .sscc(let sscc) = bk else { return }
        var lots: [String: Record] = [:]
        var rings: [(GS1Key, Record)] = []
        for serial in serials {
            let rk = GS1Key.sgtin(gtin: gtin, serial: serial)
            guard let ring = try s.record(CrabKeys.object(rk)) else {
                throw ChainError(.unknownRing, "ring \(rk.canonical) was never commissioned")
            }
            guard ring.int("weightG") >= minWeight else {
                throw ChainError(
                    .wrongSize,
                    "ring \(rk.canonical) weighs \(ring.int("weightG")) g; size \(size / 10).\(size % 10) liang needs ≥ \(minWeight) g"
                )
            }
            if ring.flag("recalled") { throw ChainError(.recalled, "ring \(rk.canonical) is recalled") }
            let lotNo = ring.str("lot") ?? ""
            let lot = try lotRecord(gtin: gtin, lot: lotNo, cache: &lots, s)
            guard let insp = lot["inspection"]?.objectValue else {
                throw ChainError(.notInspected, "lot \(lotNo) of ring \(rk.canonical) has not been inspected")
            }
            guard insp.str("result") == "pass" else {
                throw ChainError(.inspectionFailed, "lot \(lotNo) of ring \(rk.canonical) failed inspection")
            }
            if lot.flag("recalled") { throw ChainError(.recalled, "lot \(lotNo) is recalled") }
            if lot.flag("frozen") { throw ChainError(.lotFrozen, "lot \(lotNo) is frozen: \(lot.str("frozenReason") ?? "")") }
            rings.append((rk, ring))
        }
        for (rk, var ring) in rings {
            ring["coupon"] = .string(gcn)
            ring["merchant"] = .string(s.caller.org)
            s.put(CrabKeys.object(rk), ring)
            try s.history(rk.canonical, ["gcn": .string(gcn), "sscc": .string(sscc)])
        }
        c["status"] = .string(CouponStatus.redeemed)
        c["redeemedAt"] = .int(s.now)
        c["box"] = .string(sscc)
        c["gtin"] = .string(gtin)
        c["rings"] = .array(serials.map { .string($0) })
        s.put(CrabKeys.object(key), c)
        box["coupon"] = .string(gcn)
        s.put(CrabKeys.object(bk), box)
        let stockKey = CrabKeys.stock(c.str("season") ?? "", s.caller.org)
        var st = try s.record(stockKey) ?? [:]
        st["promised"] = .int(max(0, st.int("promised") - c.int("crabsPerCoupon")))
        promise(&st, size: size, crabs: -c.int("crabsPerCoupon"))
        st["delivered"] = .int(st.int("delivered") + c.int("crabsPerCoupon"))
        s.put(stockKey, st)
        try unstock(gtin: gtin, serials: serials, s)
        try s.history(key.canonical, ["sscc": .string(sscc), "rings": .array(serials.map { .string($0) })])
        try s.history(bk.canonical, ["gcn": .string(gcn)])
    }

    /// `refund_coupon {gcn, reason?}` (issuing merchant): releases the reservation.
    func refundCoupon(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["gcn", "reason"])
        let key = try couponKey(a)
        let reason = try a.optionalString("reason", maxLength: 500)
        var c = try ownCoupon(key, s)
        guard CouponStatus.live.contains(c.str("status") ?? "") else {
            try requireLive(c, key, s)
            return
        }
        try release(c, s)
        c["status"] = .string(CouponStatus.refunded)
        s.put(CrabKeys.object(key), c)
        try s.history(key.canonical, ["reason": reason.map { .string($0) } ?? .null, "disposition": .string("inactive")])
    }

    /// Expires a live coupon past its validity; false when it is not expirable.
    func expireIfDue(_ key: GS1Key, _ s: CrabStep) throws -> Bool {
        guard var c = try s.record(CrabKeys.object(key)), CouponStatus.live.contains(c.str("status") ?? ""),
            s.now > c.int("validUntil")
        else { return false }
        try release(c, s)
        c["status"] = .string(CouponStatus.expired)
        s.put(CrabKeys.object(key), c)
        try s.history(key.canonical, ["disposition": .string("expired")], step: "expire_coupons")
        return true
    }

    /// `expire_coupons {gcns}` (issuing merchant or association): each must be live and past validity (`not_expired`).
    func expireCoupons(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["gcns"])
        for g in try a.stringList("gcns", maxItems: Self.maxCouponsPerTx, maxLength: 25) {
            let key = GS1Key.gcn(try GS1Key.checkedGCN(g))
            let c = try existingCoupon(key, s)
            if s.caller.role == .merchant, c.str("merchant") != s.caller.org {
                throw ChainError(.notOwner, "coupon \(key.canonical) is not yours")
            }
            guard try expireIfDue(key, s) else {
                throw ChainError(
                    .notExpired, "coupon \(key.canonical) is \(c.str("status") ?? "?") and valid until \(c.int("validUntil"))")
            }
        }
    }
}
