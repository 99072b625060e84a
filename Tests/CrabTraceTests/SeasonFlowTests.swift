import ChainCore
import ChainTesting
import CrabTraceContract
import Execution
import Identity
import Storage
import Testing

@Suite struct SeasonFlowTests {
    @Test func fullSeasonEndsInATraceThatNamesEveryAccountableSigner() throws {
        let h = try CrabHarness()
        let coupons = try h.setUpRedeemable()
        let coupon = coupons[0].key
        let gcn = try #require(coupon.gcnValue)
        try h.ok(.merchant, "merch", CrabCall.sellCoupon(gcn: gcn, toHolderHash: Fixtures.randomHash()))
        try h.ok(
            .node, "gw",
            CrabCall.bookRedemption(
                gcn: gcn, secretHash: h.secretHash(coupon), phoneHash: Fixtures.randomHash(), city: "Shanghai"))
        try h.ok(.merchant, "merch", CrabCall.redeem(gcn: gcn, sscc: CrabHarness.ssccA))
        try h.ok(.merchant, "merch", CrabCall.ship(sscc: CrabHarness.ssccA, to: .consumer, carrier: "logi"))
        try h.ok(.logistics, "logi", CrabCall.receive(sscc: CrabHarness.ssccA))
        try h.ok(.consumer, "gw", h.scanCall(h.ringKey(1), city: "Shanghai"))

        // Stock moved from promised to delivered.
        let stock = try #require(try h.queries.stock(season: "2026", org: "merch")?.objectValue)
        #expect(stock["granted"]?.int64Value == 100 && stock["promised"]?.int64Value == 8 && stock["delivered"]?.int64Value == 4)

        // The ring verifies as genuine with the buyer's facts.
        let v = try h.queries.verify(code: h.printed(h.ringKey(1)))
        #expect(v.status == .genuine, "\(v.reasons)")
        #expect(v.details["farm"]?["org"]?.stringValue == "farmA")
        #expect(v.details["zone"]?.stringValue == "lake-east" && v.details["pond"]?.stringValue == "P7")
        #expect(v.details["inspection"]?["result"]?.stringValue == "pass")
        #expect(v.details["merchant"]?["org"]?.stringValue == "merch")
        #expect(v.details["scans"]?.int64Value == 1 && v.details["season"]?.stringValue == "2026")
        #expect(v.json["status"]?.stringValue == "genuine")
        // The coupon verifies as redeemed.
        #expect(try h.queries.verify(code: h.printed(coupon)).status == .redeemed)

        // Ring and coupon traces both name farm, lab, merchant and logistics signers.
        for code in [h.printed(h.ringKey(1)), h.printed(coupon)] {
            let t = try h.queries.trace(code: code)
            let parties = Dictionary(grouping: t.accountable, by: \.party)
            #expect(parties["farm"]?.first?.signer.org == "farmA")
            #expect(parties["farm"]?.first?.signer.subject == "farm-farmA")
            #expect(parties["lab"]?.first?.signer.org == "lab")
            #expect(parties["merchant"]?.contains { $0.step == "issue_coupons" && $0.signer.org == "merch" } == true)
            #expect(parties["merchant"]?.contains { $0.step == "redeem" } == true)
            #expect(parties["logistics"]?.contains { $0.signer.org == "logi" } == true)
            #expect(parties["consumer"]?.contains { $0.step == "book_redemption" } == true)
            let steps = Set(t.entries.map(\.step))
            for s in [
                "commission_rings", "allocate_rings", "tag_harvest", "inspect_lot", "pack_box", "ship", "receive",
                "issue_coupons", "sell_coupon", "book_redemption", "redeem", "scan",
            ] {
                #expect(steps.contains(s), "missing \(s)")
            }
            #expect(t.entries.allSatisfy { !$0.txid.isEmpty && $0.height > 0 && !$0.signer.certificateFingerprint.isEmpty })
            #expect(zip(t.entries, t.entries.dropFirst()).allSatisfy { $0.height <= $1.height })
            #expect(t.json["accountable"]?.arrayValue?.isEmpty == false)
        }
    }

    @Test func everyMethodChecksItsRoleAndAdmissionAgrees() throws {
        let h = try CrabHarness()
        let contract = CrabTraceContract()
        for (method, roles) in CrabTraceContract.methodRoles {
            #expect(contract.allowedRoles(method: method) == roles)
            let wrong = try #require(Role.allCases.first { !roles.contains($0) })
            try h.refused("role_not_allowed", wrong, "reg", method, .object([:]))
        }
        #expect(contract.allowedRoles(method: "nosuch") == nil)
        try h.refused("unknown_method", .association, "assoc", "nosuch", .object([:]))
        // Admission through the verifier refuses a wrong role before execution.
        let verifier = TransactionVerifier(
            chainId: "test-chain", memberships: try h.consortium.memberships(), registry: ContractRegistry([contract]))
        let t = try h.identity(.farm, "farmA").transaction(
            chain: "test-chain", contract: "crab", method: "open_season", args: .object([:]))
        #expect(errorCode { try verifier.verify(t, nowMillis: Fixtures.now) } == "role_not_allowed")
    }

