import ChainCore
import ChainTesting
import CrabTraceContract
import Execution
import Foundation
import Identity
import Storage
import Testing

/// A pure chain for crab tests: one consortium with an org per party, committed state in memory,
/// one transaction per block, and a block clock the test moves.
final class CrabHarness {
    static let orgs = ["assoc", "farmA", "farmB", "merch", "merch2", "lab", "logi", "reg", "gw"]
    static let gtin = "09521234543213"
    static let day: Int64 = 86_400_000
    /// 2026-09-20T00:00:00Z.
    static let seasonOpens: Int64 = 1_789_862_400_000

    let consortium: TestConsortium
    let executor = BlockExecutor(registry: ContractRegistry([CrabTraceContract()]), hasher: .sha256)
    var state = MemoryState()
    var height: UInt64 = 0
    var time: Int64 = CrabHarness.seasonOpens + CrabHarness.day
    var stateHash = Hash256.zero
    private var identities: [String: SigningIdentity] = [:]
    var rng = SeededGenerator(seed: 42)
    let generator = CodeGenerator(resolver: "id.xiangchain.example")
    /// Secrets of generated codes, by canonical key.
    var secrets: [String: String] = [:]

    init() throws { consortium = try TestConsortium(orgs: Self.orgs) }

    var queries: CrabQueries { CrabQueries(state: state) }

    func identity(_ role: Role, _ org: String) throws -> SigningIdentity {
        let k = "\(role.rawValue)@\(org)"
        if let id = identities[k] { return id }
        let id = try consortium.identity(role, org: org, name: "\(role.rawValue)-\(org)")
        identities[k] = id
        return id
    }

    func verified(_ role: Role, _ org: String, _ method: String, _ args: JSONValue) throws -> VerifiedTransaction {
        let t = try identity(role, org).transaction(chain: "test-chain", contract: "crab", method: method, args: args)
        let (signer, _) = try consortium.membership().verify(certificateDER: t.signerCertificate, at: Date())
        return VerifiedTransaction(transaction: t, body: try TransactionBody.parse(t.body), signer: signer)
    }

    /// Executes one transaction with raw arguments as the next block and commits its writes.
    @discardableResult
    func run(_ role: Role, _ org: String, _ method: String, _ args: JSONValue) throws -> (StoredTransaction, [StateWrite]) {
        height += 1
        time += 1000
        let out = try executor.execute(
            [try verified(role, org, method, args)], height: height, time: time, state: state, previousStateHash: stateHash)
        state.apply(out.writes)
        stateHash = out.stateHash
        return (out.transactions[0], out.writes)
    }

    /// Executes one call as the next block and commits its writes.
    @discardableResult
    func run(_ role: Role, _ org: String, _ call: ContractCall) throws -> (StoredTransaction, [StateWrite]) {
        try run(role, org, call.method, call.args)
    }

    /// Runs a step that must succeed.
    @discardableResult
    func ok(_ role: Role, _ org: String, _ call: ContractCall, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> StoredTransaction
    {
        let (tx, _) = try run(role, org, call)
        #expect(tx.result.error == nil, "\(call.method): \(tx.result.error?.description ?? "")", sourceLocation: sourceLocation)
        return tx
    }

    /// Runs a step that must fail with `code`, write nothing and leave state unchanged.
    func refused(
        _ code: String, _ role: Role, _ org: String, _ call: ContractCall, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try refused(code, role, org, call.method, call.args, sourceLocation: sourceLocation)
    }

    /// Runs a step with raw (e.g. deliberately malformed) arguments that must fail with `code`,
    /// write nothing and leave state unchanged.
    func refused(
        _ code: String, _ role: Role, _ org: String, _ method: String, _ args: JSONValue,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let before = state.values
        let (tx, writes) = try run(role, org, method, args)
        #expect(
            tx.result.error?.code.rawValue == code, "\(method): \(tx.result.error?.description ?? "succeeded")",
            sourceLocation: sourceLocation)
        #expect(writes.isEmpty, sourceLocation: sourceLocation)
        #expect(tx.result.events.isEmpty, sourceLocation: sourceLocation)
        #expect(state.values == before, sourceLocation: sourceLocation)
    }

    // MARK: fixtures

    /// Registers `org` as a member; a farm gets 1 mu in zone "lake-east" unless `zone` says otherwise.
    func member(
        _ org: String, _ role: CrabCall.MemberRole, zone: String? = nil, salesRegion: [String]? = nil, gln: String? = nil
    ) throws {
        try ok(
            .association, "assoc",
            CrabCall.registerMember(
                org: org, role: role, name: "\(org) Co.", licence: "L-\(org)", areaMu: role == .farm ? 1 : nil,
                zone: role == .farm ? zone ?? "lake-east" : zone, salesRegion: salesRegion, gln: gln))
    }

