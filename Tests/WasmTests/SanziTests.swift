import ChainCore
import ChainTesting
import Execution
import Testing

/// Every rule and alert of the 三资 contract, through JSON calls as transactions make them.
@Suite struct SanziTests {
    static let m = SanziFixture.meeting
    static let n = SanziFixture.notice

    // MARK: Villages and rules

    @Test func onlyTheRegulatorRegistersVillagesAndSetsRules() throws {
        let f = try SanziFixture()
        try f.refused("registerVillage", #"{"village":"x","name":"X","township":"t"}"#, as: f.township, code: "role_not_allowed")
        try f.refused(
            "registerVillage", #"{"village":"lianhua","name":"X","township":"t"}"#, as: f.regulator, code: "already_exists")
        try f.refused("setRules", #"{"approvalThresholdFen":1}"#, as: f.lianhua, code: "role_not_allowed")
        let rules = try f.ok("setRules", #"{"approvalThresholdFen":2000000,"maxTermMonths":{"pond":120}}"#, as: f.regulator)
        #expect(rules.int("approvalThresholdFen") == 2_000_000)
        #expect(rules["maxTermMonths"]?.int("pond") == 120)
        #expect(rules["maxTermMonths"]?.int("land") == 360)
        try f.refused("setRules", #"{"maxTermMonths":{"moon":12}}"#, as: f.regulator, code: "bad_args")
    }

    @Test func aVillageActsOnlyForItsOwnOrg() throws {
        let f = try SanziFixture()
        let stranger = WasmSigner.test(org: "unknown-village", role: "village")
        try f.refused("registerItem", #"{"id":"b1","category":"building","name":"仓库"}"#, as: stranger, code: "unknown_village")
        try f.refused("registerItem", #"{"id":"b1","category":"building","name":"仓库"}"#, as: f.farmer, code: "role_not_allowed")
        try f.ok("registerItem", #"{"id":"b1","category":"building","name":"仓库","valueFen":30000000}"#, as: f.lianhua)
        // The same id in another village is another item.
        try f.ok("registerItem", #"{"id":"b1","category":"building","name":"仓库"}"#, as: f.qingdun)
        try f.refused("registerItem", #"{"id":"b1","category":"building","name":"仓库"}"#, as: f.lianhua, code: "already_exists")
        try f.refused("registerItem", #"{"id":"p1","category":"pond","name":"塘"}"#, as: f.lianhua, code: "bad_args")
        try f.refused("registerItem", #"{"id":"a/b","category":"building","name":"x"}"#, as: f.lianhua, code: "bad_args")
        let item = try f.query("get", #"{"village":"lianhua","kind":"item","id":"b1"}"#, as: f.farmer)
        #expect(item.string("kind") == "asset" && item.int("valueFen") == 30_000_000)
    }

    // MARK: Spending

    @Test func spendingBelowTheThresholdIsApprovedAtOnce() throws {
        let f = try SanziFixture()
        let s = try f.ok("requestSpending", #"{"id":"s1","amountFen":300000,"payee":"电工张某","purpose":"路灯维修"}"#, as: f.lianhua)
        #expect(s.string("status") == "approved" && s.int("approvedFen") == 300_000)
        try f.ok("pay", #"{"id":"p1","spending":"s1","amountFen":200000}"#, as: f.lianhua)
        try f.refused("pay", #"{"id":"p2","spending":"s1","amountFen":100001}"#, as: f.lianhua, code: "exceeds_approval")
        try f.ok("pay", #"{"id":"p2","spending":"s1","amountFen":100000}"#, as: f.lianhua)
        try f.refused("pay", #"{"id":"p2","spending":"s1","amountFen":1}"#, as: f.lianhua, code: "already_exists")
    }

    @Test func spendingAboveTheThresholdNeedsTheDecisionAndTheTownshipsReview() throws {
        let f = try SanziFixture()
        // 四议两公开: no decision record, no request.
        try f.refused(
            "requestSpending", #"{"id":"s1","amountFen":8000000,"payee":"某建设公司","purpose":"村道硬化"}"#, as: f.lianhua,
            code: "decision_required")
        try f.refused(
            "requestSpending", #"{"id":"s1","amountFen":8000000,"payee":"某建设公司","purpose":"村道硬化","meetingHash":"\#(Self.m)"}"#,
            as: f.lianhua, code: "decision_required")
        try f.refused(
            "requestSpending",
            #"{"id":"s1","amountFen":8000000,"payee":"p","purpose":"p","meetingHash":"XYZ","noticeHash":"\#(Self.n)"}"#,
            as: f.lianhua, code: "bad_args")
        let s = try f.ok(
            "requestSpending",
            #"{"id":"s1","amountFen":8000000,"payee":"某建设公司","purpose":"村道硬化","meetingHash":"\#(Self.m)","noticeHash":"\#(Self.n)"}"#,
            as: f.lianhua)
        #expect(s.string("status") == "pending")
        // No payment before the review.
        try f.refused("pay", #"{"id":"p1","spending":"s1","amountFen":1000}"#, as: f.lianhua, code: "not_approved")
        // Only the village's own township reviews, and only as a reviewer.
        try f.refused(
            "reviewSpending", #"{"village":"lianhua","id":"s1","approve":true}"#, as: f.otherTownship, code: "not_reviewer")
        try f.refused(
            "reviewSpending", #"{"village":"lianhua","id":"s1","approve":true}"#, as: f.lianhua, code: "role_not_allowed")
        try f.refused(
            "reviewSpending", #"{"village":"lianhua","id":"s1","approve":true,"approvedFen":9000000}"#, as: f.township,
            code: "bad_args")
        let reviewed = try f.ok(
            "reviewSpending", #"{"village":"lianhua","id":"s1","approve":true,"approvedFen":7500000,"comment":"按审定预算"}"#,
            as: f.township)
        #expect(reviewed.string("status") == "approved" && reviewed.int("approvedFen") == 7_500_000)
        try f.refused("reviewSpending", #"{"village":"lianhua","id":"s1","approve":false}"#, as: f.township, code: "bad_state")
        // Payments never exceed what was approved, however they are split.
        try f.ok("pay", #"{"id":"p1","spending":"s1","amountFen":5000000}"#, as: f.lianhua)
        try f.refused("pay", #"{"id":"p2","spending":"s1","amountFen":2500001}"#, as: f.lianhua, code: "exceeds_approval")
        try f.ok("pay", #"{"id":"p2","spending":"s1","amountFen":2500000}"#, as: f.lianhua)
        let after = try f.query("get", #"{"village":"lianhua","kind":"spend","id":"s1"}"#, as: f.farmer)
        #expect(after.int("paidFen") == 7_500_000)
        #expect(try f.alertKinds().isEmpty)
    }

    @Test func aRejectedSpendingCannotBePaid() throws {
        let f = try SanziFixture()
        try f.ok(
            "requestSpending",
            #"{"id":"s1","amountFen":9000000,"payee":"p","purpose":"p","meetingHash":"\#(Self.m)","noticeHash":"\#(Self.n)"}"#,
            as: f.lianhua)
        try f.ok("reviewSpending", #"{"village":"lianhua","id":"s1","approve":false,"comment":"材料不全"}"#, as: f.township)
        try f.refused("pay", #"{"id":"p1","spending":"s1","amountFen":1}"#, as: f.lianhua, code: "not_approved")
        try f.refused("pay", #"{"id":"p1","spending":"nope","amountFen":1}"#, as: f.lianhua, code: "not_found")
    }

    @Test func expensesBookedOutsideThePlatformAreRecordedWithAlerts() throws {
        let f = try SanziFixture()
        // Small, without a request: recorded, no alert.
        try f.ok("recordExpense", #"{"id":"e1","amountFen":50000,"payee":"文具店","purpose":"办公用品"}"#, as: f.lianhua)
        #expect(try f.alertKinds().isEmpty)
        // Above the threshold without approval: recorded, alert.
        let e2 = try f.ok("recordExpense", #"{"id":"e2","amountFen":6000000,"payee":"某公司","purpose":"设备"}"#, as: f.lianhua)
        #expect(e2["alerts"]?.arrayValue?.first?.string("kind") == "payment_without_approval")
        // Against a pending request: alert.
        try f.ok(
            "requestSpending",
            #"{"id":"s1","amountFen":6000000,"payee":"p","purpose":"p","meetingHash":"\#(Self.m)","noticeHash":"\#(Self.n)"}"#,
            as: f.lianhua)
        try f.ok("recordExpense", #"{"id":"e3","spending":"s1","amountFen":100,"payee":"p","purpose":"p"}"#, as: f.lianhua)
        // Beyond what was approved: alert.
        try f.ok("reviewSpending", #"{"village":"lianhua","id":"s1","approve":true,"approvedFen":5000000}"#, as: f.township)
        try f.ok("recordExpense", #"{"id":"e4","spending":"s1","amountFen":4000000,"payee":"p","purpose":"p"}"#, as: f.lianhua)
        try f.ok("recordExpense", #"{"id":"e5","spending":"s1","amountFen":1000000,"payee":"p","purpose":"p"}"#, as: f.lianhua)
        // Against a request that does not exist: alert.
        try f.ok("recordExpense", #"{"id":"e6","spending":"ghost","amountFen":100,"payee":"p","purpose":"p"}"#, as: f.lianhua)
        #expect(
            try f.alertKinds() == [
                "payment_without_approval", "payment_without_approval", "payment_exceeds_approval", "payment_without_approval",
            ])
        // All six were booked: 50000 + 6000000 + 100 + 4000000 + 1000000 + 100.
        let d = try f.query("disclosure", #"{"village":"lianhua"}"#, as: f.farmer)
        #expect(d["payments"]?.arrayValue?.count == 6)
        #expect(d["funds"]?.int("spendingFen") == 11_050_200)
        #expect(d["funds"]?.int("balanceFen") == Int64(88_949_800))
    }

    // MARK: Leases

    @Test func aLeaseAwardedByBiddingAtOrAboveTheReferenceRaisesNoAlert() throws {
        let f = try SanziFixture()
        try f.registerPond()
        let bidding = try f.ok(
            "recordBidding",
            #"{"id":"bid-2025-1","item":"pond-7","referencePriceFen":1200000,"noticeHash":"\#(Self.n)","bids":[{"bidder":"王氏蟹业","priceFen":1350000},{"bidder":"李某","priceFen":1500000},{"bidder":"张某","priceFen":1250000}]}"#,
            as: f.lianhua)
        #expect(bidding.string("winner") == "李某" && bidding.int("winningPriceFen") == 1_500_000)
        let lease = try f.ok(
            "signLease",
            #"{"id":"L1","item":"pond-7","tenant":"李某","annualRentFen":1500000,"startDate":20250301,"termMonths":60,"noticeHash":"\#(Self.n)","bidding":"bid-2025-1"}"#,
            as: f.lianhua)
        #expect(lease["alerts"]?.arrayValue?.isEmpty == true)
        #expect(lease.int("totalFen") == 7_500_000 && lease.int("endDate") == 20_300_301)
        #expect(
            lease["installments"]?.arrayValue?.map { $0.int("due") ?? 0 } == [
                20_250_301, 20_260_301, 20_270_301, 20_280_301, 20_290_301,
            ])
        // The pond is now leased: no second lease, no disposal.
        try f.refused(
            "signLease",
            #"{"id":"L2","item":"pond-7","tenant":"x","annualRentFen":1500000,"startDate":20250301,"termMonths":12,"noticeHash":"\#(Self.n)"}"#,
            as: f.lianhua, code: "bad_state")
        try f.refused(
            "requestDisposal",
            #"{"id":"d1","item":"pond-7","method":"sale","meetingHash":"\#(Self.m)","noticeHash":"\#(Self.n)"}"#,
            as: f.lianhua, code: "bad_state")
    }

    @Test func leasesWithoutBiddingBelowReferenceOrBeyondTheLegalTermRaiseAlerts() throws {
        let f = try SanziFixture()
        try f.registerPond("pond-1")
        try f.registerPond("pond-2")
        try f.registerPond("pond-3")
        try f.ok(
            "registerItem", #"{"id":"land-9","category":"land","name":"机动地","areaCentiMu":1500,"refAnnualRentFen":150000}"#,
            as: f.lianhua)
        // A public notice is a rule, not an alert.
        try f.refused(
            "signLease",
            #"{"id":"L0","item":"pond-1","tenant":"x","annualRentFen":1200000,"startDate":20250101,"termMonths":12}"#,
            as: f.lianhua, code: "bad_args")
        // No bidding at all.
        try f.ok(
            "signLease",
            #"{"id":"L1","item":"pond-1","tenant":"某合作社","annualRentFen":1200000,"startDate":20250101,"termMonths":12,"noticeHash":"\#(Self.n)"}"#,
            as: f.lianhua)
        // Below the reference price (90% of it), with a bidding the tenant did not win.
        try f.ok(
            "recordBidding",
            #"{"id":"b2","item":"pond-2","referencePriceFen":1200000,"noticeHash":"\#(Self.n)","bids":[{"bidder":"甲","priceFen":1300000}]}"#,
            as: f.lianhua)
        try f.ok(
            "signLease",
            #"{"id":"L2","item":"pond-2","tenant":"乙","annualRentFen":1080000,"startDate":20250101,"termMonths":12,"noticeHash":"\#(Self.n)","bidding":"b2"}"#,
            as: f.lianhua)
        // A bidding for another item does not count.
        try f.ok(
            "signLease",
            #"{"id":"L3","item":"pond-3","tenant":"甲","annualRentFen":1300000,"startDate":20250101,"termMonths":12,"noticeHash":"\#(Self.n)","bidding":"b2"}"#,
            as: f.lianhua)
        // Land let for 35 years, past the 30-year maximum.
        try f.ok(
            "recordBidding",
            #"{"id":"b9","item":"land-9","referencePriceFen":150000,"noticeHash":"\#(Self.n)","bids":[{"bidder":"丙","priceFen":160000}]}"#,
            as: f.lianhua)
        let long = try f.ok(
            "signLease",
            #"{"id":"L9","item":"land-9","tenant":"丙","annualRentFen":160000,"startDate":20250101,"termMonths":420,"noticeHash":"\#(Self.n)","bidding":"b9"}"#,
            as: f.lianhua)
        #expect(long["alerts"]?.arrayValue?.map { $0.string("kind") ?? "" } == ["term_exceeds_legal_max"])
        #expect(
            try f.alertKinds() == [
                "lease_without_bidding", "lease_not_winning_bid", "lease_below_reference", "lease_without_bidding",
                "term_exceeds_legal_max",
            ])
    }

    @Test func rentsAreCollectedAndOverdueInstallmentsRaiseOneAlertEach() throws {
        let f = try SanziFixture()
        try f.registerPond()
        try f.ok(
            "recordBidding",
            #"{"id":"b1","item":"pond-7","referencePriceFen":1200000,"noticeHash":"\#(Self.n)","bids":[{"bidder":"王某","priceFen":1200000}]}"#,
            as: f.lianhua)
        try f.ok(
            "signLease",
            #"{"id":"L1","item":"pond-7","tenant":"王某","annualRentFen":1200000,"startDate":20250101,"termMonths":18,"noticeHash":"\#(Self.n)","bidding":"b1"}"#,
            as: f.lianhua)
        // 18 months: a full year, then half a year pro rata.
        let lease = try f.query("get", #"{"village":"lianhua","kind":"lease","id":"L1"}"#, as: f.farmer)
        #expect(lease["installments"]?.arrayValue?.map { $0.int("amountFen") ?? 0 } == [1_200_000, 600_000])
        try f.ok("recordLeasePayment", #"{"lease":"L1","id":"r1","amountFen":1000000,"date":20250110}"#, as: f.lianhua)
        try f.refused("recordLeasePayment", #"{"lease":"L1","id":"r2","amountFen":800001}"#, as: f.lianhua, code: "overpayment")
        // Within the grace period (30 days from 2025-01-01): nothing overdue yet.
        #expect(try f.ok("checkOverdue", "{}", as: f.lianhua)["alerts"]?.arrayValue?.isEmpty == true)
        // Forty days on, the unpaid 200000 fen of the first installment is overdue.
        f.chain.time += 40 * 86_400_000
        let check = try f.ok("checkOverdue", #"{"village":"lianhua"}"#, as: f.township)
        #expect(check["alerts"]?.arrayValue?.map { $0.string("kind") ?? "" } == ["lease_payment_overdue"])
        // Checking again raises nothing new; other townships may not check.
        #expect(try f.ok("checkOverdue", "{}", as: f.lianhua)["alerts"]?.arrayValue?.isEmpty == true)
        try f.refused("checkOverdue", #"{"village":"lianhua"}"#, as: f.otherTownship, code: "not_reviewer")
        // Paid in full later; after the end date the lease ends and the pond is free again.
        try f.ok("recordLeasePayment", #"{"lease":"L1","id":"r2","amountFen":800000,"date":20250301}"#, as: f.lianhua)
        f.chain.time += 600 * 86_400_000
        let end = try f.ok("checkOverdue", #"{"village":"lianhua"}"#, as: f.regulator)
        #expect(end["ended"]?.arrayValue == [.string("L1")])
        let pond = try f.query("get", #"{"village":"lianhua","kind":"item","id":"pond-7"}"#, as: f.farmer)
        #expect(pond.string("status") == "active")
        let d = try f.query("disclosure", #"{"village":"lianhua"}"#, as: f.farmer)
        #expect(d["months"]?.arrayValue?.map { $0.int("incomeFen") ?? 0 } == [1_000_000, 800_000])
        #expect(try f.alertKinds() == ["lease_payment_overdue"])
    }

    // MARK: Disposals

    @Test func disposalsNeedTheDecisionAndTheTownshipsApproval() throws {
        let f = try SanziFixture()
        try f.ok("registerItem", #"{"id":"tractor","category":"equipment","name":"拖拉机","valueFen":8000000}"#, as: f.lianhua)
        try f.refused(
            "requestDisposal", #"{"id":"d1","item":"tractor","method":"sale"}"#, as: f.lianhua, code: "decision_required")
        let decision = #""meetingHash":"\#(Self.m)","noticeHash":"\#(Self.n)""#
        try f.ok(
            "requestDisposal", #"{"id":"d1","item":"tractor","method":"sale","expectedPriceFen":2000000,\#(decision)}"#,
            as: f.lianhua)
        try f.refused("completeDisposal", #"{"id":"d1","priceFen":2100000}"#, as: f.lianhua, code: "not_approved")
        try f.refused(
            "reviewDisposal", #"{"village":"lianhua","id":"d1","approve":true}"#, as: f.otherTownship, code: "not_reviewer")
        try f.ok("reviewDisposal", #"{"village":"lianhua","id":"d1","approve":true}"#, as: f.township)
        let done = try f.ok("completeDisposal", #"{"id":"d1","priceFen":2100000,"date":20250115}"#, as: f.lianhua)
        #expect(done.string("status") == "done")
        let tractor = try f.query("get", #"{"village":"lianhua","kind":"item","id":"tractor"}"#, as: f.farmer)
        #expect(tractor.string("status") == "disposed")
        try f.refused("completeDisposal", #"{"id":"d1"}"#, as: f.lianhua, code: "not_approved")
        // A rejected disposal stays undone.
        try f.ok("registerItem", #"{"id":"shed","category":"building","name":"旧仓库"}"#, as: f.lianhua)
        try f.ok("requestDisposal", #"{"id":"d2","item":"shed","method":"scrap",\#(decision)}"#, as: f.lianhua)
        try f.ok("reviewDisposal", #"{"village":"lianhua","id":"d2","approve":false}"#, as: f.township)
        try f.refused("completeDisposal", #"{"id":"d2"}"#, as: f.lianhua, code: "not_approved")
        let d = try f.query("disclosure", #"{"village":"lianhua"}"#, as: f.farmer)
        #expect(d["funds"]?.int("incomeFen") == 2_100_000)
    }

    // MARK: Queries

    @Test func theReviewersQueueShowsPendingWorkAndOpenAlertsOfItsOwnVillages() throws {
        let f = try SanziFixture()
        let decision = #""meetingHash":"\#(Self.m)","noticeHash":"\#(Self.n)""#
        try f.ok("requestSpending", #"{"id":"s1","amountFen":9000000,"payee":"p","purpose":"p",\#(decision)}"#, as: f.lianhua)
        try f.ok("requestSpending", #"{"id":"s9","amountFen":9000000,"payee":"p","purpose":"p",\#(decision)}"#, as: f.qingdun)
        try f.ok("registerItem", #"{"id":"t1","category":"equipment","name":"水泵"}"#, as: f.lianhua)
        try f.ok("requestDisposal", #"{"id":"d1","item":"t1","method":"scrap",\#(decision)}"#, as: f.lianhua)
        try f.ok("recordExpense", #"{"id":"e1","amountFen":7000000,"payee":"p","purpose":"p"}"#, as: f.lianhua)

        let queue = try f.query("reviewQueue", "{}", as: f.township)
        #expect(
            queue["pending"]?.arrayValue?.map { "\($0.string("type") ?? "")/\($0.string("id") ?? "")" } == [
                "disposal/d1", "spend/s1",
            ])
        #expect(queue["alerts"]?.arrayValue?.map { $0.string("kind") ?? "" } == ["payment_without_approval"])
        let other = try f.query("reviewQueue", "{}", as: f.otherTownship)
        #expect(other["pending"]?.arrayValue?.map { $0.string("id") ?? "" } == ["s9"])
        #expect(other["alerts"]?.arrayValue?.isEmpty == true)
        let all = try f.query("reviewQueue", "{}", as: f.regulator)
        #expect(all["pending"]?.arrayValue?.count == 3)
        #expect(try f.chain.query("reviewQueue", "{}", as: f.lianhua).error?.code.rawValue == "role_not_allowed")
        #expect(
            try f.chain.query("reviewQueue", #"{"village":"lianhua"}"#, as: f.otherTownship).error?.code.rawValue
                == "not_reviewer")

        // Reviewing and resolving empty the queue.
        try f.ok("reviewSpending", #"{"village":"lianhua","id":"s1","approve":true}"#, as: f.township)
        try f.ok("reviewDisposal", #"{"village":"lianhua","id":"d1","approve":true}"#, as: f.township)
        try f.refused("resolveAlert", #"{"village":"lianhua","seq":1,"note":"x"}"#, as: f.otherTownship, code: "not_reviewer")
        try f.ok("resolveAlert", #"{"village":"lianhua","seq":1,"note":"已补办审批手续"}"#, as: f.township)
        try f.refused("resolveAlert", #"{"village":"lianhua","seq":1,"note":"again"}"#, as: f.township, code: "bad_state")
        let empty = try f.query("reviewQueue", #"{"village":"lianhua"}"#, as: f.township)
        #expect(empty["pending"]?.arrayValue?.isEmpty == true && empty["alerts"]?.arrayValue?.isEmpty == true)
        let alert = try f.query("get", #"{"village":"lianhua","kind":"alert","id":"1"}"#, as: f.farmer)
        #expect(alert.string("status") == "resolved" && alert.string("resolvedBy") == "yangchenghu-njz")
    }

    @Test func thePublicDisclosureListsRegistersContractsAndMonthlyFigures() throws {
        let f = try SanziFixture()
        try f.registerPond()
        try f.ok("registerItem", #"{"id":"hall","category":"building","name":"村委会办公楼","valueFen":120000000}"#, as: f.lianhua)
        try f.ok(
            "signLease",
            #"{"id":"L1","item":"pond-7","tenant":"王某","annualRentFen":1200000,"startDate":20250101,"termMonths":12,"noticeHash":"\#(Self.n)","payment":"once"}"#,
            as: f.lianhua)
        try f.ok("recordLeasePayment", #"{"lease":"L1","id":"r1","amountFen":1200000,"date":20250105}"#, as: f.lianhua)
        try f.ok("requestSpending", #"{"id":"s1","amountFen":400000,"payee":"保洁公司","purpose":"环境整治"}"#, as: f.lianhua)
        try f.ok("pay", #"{"id":"p1","spending":"s1","amountFen":400000,"date":20250220}"#, as: f.lianhua)
        let d = try f.query("disclosure", #"{"village":"lianhua"}"#, as: f.farmer)
        #expect(d["village"]?.string("name") == "莲花村")
        #expect(d["items"]?.arrayValue?.map { $0.string("id") ?? "" } == ["hall", "pond-7"])
        #expect(d["leases"]?.arrayValue?.first?.int("paidFen") == 1_200_000)
        #expect(
            d["months"]?.arrayValue?.map { [$0.int("month") ?? 0, $0.int("incomeFen") ?? 0, $0.int("spendingFen") ?? 0] } == [
                [202_501, 1_200_000, 0], [202_502, 0, 400_000],
            ])
        #expect(d["funds"]?.int("balanceFen") == Int64(100_800_000))
        let feb = try f.query("disclosure", #"{"village":"lianhua","fromMonth":202502}"#, as: f.farmer)
        #expect(feb["months"]?.arrayValue?.count == 1)
        // A query cannot write: a transaction method run as a query fails with read_only.
        #expect(
            try f.chain.query("registerItem", #"{"id":"x","category":"other","name":"x"}"#, as: f.lianhua).error?.code.rawValue
                == "read_only")
    }

    // MARK: Determinism

    /// The same transactions on the same state give the same results, writes, events and fuel.
    @Test func replayingAScenarioGivesIdenticalOutcomes() throws {
        func run() throws -> [WasmCallOutcome] {
            let f = try SanziFixture()
            var outcomes: [WasmCallOutcome] = []
            try f.registerPond()
            for (method, args, signer) in [
                (
                    "signLease",
                    #"{"id":"L1","item":"pond-7","tenant":"t","annualRentFen":900000,"startDate":20250101,"termMonths":300,"noticeHash":"\#(Self.n)"}"#,
                    f.lianhua
                ),
                ("recordExpense", #"{"id":"e1","amountFen":9000000,"payee":"p","purpose":"p"}"#, f.lianhua),
                ("requestSpending", #"{"id":"s1","amountFen":100,"payee":"p","purpose":"p"}"#, f.lianhua),
                ("pay", #"{"id":"p1","spending":"s1","amountFen":100}"#, f.lianhua),
                ("pay", #"{"id":"p2","spending":"s1","amountFen":100}"#, f.lianhua),
                ("checkOverdue", #"{"village":"lianhua"}"#, f.township),
            ] {
                outcomes.append(try f.chain.call(method, args, as: signer))
            }
            return outcomes
        }
        let first = try run()
        let second = try run()
        #expect(first.count == second.count)
        for (a, b) in zip(first, second) {
            #expect(a.error == b.error)
            #expect(a.result == b.result)
            #expect(a.writes == b.writes)
            #expect(a.events == b.events)
            #expect(a.fuelUsed == b.fuelUsed)
        }
        #expect(first[4].error?.code.rawValue == "exceeds_approval")
    }
}