    @Test func memberStepsNeedAnActiveMemberOfTheSameRole() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason()
        try h.commission(1...2)
        try h.allocate(1...2)
        // An org with no registration, and a registered org whose registered role differs.
        try h.refused("not_a_member", .farm, "merch2", h.tagCall(1...1))
        try h.refused("not_a_member", .farm, "reg", h.tagCall(1...1))
        try h.ok(.regulator, "reg", CrabCall.suspendMember(org: "farmA", reason: "fraud"))
        try h.refused("member_suspended", .farm, "farmA", h.tagCall(1...1))
        try h.ok(.regulator, "reg", CrabCall.reinstateMember(org: "farmA"))
        try h.ok(.farm, "farmA", h.tagCall(1...1))
        #expect(try h.queries.member("farmA")?["suspended"]?.boolValue == false)
    }

    @Test func errorDeclarationsAppendAndNeverEdit() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason()
        try h.commission(1...2)
        try h.allocate(1...2)
        let tag = try h.ok(.farm, "farmA", h.tagCall(1...2))
        let txid = tag.result.txid.hex
        try h.refused("not_signer", .farm, "farmB", CrabCall.declareError(txid: txid, reason: .incorrectData))
        try h.refused(
            "unknown_tx", .farm, "farmA", CrabCall.declareError(txid: Fixtures.randomHash(), reason: .incorrectData))
        try h.ok(
            .farm, "farmA",
            CrabCall.declareError(
                txid: txid, reason: .incorrectData, note: "pond was P8", correction: ["pond": .string("P8")]))
        try h.refused("already_declared", .regulator, "reg", CrabCall.declareError(txid: txid, reason: .didNotOccur))
        let hist = try h.queries.history(h.ringKey(1).canonical)
        #expect(hist.map(\.step) == ["commission_rings", "allocate_rings", "tag_harvest", "declare_error"])
        #expect(hist[2].data["pond"]?.stringValue == "P7")  // the original stays
        #expect(hist[3].data["correction"]?["pond"]?.stringValue == "P8")
        let trace = try h.queries.trace(code: h.ringKey(1).canonical)
        #expect(trace.entries.contains { $0.step == "declare_error" && $0.data["declaredTxid"]?.stringValue == txid })
    }

    @Test func hostileArgumentsFailWithBadArgsOrBadCodeAndNeverCrash() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason()
        let long = String(repeating: "x", count: 5000)
        let cases: [(Role, String, String, JSONValue)] = [
            (.association, "assoc", "register_member", .object(["org": .array([])])),
            (.association, "assoc", "register_member", .object(["org": .string("a/b"), "role": .string("farm")])),
            (
                .association, "assoc", "register_member",
                .object(["org": .string("x"), "role": .string("regulator"), "name": .string("n"), "licence": .string("l")])
            ),
            (
                .association, "assoc", "register_member",
                .object(["org": .string("x"), "role": .string("farm"), "name": .string("n"), "licence": .string("l")])
            ),
            (.association, "assoc", "open_season", .object(["season": .string(long)])),
            (.association, "assoc", "commission_rings", .object(["gtin": .string(CrabHarness.gtin), "rings": .array([])])),
            (
                .association, "assoc", "commission_rings",
                .object(["gtin": .string(CrabHarness.gtin), "rings": .array(Array(repeating: .object([:]), count: 501))])
            ),
            (
                .association, "assoc", "commission_rings",
                .object([
                    "gtin": .string(CrabHarness.gtin),
                    "rings": .array([.object(["serial": .string("A"), "secretHash": .string("zz")])]),
                ])
            ),
            (.association, "assoc", "commission_rings", .object(["gtin": .number("1e400"), "rings": .array([])])),
            (
                .farm, "farmA", "tag_harvest",
                .object([
                    "season": .string("2026"), "gtin": .string(CrabHarness.gtin), "lot": .string("L1"), "pond": .string("p"),
                    "zone": .string("lake-east"), "harvestedAt": .number("-1"), "rings": .array([]),
                ])
            ),
            (
                .merchant, "merch", "issue_coupons",
                .object([
                    "season": .string("2026"), "sizeLiang": .number("3.25"), "crabsPerCoupon": .int(1), "coupons": .array([]),
                ])
            ),
            (
                .node, "gw", "scan",
                .object(["code": .string(long), "secretHash": .string(Fixtures.randomHash()), "city": .string("x")])
            ),
            (
                .node, "gw", "scan",
                .object([
                    "code": .string("https://x/01/09521234543213/21/A?s=K7Q2M9XZ"), "secretHash": .string(Fixtures.randomHash()),
                    "city": .string("x"),
                ])
            ),
            (
                .node, "gw", "complain",
                .object(["code": .string("(01)09521234543213(21)A"), "phoneHash": .string("555-1234"), "text": .string("t")])
            ),
            (.regulator, "reg", "recall", .object(["reason": .string("r"), "gcn": .string("1"), "lot": .string("L1")])),
            (.regulator, "reg", "sweep", .object(["gcns": .array([.int(5)])])),
        ]
        for (role, org, method, args) in cases {
            let before = h.state.values
            let (tx, writes) = try h.run(role, org, method, args)
            let code = tx.result.error?.code.rawValue ?? "(none)"
            #expect(["bad_args", "bad_code"].contains(code), "\(method) \(args.canonicalString.prefix(120)): \(code)")
            #expect(writes.isEmpty && h.state.values == before)
        }
    }
}