    func openSeason(capPerMu: Int64 = 10, breakerPercent: Int64? = nil) throws {
        try ok(
            .association, "assoc",
            CrabCall.openSeason(
                season: "2026", opensAt: Self.seasonOpens, closesAt: Self.seasonOpens + 90 * Self.day, capPerMu: capPerMu,
                couponValidityDays: 60, sizes: [30, 40, 45, 25].map { LiangSize(tenths: $0) }, maxScans: 5,
                scanWindowHours: 24, lateScanDays: 30, shipWithinDays: 3, breakerPercent: breakerPercent))
    }

    /// Registers farmA, farmB, merch (sales region Suzhou, Shanghai), merch2, lab, logi and opens season 2026.
    func setUpMembersAndSeason(capPerMu: Int64 = 10, breakerPercent: Int64? = nil) throws {
        try member("farmA", .farm, gln: "9521234000006")
        try member("farmB", .farm, zone: "pond-west")
        try member("merch", .merchant, salesRegion: ["Suzhou", "Shanghai"])
        try member("merch2", .merchant)
        try member("lab", .lab)
        try member("logi", .logistics)
        try openSeason(capPerMu: capPerMu, breakerPercent: breakerPercent)
    }

    /// Generates ring codes `R<n>` for the range and commissions them.
    @discardableResult
    func commission(_ range: ClosedRange<Int>) throws -> [GeneratedCode] {
        let codes = try generator.rings(gtin: Self.gtin, serials: range, prefix: "R", width: 4, using: &rng)
        for c in codes { secrets[c.key.canonical] = c.secret }
        try ok(.association, "assoc", CrabCall.commissionRings(gtin: Self.gtin, rings: codes.map(CrabCall.Ring.init)))
        return codes
    }

    static func serials(_ range: ClosedRange<Int>) -> [String] {
        range.map { n in "R" + String(repeating: "0", count: max(0, 4 - String(n).count)) + String(n) }
    }

    func allocate(_ range: ClosedRange<Int>, to org: String = "farmA") throws {
        try ok(
            .association, "assoc",
            CrabCall.allocateRings(org: org, season: "2026", gtin: Self.gtin, serials: Self.serials(range)))
    }

    /// Rings `R<n>` of the range on male crabs of `weight` grams.
    func taggedRings(_ range: ClosedRange<Int>, weight: Int64 = 210) -> [CrabCall.TaggedRing] {
        Self.serials(range).map { CrabCall.TaggedRing(serial: $0, sex: .male, weightG: weight) }
    }

    /// `tag_harvest` of the range into `lot` from pond P7, harvested now.
    func tagCall(
        _ range: ClosedRange<Int>, lot: String = "L1", weight: Int64 = 210, zone: String = "lake-east",
        season: String = "2026"
    ) -> ContractCall {
        tagCall(rings: taggedRings(range, weight: weight), lot: lot, zone: zone, season: season)
    }

    /// `tag_harvest` of `rings` into `lot` from pond P7, harvested now.
    func tagCall(
        rings: [CrabCall.TaggedRing], lot: String = "L1", zone: String = "lake-east", season: String = "2026"
    ) -> ContractCall {
        CrabCall.tagHarvest(
            season: season, gtin: Self.gtin, lot: lot, pond: "P7", zone: zone, harvestedAt: time, rings: rings)
    }

    func inspect(_ lot: String = "L1", result: CrabCall.InspectionResult = .pass) throws {
        try ok(
            .lab, "lab",
            CrabCall.inspectLot(
                gtin: Self.gtin, lot: lot, result: result, residues: ["enrofloxacin": .string("ND")],
                reportHash: Fixtures.randomHash()))
    }

    func pack(_ sscc: String, _ range: ClosedRange<Int>, role: Role = .farm, org: String = "farmA") throws {
        try ok(role, org, CrabCall.packBox(sscc: sscc, gtin: Self.gtin, serials: Self.serials(range)))
    }

    /// Generates coupon codes and issues them for merch.
    @discardableResult
    func issue(
        _ serials: ClosedRange<Int>, org: String = "merch", size: LiangSize = LiangSize(tenths: 30), perCoupon: Int64 = 4
    ) throws -> [GeneratedCode] {
        let codes = try issueCall(serials, size: size, perCoupon: perCoupon)
        try ok(.merchant, org, codes.1)
        return codes.0
    }

