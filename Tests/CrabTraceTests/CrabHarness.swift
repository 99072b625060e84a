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
    let executor = BlockExecutor(registry: ContractRegistry([CrabTraceContract()]))
    var state = MemoryState()
    var height: UInt64 = 0
    var time: Int64 = CrabHarness.seasonOpens + CrabHarness.day
    var stateHash = Hash256.zero
    private var identities: [String: SigningIdentity] = [:]
    var rng = SeededRNG(seed: 42)
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

    /// Executes one transaction as the next block and commits its writes.
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

    /// Runs a step that must succeed.
    @discardableResult
    func ok(_ role: Role, _ org: String, _ method: String, _ args: JSONValue, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> StoredTransaction
    {
        let (tx, _) = try run(role, org, method, args)
        #expect(tx.result.error == nil, "\(method): \(tx.result.error?.description ?? "")", sourceLocation: sourceLocation)
        return tx
    }

    /// Runs a step that must fail with `code`, write nothing and leave state unchanged.
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

    func member(_ org: String, _ role: String, extra: [String: JSONValue] = [:]) throws {
        var a: [String: JSONValue] = [
            "org": .string(org), "role": .string(role), "name": .string("\(org) Co."), "licence": .string("L-\(org)"),
        ]
        if role == "farm" {
            a["areaMu"] = .int(1)
            a["zone"] = .string("lake-east")
        }
        for (k, v) in extra { a[k] = v }
        try ok(.association, "assoc", "register_member", .object(a))
    }

    func openSeason(capPerMu: Int = 10, extra: [String: JSONValue] = [:]) throws {
        var a: [String: JSONValue] = [
            "season": .string("2026"), "opensAt": .int(Self.seasonOpens), "closesAt": .int(Self.seasonOpens + 90 * Self.day),
            "capPerMu": .int(capPerMu), "couponValidityDays": .int(60),
            "sizes": .array([.number("3.0"), .number("4.0"), .number("4.5"), .number("2.5")]),
            "maxScans": .int(5), "scanWindowHours": .int(24), "lateScanDays": .int(30), "shipWithinDays": .int(3),
        ]
        for (k, v) in extra { a[k] = v }
        try ok(.association, "assoc", "open_season", .object(a))
    }

    /// Registers farmA, farmB, merch (sales region Suzhou, Shanghai), merch2, lab, logi and opens season 2026.
    func setUpMembersAndSeason(capPerMu: Int = 10, seasonExtra: [String: JSONValue] = [:]) throws {
        try member("farmA", "farm", extra: ["gln": .string("9521234000006")])
        try member("farmB", "farm", extra: ["zone": .string("pond-west")])
        try member("merch", "merchant", extra: ["salesRegion": .array([.string("Suzhou"), .string("Shanghai")])])
        try member("merch2", "merchant")
        try member("lab", "lab")
        try member("logi", "logistics")
        try openSeason(capPerMu: capPerMu, extra: seasonExtra)
    }

    /// Generates ring codes `R<n>` for the range and commissions them.
    @discardableResult
    func commission(_ range: ClosedRange<Int>) throws -> [GeneratedCode] {
        let codes = try generator.rings(gtin: Self.gtin, serials: range, prefix: "R", width: 4, using: &rng)
        for c in codes { secrets[c.key.canonical] = c.secret }
        try ok(
            .association, "assoc", "commission_rings",
            .object([
                "gtin": .string(Self.gtin),
                "rings": .array(
                    codes.map { .object(["serial": .string(serial($0.key)), "secretHash": .string($0.secretHash)]) }),
            ]))
        return codes
    }

    func serial(_ key: GS1Key) -> String {
        if case .sgtin(_, let s) = key { return s }
        return ""
    }

    static func serials(_ range: ClosedRange<Int>) -> [String] {
        range.map { n in "R" + String(repeating: "0", count: max(0, 4 - String(n).count)) + String(n) }
    }

    func allocate(_ range: ClosedRange<Int>, to org: String = "farmA") throws {
        try ok(
            .association, "assoc", "allocate_rings",
            .object([
                "org": .string(org), "season": .string("2026"), "gtin": .string(Self.gtin),
                "serials": .array(Self.serials(range).map { .string($0) }),
            ]))
    }

    func tagArgs(_ range: ClosedRange<Int>, lot: String = "L1", weight: Int = 210, zone: String = "lake-east") -> JSONValue {
        .object([
            "season": .string("2026"), "gtin": .string(Self.gtin), "lot": .string(lot), "pond": .string("P7"),
            "zone": .string(zone), "harvestedAt": .int(time),
            "rings": .array(
                Self.serials(range).map {
                    .object(["serial": .string($0), "sex": .string("male"), "weightG": .int(Int64(weight))])
                }),
        ])
    }

    func lotArgs(_ lot: String = "L1", _ extra: [String: JSONValue] = [:]) -> JSONValue {
        var a: [String: JSONValue] = ["gtin": .string(Self.gtin), "lot": .string(lot)]
        for (k, v) in extra { a[k] = v }
        return .object(a)
    }

    func inspect(_ lot: String = "L1", result: String = "pass") throws {
        try ok(
            .lab, "lab", "inspect_lot",
            lotArgs(
                lot,
                [
                    "result": .string(result), "reportHash": .string(Fixtures.randomHash()),
                    "residues": .object(["enrofloxacin": .string("ND")]),
                ]))
    }

    func pack(_ sscc: String, _ range: ClosedRange<Int>, role: Role = .farm, org: String = "farmA") throws {
        try ok(
            role, org, "pack_box",
            .object([
                "sscc": .string(sscc), "gtin": .string(Self.gtin), "serials": .array(Self.serials(range).map { .string($0) }),
            ]))
    }

    /// Generates coupon codes and issues them for merch.
    @discardableResult
    func issue(_ serials: ClosedRange<Int>, org: String = "merch", size: String = "3.0", perCoupon: Int = 4) throws
        -> [GeneratedCode]
    {
        let codes = try issueArgs(serials, size: size, perCoupon: perCoupon)
        try ok(.merchant, org, "issue_coupons", codes.1)
        return codes.0
    }

    func issueArgs(_ serials: ClosedRange<Int>, size: String = "3.0", perCoupon: Int = 4) throws -> ([GeneratedCode], JSONValue) {
        let codes = try generator.coupons(base12: "952123400001", serials: serials, using: &rng)
        for c in codes { secrets[c.key.canonical] = c.secret }
        return (
            codes,
            .object([
                "season": .string("2026"), "sizeLiang": .number(size), "crabsPerCoupon": .int(Int64(perCoupon)),
                "coupons": .array(codes.map { .object(["gcn": .string(gcn($0.key)), "secretHash": .string($0.secretHash)]) }),
            ])
        )
    }

    func gcn(_ key: GS1Key) -> String {
        if case .gcn(let g) = key { return g }
        return ""
    }

    func ringKey(_ n: Int) -> GS1Key { .sgtin(gtin: Self.gtin, serial: Self.serials(n...n)[0]) }

    /// The printed URI (with secret) of an object generated in this harness.
    func printed(_ key: GS1Key) -> String {
        DigitalLink.uri(key, resolver: "id.xiangchain.example", secret: secrets[key.canonical])
    }

    func secretHash(_ key: GS1Key) -> String { CodeSecret.hash(key: key, secret: secrets[key.canonical] ?? "WRONG000") }

    func scanArgs(_ key: GS1Key, city: String, hash: String? = nil) -> JSONValue {
        .object(["code": .string(key.canonical), "secretHash": .string(hash ?? secretHash(key)), "city": .string(city)])
    }

    func record(_ key: GS1Key) throws -> [String: JSONValue] {
        try #require(try queries.object(key)?.objectValue)
    }

    /// Everything up to a redeemable state: rings 1–8 tagged in lot L1 by farmA, inspected, packed
    /// into box A (4 rings) and box B (4 rings), shipped to merch via logi and received; merch has
    /// 100 crabs granted and coupons 1–3 of 4 crabs of 3.0 liang.
    func setUpRedeemable() throws -> [GeneratedCode] {
        try setUpMembersAndSeason()
        try commission(1...8)
        try allocate(1...8)
        try ok(.farm, "farmA", "tag_harvest", tagArgs(1...8))
        try inspect()
        try pack(Self.ssccA, 1...4)
        try pack(Self.ssccB, 5...8)
        for sscc in [Self.ssccA, Self.ssccB] {
            try ok(.farm, "farmA", "ship", .object(["sscc": .string(sscc), "to": .string("merch"), "carrier": .string("logi")]))
            try ok(.merchant, "merch", "receive", .object(["sscc": .string(sscc)]))
        }
        try ok(
            .association, "assoc", "grant_quota",
            .object(["season": .string("2026"), "org": .string("merch"), "crabs": .int(100)]))
        return try issue(1...3)
    }

    static let ssccA = "106141411234567897"
    static var ssccB: String { GS1Key.appendingCheckDigit("10614141123456790")! }
    static var ssccC: String { GS1Key.appendingCheckDigit("10614141123456791")! }
}

/// A deterministic random generator (SplitMix64) for tests.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
