import ChainCore
import CrabTraceContract
import Identity
import Testing

/// The queries behind the console's role pages (issue 12 item 10): the members every page names
/// orgs by, and the merchant's stock view.
@Suite struct ConsoleQueryTests {
    /// The stock view says per size what the shop holds, what its coupons promise and how many
    /// crabs coupons of that size may still promise — exactly what `issue_coupons` then accepts.
    @Test func theStockViewSaysWhatCouponsOfEachSizeMayStillPromise() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason(capPerMu: 40)
        #expect(try h.queries.stockView(season: "2027", org: "merch") == nil)
        let empty = try #require(try h.queries.stockView(season: "2026", org: "merch"))
        #expect(empty["stock"] == .null && empty["quotaLeft"]?.int64Value == 0)
        #expect(empty["sizes"]?.arrayValue?.compactMap { $0["free"]?.int64Value } == [0, 0, 0, 0])
        try h.ok(.association, "assoc", CrabCall.grantQuota(season: "2026", org: "merch", crabs: 1000))
        // 4 crabs of 210 g (up to 4.0 liang) and 4 of 150 g (up to 3.0 liang); one coupon of 4 × 4.0 liang.
        try h.harvest(1...4, lot: "L1", weight: 210)
        try h.harvest(5...8, lot: "L2", weight: 150)
        try h.deliver(1...4)
        try h.deliver(5...8)
        _ = try h.issue(1...1, size: LiangSize(tenths: 40), perCoupon: 4)
        let view = try #require(try h.queries.stockView(season: "2026", org: "merch"))
        let rows = try #require(view["sizes"]?.arrayValue)
        #expect(rows.map { $0["size"] } == [.number("2.5"), .number("3.0"), .number("4.0"), .number("4.5")])
        #expect(rows.compactMap { $0["onHand"]?.int64Value } == [8, 8, 4, 0])
        #expect(rows.compactMap { $0["promised"]?.int64Value } == [0, 0, 4, 0])
        #expect(rows.compactMap { $0["free"]?.int64Value } == [4, 4, 0, 0])
        #expect(view["quotaLeft"]?.int64Value == 996)
        // The view's free counts are what the contract accepts: 4 more at 3.0, none at 4.0.
        try h.refused(
            "insufficient_stock", .merchant, "merch", try h.issueCall(2...2, size: LiangSize(tenths: 40), perCoupon: 1).1)
        try h.refused(
            "insufficient_stock", .merchant, "merch", try h.issueCall(3...3, size: LiangSize(tenths: 30), perCoupon: 5).1)
        _ = try h.issue(4...4, size: LiangSize(tenths: 30), perCoupon: 4)
        let after = try #require(try h.queries.stockView(season: "2026", org: "merch"))
        #expect(after["sizes"]?.arrayValue?.compactMap { $0["free"]?.int64Value } == [0, 0, 0, 0])
    }

    @Test func membersAreListedInOrgOrder() throws {
        let h = try CrabHarness()
        #expect(try h.queries.members().isEmpty)
        try h.setUpMembersAndSeason()
        let members = try h.queries.members()
        #expect(members.compactMap { $0["org"]?.stringValue } == ["farmA", "farmB", "lab", "logi", "merch", "merch2"])
        #expect(members.first { $0["org"]?.stringValue == "logi" }?["role"]?.stringValue == "logistics")
        #expect(try h.queries.members(limit: 2).count == 2)
    }
}