    func issueCall(_ serials: ClosedRange<Int>, size: LiangSize = LiangSize(tenths: 30), perCoupon: Int64 = 4) throws
        -> ([GeneratedCode], ContractCall)
    {
        let codes = try generator.coupons(base12: "952123400001", serials: serials, using: &rng)
        for c in codes { secrets[c.key.canonical] = c.secret }
        return (
            codes,
            CrabCall.issueCoupons(
                season: "2026", coupons: codes.map(CrabCall.Coupon.init), sizeLiang: size, crabsPerCoupon: perCoupon)
        )
    }

    /// The holder of coupon `key` books its redemption through the gateway (with the coupon's secret).
    func book(_ key: GS1Key, city: String = "Suzhou") throws {
        try ok(
            .node, "gw",
            CrabCall.bookRedemption(
                gcn: key.gcnValue ?? "", secretHash: secretHash(key), phoneHash: Fixtures.randomHash(), city: city))
    }

    /// Books coupon `gcn` (of this harness) and redeems it against `sscc` as merch.
    func bookAndRedeem(_ gcn: String, _ sscc: String) throws {
        try book(.gcn(gcn))
        try ok(.merchant, "merch", CrabCall.redeem(gcn: gcn, sscc: sscc))
    }

    func ringKey(_ n: Int) -> GS1Key { .sgtin(gtin: Self.gtin, serial: Self.serials(n...n)[0]) }

    /// The printed URI (with secret) of an object generated in this harness.
    func printed(_ key: GS1Key) -> String {
        DigitalLink.uri(key, resolver: "id.xiangchain.example", secret: secrets[key.canonical])
    }

    func secretHash(_ key: GS1Key) -> String { CodeSecret.hash(key: key, secret: secrets[key.canonical] ?? "WRONG000") }

    /// A consumer's check of `key` in `city`; `device` names the consumer's device (default: the signer's).
    func scanCall(_ key: GS1Key, city: String, hash: String? = nil, device: Int? = nil, source: Int? = nil)
        -> ContractCall
    {
        CrabCall.scan(
            code: key.canonical, secretHash: hash ?? secretHash(key), city: city, device: device.map(Self.device),
            source: source.map(Self.device))
    }

    /// A device (or source) hash as the gateway makes it: 64 hex characters.
    static func device(_ n: Int) -> String { Hash256.sha256(Array("device-\(n)".utf8)).hex }

    func record(_ key: GS1Key) throws -> [String: JSONValue] {
        try #require(try queries.object(key)?.objectValue)
    }

    private var ssccCount = 0

    /// A fresh SSCC (never one of `ssccA`, `ssccB`, `ssccC`).
    func nextSSCC() -> String {
        ssccCount += 1
        let n = String(ssccCount)
        return GS1Key.appendingCheckDigit("1061414199" + String(repeating: "0", count: max(0, 7 - n.count)) + n) ?? ""
    }

    /// Packs the tagged rings of `range` at farmA into one box (`sscc`, or a fresh one), ships it via
    /// logi to `org`, logi hands it over and `org` receives it; returns the box.
    @discardableResult
    func deliver(_ range: ClosedRange<Int>, to org: String = "merch", sscc: String? = nil) throws -> String {
        let box = sscc ?? nextSSCC()
        try pack(box, range)
        try ok(.farm, "farmA", CrabCall.ship(sscc: box, to: .member(org), carrier: "logi"))
        try ok(.logistics, "logi", CrabCall.handOver(sscc: box))
        try ok(.merchant, org, CrabCall.receive(sscc: box))
        return box
    }

    /// Rings `range` commissioned, allocated to farmA, tagged into `lot` and inspected (pass).
    func harvest(_ range: ClosedRange<Int>, lot: String = "L1", weight: Int64 = 210) throws {
        try commission(range)
        try allocate(range)
        try ok(.farm, "farmA", tagCall(range, lot: lot, weight: weight))
        try inspect(lot)
    }

    /// Everything up to a redeemable state: rings 1–12 tagged in lot L1 by farmA, inspected, packed
    /// into box A (rings 1–4), box B (5–8) and box C (9–12), shipped to merch via logi and received;
    /// merch has 100 crabs granted and coupons 1–3 of 4 crabs of 3.0 liang (the 12 crabs it holds).
    func setUpRedeemable() throws -> [GeneratedCode] {
        try setUpMembersAndSeason(capPerMu: 20)
        try harvest(1...12)
        try deliver(1...4, sscc: Self.ssccA)
        try deliver(5...8, sscc: Self.ssccB)
        try deliver(9...12, sscc: Self.ssccC)
        try ok(.association, "assoc", CrabCall.grantQuota(season: "2026", org: "merch", crabs: 100))
        return try issue(1...3)
    }

    static let ssccA = "106141411234567897"
    static var ssccB: String { GS1Key.appendingCheckDigit("10614141123456790")! }
    static var ssccC: String { GS1Key.appendingCheckDigit("10614141123456791")! }
}
