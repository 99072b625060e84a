import ChainCore

/// Typed builders of `crab` calls: one static function per contract method, returning a
/// `ContractCall` to sign with `SigningIdentity.transaction(chain:call:)`.
///
/// This is the one place that spells the methods' JSON argument names. Optional parameters left
/// nil are omitted from the arguments. Values are not checked here: the contract checks them
/// (so a test can still build a call with, say, a wrong check digit and expect `bad_code`).
public enum CrabCall {
    /// A member role the association registers.
    public enum MemberRole: String, Sendable, CaseIterable {
        case farm, merchant, lab, logistics
    }

    /// The sex of a tagged crab.
    public enum Sex: String, Sendable, CaseIterable {
        case male, female
    }

    /// The outcome of a lot inspection.
    public enum InspectionResult: String, Sendable, CaseIterable {
        case pass, fail
    }

    /// Why a step is declared in error.
    public enum ErrorReason: String, Sendable, CaseIterable {
        case didNotOccur = "did_not_occur"
        case incorrectData = "incorrect_data"
    }

    /// Where a box is shipped.
    public enum Destination: Sendable, Hashable {
        /// A member org.
        case member(String)
        /// A consumer (delivered by the carrier, or the shipper).
        case consumer

        var jsonValue: JSONValue {
            switch self {
            case .member(let org): .string(org)
            case .consumer: .string(CrabTraceContract.consumerDestination)
            }
        }
    }

    /// What a recall names.
    public enum RecallTarget: Sendable, Hashable {
        /// A lot: GTIN and lot number.
        case lot(gtin: String, lot: String)
        /// One ring: GTIN and serial.
        case ring(gtin: String, serial: String)
        /// One coupon: its GCN.
        case coupon(gcn: String)
    }

    /// A ring to commission: its serial and the salted hash of its secret.
    public struct Ring: Sendable, Hashable {
        /// AI 21 serial.
        public var serial: String
        /// `CodeSecret.hash` of the ring's secret.
        public var secretHash: String

        /// A ring with `serial` and `secretHash`.
        public init(serial: String, secretHash: String) {
            self.serial = serial
            self.secretHash = secretHash
        }

        /// The ring of a generated ring code (an empty serial for any other kind of code).
        public init(_ code: GeneratedCode) { self.init(serial: code.key.serial ?? "", secretHash: code.secretHash) }

        var jsonValue: JSONValue { .object(["serial": .string(serial), "secretHash": .string(secretHash)]) }
    }

    /// A ring put on a harvested crab.
    public struct TaggedRing: Sendable, Hashable {
        /// AI 21 serial.
        public var serial: String
        /// The crab's sex.
        public var sex: Sex
        /// The crab's weight, grams.
        public var weightG: Int64

        /// A ring `serial` on a crab of `sex` weighing `weightG` grams.
        public init(serial: String, sex: Sex, weightG: Int64) {
            self.serial = serial
            self.sex = sex
            self.weightG = weightG
        }

        var jsonValue: JSONValue {
            .object(["serial": .string(serial), "sex": .string(sex.rawValue), "weightG": .int(weightG)])
        }
    }

    /// A coupon to issue: its GCN and the salted hash of its secret.
    public struct Coupon: Sendable, Hashable {
        /// GS1 Global Coupon Number (AI 255).
        public var gcn: String
        /// `CodeSecret.hash` of the coupon's secret.
        public var secretHash: String

        /// A coupon `gcn` with `secretHash`.
        public init(gcn: String, secretHash: String) {
            self.gcn = gcn
            self.secretHash = secretHash
        }

        /// The coupon of a generated coupon code (an empty GCN for any other kind of code).
        public init(_ code: GeneratedCode) { self.init(gcn: code.key.gcnValue ?? "", secretHash: code.secretHash) }

        var jsonValue: JSONValue { .object(["gcn": .string(gcn), "secretHash": .string(secretHash)]) }
    }

    static func call(_ method: String, _ args: [String: JSONValue?]) -> ContractCall {
        ContractCall(contract: CrabTraceContract.contractName, method: method, args: .object(args.compactMapValues { $0 }))
    }

    static func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }

    // MARK: membership and seasons

    /// `register_member` (association).
    public static func registerMember(
        org: String, role: MemberRole, name: String, licence: String, areaMu: Int64? = nil, zone: String? = nil,
        salesRegion: [String]? = nil, gln: String? = nil
    ) -> ContractCall {
        call(
            "register_member",
            [
                "org": .string(org), "role": .string(role.rawValue), "name": .string(name), "licence": .string(licence),
                "areaMu": areaMu.map { .int($0) }, "zone": zone.map { .string($0) }, "salesRegion": salesRegion.map(strings),
                "gln": gln.map { .string($0) },
            ])
    }

    /// `update_member` (association): only the fields given change.
    public static func updateMember(
        org: String, name: String? = nil, licence: String? = nil, areaMu: Int64? = nil, zone: String? = nil,
        salesRegion: [String]? = nil, gln: String? = nil, ponds: [Pond]? = nil
    ) -> ContractCall {
        call(
            "update_member",
            [
                "org": .string(org), "name": name.map { .string($0) }, "licence": licence.map { .string($0) },
                "areaMu": areaMu.map { .int($0) }, "zone": zone.map { .string($0) }, "salesRegion": salesRegion.map(strings),
                "gln": gln.map { .string($0) }, "ponds": ponds.map { .array($0.map(\.json)) },
            ])
    }

    /// A farm's pond, optionally pointing to its lease in the 三资 WebAssembly contract.
    public struct Pond: Sendable, Hashable {
        /// The pond's name, as harvest lots name it.
        public var pond: String
        /// The contract (e.g. `sanzi`), the village and the lease id.
        public var lease: (contract: String, village: String, id: String)?

        /// Creates a pond entry.
        public init(pond: String, lease: (contract: String, village: String, id: String)? = nil) {
            self.pond = pond
            self.lease = lease
        }

        var json: JSONValue {
            var o: [String: JSONValue] = ["pond": .string(pond)]
            if let lease {
                o["lease"] = .object([
                    "contract": .string(lease.contract), "village": .string(lease.village), "id": .string(lease.id),
                ])
            }
            return .object(o)
        }

        public static func == (a: Pond, b: Pond) -> Bool { a.json == b.json }
        public func hash(into h: inout Hasher) { h.combine(json) }
    }

    /// `suspend_member` (regulator).
    public static func suspendMember(org: String, reason: String) -> ContractCall {
        call("suspend_member", ["org": .string(org), "reason": .string(reason)])
    }

    /// `reinstate_member` (regulator).
    public static func reinstateMember(org: String, reason: String? = nil) -> ContractCall {
        call("reinstate_member", ["org": .string(org), "reason": reason.map { .string($0) }])
    }

    /// `open_season` (association); times in unix milliseconds.
    public static func openSeason(
        season: String, opensAt: Int64, closesAt: Int64, capPerMu: Int64, couponValidityDays: Int64, sizes: [LiangSize],
        maxScans: Int64, scanWindowHours: Int64, lateScanDays: Int64, shipWithinDays: Int64, breakerPercent: Int64? = nil
    ) -> ContractCall {
        call(
            "open_season",
            [
                "season": .string(season), "opensAt": .int(opensAt), "closesAt": .int(closesAt), "capPerMu": .int(capPerMu),
                "couponValidityDays": .int(couponValidityDays), "sizes": .array(sizes.map(\.jsonValue)),
                "maxScans": .int(maxScans), "scanWindowHours": .int(scanWindowHours), "lateScanDays": .int(lateScanDays),
                "shipWithinDays": .int(shipWithinDays), "breakerPercent": breakerPercent.map { .int($0) },
            ])
    }

    /// `grant_quota` (association): the merchant's granted stock for the season.
    public static func grantQuota(season: String, org: String, crabs: Int64) -> ContractCall {
        call("grant_quota", ["season": .string(season), "org": .string(org), "crabs": .int(crabs)])
    }

    /// `lift_issuance_suspension` (association).
    public static func liftIssuanceSuspension(season: String, org: String) -> ContractCall {
        call("lift_issuance_suspension", ["season": .string(season), "org": .string(org)])
    }

    // MARK: rings

    /// `commission_rings` (association).
    public static func commissionRings(gtin: String, rings: [Ring]) -> ContractCall {
        call("commission_rings", ["gtin": .string(gtin), "rings": .array(rings.map(\.jsonValue))])
    }

    /// `allocate_rings` (association): rings to a farm for a season.
    public static func allocateRings(org: String, season: String, gtin: String, serials: [String]) -> ContractCall {
        call(
            "allocate_rings",
            ["org": .string(org), "season": .string(season), "gtin": .string(gtin), "serials": strings(serials)])
    }

    /// `tag_harvest` (farm); `harvestedAt` in unix milliseconds.
    public static func tagHarvest(
        season: String, gtin: String, lot: String, pond: String, zone: String, harvestedAt: Int64, rings: [TaggedRing]
    ) -> ContractCall {
        call(
            "tag_harvest",
            [
                "season": .string(season), "gtin": .string(gtin), "lot": .string(lot), "pond": .string(pond),
                "zone": .string(zone), "harvestedAt": .int(harvestedAt), "rings": .array(rings.map(\.jsonValue)),
            ])
    }

    // MARK: lots

    /// `inspect_lot` (lab); `residues` is free-form (at most 2 KiB), `reportHash` 64 hex characters.
    public static func inspectLot(
        gtin: String, lot: String, result: InspectionResult, residues: [String: JSONValue]? = nil, reportHash: String
    ) -> ContractCall {
        call(
            "inspect_lot",
            [
                "gtin": .string(gtin), "lot": .string(lot), "result": .string(result.rawValue),
                "residues": residues.map { .object($0) }, "reportHash": .string(reportHash),
            ])
    }

    /// `freeze_lot` (regulator).
    public static func freezeLot(gtin: String, lot: String, reason: String) -> ContractCall {
        call("freeze_lot", ["gtin": .string(gtin), "lot": .string(lot), "reason": .string(reason)])
    }

    /// `unfreeze_lot` (regulator).
    public static func unfreezeLot(gtin: String, lot: String, reason: String? = nil) -> ContractCall {
        call("unfreeze_lot", ["gtin": .string(gtin), "lot": .string(lot), "reason": reason.map { .string($0) }])
    }

    /// `recall` (regulator) of a lot, a ring or a coupon.
    public static func recall(_ target: RecallTarget, reason: String) -> ContractCall {
        var args: [String: JSONValue?] = ["reason": .string(reason)]
        switch target {
        case .lot(let gtin, let lot):
            args["gtin"] = .string(gtin)
            args["lot"] = .string(lot)
        case .ring(let gtin, let serial):
            args["gtin"] = .string(gtin)
            args["serial"] = .string(serial)
        case .coupon(let gcn):
            args["gcn"] = .string(gcn)
        }
        return call("recall", args)
    }

    // MARK: boxes

    /// `pack_box` (farm, merchant, logistics): rings of one GTIN into box `sscc`.
    public static func packBox(sscc: String, gtin: String, serials: [String]) -> ContractCall {
        call("pack_box", ["sscc": .string(sscc), "gtin": .string(gtin), "serials": strings(serials)])
    }

    /// `unpack_box` (custodian).
    public static func unpackBox(sscc: String) -> ContractCall {
        call("unpack_box", ["sscc": .string(sscc)])
    }

    /// `ship` (custodian), optionally with a logistics member as carrier.
    public static func ship(sscc: String, to destination: Destination, carrier: String? = nil) -> ContractCall {
        call("ship", ["sscc": .string(sscc), "to": destination.jsonValue, "carrier": carrier.map { .string($0) }])
    }

    /// `hand_over` (the carrier of a box in transit to a member, before the member receives it).
    public static func handOver(sscc: String) -> ContractCall {
        call("hand_over", ["sscc": .string(sscc)])
    }

    /// `receive` (destination, or the deliverer of a consumer shipment).
    public static func receive(sscc: String) -> ContractCall {
        call("receive", ["sscc": .string(sscc)])
    }

    // MARK: coupons

    /// The `{"coupons": [...]}` part of `issue_coupons` arguments alone: what a code batch hands
    /// the merchant, who adds the season, size and count when issuing.
    public static func couponList(_ coupons: [Coupon]) -> JSONValue {
        .object(["coupons": .array(coupons.map(\.jsonValue))])
    }

    /// `issue_coupons` (merchant); `validUntil` in unix milliseconds (default: the season's validity).
    public static func issueCoupons(
        season: String, coupons: [Coupon], sizeLiang: LiangSize, crabsPerCoupon: Int64, validUntil: Int64? = nil
    ) -> ContractCall {
        var args: [String: JSONValue?] = (couponList(coupons).objectValue ?? [:]).mapValues { $0 }
        args["season"] = .string(season)
        args["sizeLiang"] = sizeLiang.jsonValue
        args["crabsPerCoupon"] = .int(crabsPerCoupon)
        args["validUntil"] = validUntil.map { .int($0) }
        return call("issue_coupons", args)
    }

    /// `sell_coupon` (issuing merchant).
    public static func sellCoupon(gcn: String, toHolderHash: String? = nil) -> ContractCall {
        call("sell_coupon", ["gcn": .string(gcn), "toHolderHash": toHolderHash.map { .string($0) }])
    }

    /// `transfer_coupon` (merchant; consumer or gateway with the coupon's `secretHash`).
    public static func transferCoupon(gcn: String, toHolderHash: String, secretHash: String? = nil) -> ContractCall {
        call(
            "transfer_coupon",
            ["gcn": .string(gcn), "toHolderHash": .string(toHolderHash), "secretHash": secretHash.map { .string($0) }])
    }

    /// `book_redemption` (consumer or gateway).
    public static func bookRedemption(gcn: String, secretHash: String, phoneHash: String, city: String) -> ContractCall {
        call(
            "book_redemption",
            ["gcn": .string(gcn), "secretHash": .string(secretHash), "phoneHash": .string(phoneHash), "city": .string(city)])
    }

    /// `redeem` (issuing merchant, holding box `sscc`).
    public static func redeem(gcn: String, sscc: String) -> ContractCall {
        call("redeem", ["gcn": .string(gcn), "sscc": .string(sscc)])
    }

    /// `refund_coupon` (issuing merchant).
    public static func refundCoupon(gcn: String, reason: String? = nil) -> ContractCall {
        call("refund_coupon", ["gcn": .string(gcn), "reason": reason.map { .string($0) }])
    }

    /// `expire_coupons` (issuing merchant or association).
    public static func expireCoupons(gcns: [String]) -> ContractCall {
        call("expire_coupons", ["gcns": strings(gcns)])
    }

    // MARK: consumers

    /// `scan` (consumer or gateway): `code` without its secret, and the secret's salted hash;
    /// `device` and `source` are the gateway's salted hashes of the consumer's device and address.
    public static func scan(
        code: String, secretHash: String, city: String, device: String? = nil, source: String? = nil, at: Int64? = nil
    ) -> ContractCall {
        call(
            "scan",
            [
                "code": .string(code), "secretHash": .string(secretHash), "city": .string(city),
                "device": device.map { .string($0) }, "source": source.map { .string($0) }, "at": at.map { .int($0) },
            ])
    }

    /// `complain` (consumer or gateway): `text` without personal data, the phone as a salted hash.
    public static func complain(code: String, phoneHash: String, text: String, city: String? = nil) -> ContractCall {
        call(
            "complain",
            ["code": .string(code), "phoneHash": .string(phoneHash), "text": .string(text), "city": city.map { .string($0) }])
    }

    /// `complain` with the text kept off chain: only its salted hash (the gateway's form).
    public static func complain(code: String, phoneHash: String, textHash: String, city: String? = nil) -> ContractCall {
        call(
            "complain",
            [
                "code": .string(code), "phoneHash": .string(phoneHash), "textHash": .string(textHash),
                "city": city.map { .string($0) },
            ])
    }

    // MARK: oversight

    /// `close_alert` (association or regulator).
    public static func closeAlert(seq: Int64, note: String) -> ContractCall {
        call("close_alert", ["seq": .int(seq), "note": .string(note)])
    }

    /// `close_alerts` (association or regulator): several alerts, one reason.
    public static func closeAlerts(seqs: [Int64], note: String) -> ContractCall {
        call("close_alerts", ["seqs": .array(seqs.map { .int($0) }), "note": .string(note)])
    }

    /// `set_scan_policy` (association): failed checks per source before `repeated_failures`.
    public static func setScanPolicy(maxFailuresPerSource: Int64, failureWindowHours: Int64) -> ContractCall {
        call(
            "set_scan_policy",
            ["maxFailuresPerSource": .int(maxFailuresPerSource), "failureWindowHours": .int(failureWindowHours)])
    }

    /// `sweep` (association, regulator or node): coupons to expire or check for late shipping.
    public static func sweep(gcns: [String]) -> ContractCall {
        call("sweep", ["gcns": strings(gcns)])
    }

    /// `declare_error` (the original signer's org in the same role, or the regulator).
    public static func declareError(
        txid: String, reason: ErrorReason, note: String? = nil, correction: [String: JSONValue]? = nil
    ) -> ContractCall {
        call(
            "declare_error",
            [
                "txid": .string(txid), "reason": .string(reason.rawValue), "note": note.map { .string($0) },
                "correction": correction.map { .object($0) },
            ])
    }
}
