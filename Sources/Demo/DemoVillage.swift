import ChainClient
import ChainCore
import ContractModules
import CrabTraceContract
import Foundation
import Identity

/// The 三资 part of the demo: the committed `sanzi` module uploaded and deployed by the home
/// org's admin, one village (莲花村) registered by the regulator under its township station, its
/// registers, a pond leased by open bidding to the demo crab farm that fishes it (陆永根, 莲花岛12号塘),
/// a second pond leased without bidding below the reference rent, spending below the threshold
/// (approved at once), above it (reviewed by the township, one still waiting in its queue), an
/// expense booked without approval, a disposal awaiting review and an overdue rent.
///
/// Every date is fixed within the season's year (March to August), so the disclosure's months
/// are the same on every run of the same year.
struct DemoVillage {
    /// Name of the deployed contract.
    static let contract = "sanzi"
    /// The village's display name.
    static let name = "阳澄湖镇莲花村股份经济合作社"
    /// The pond leased to the demo crab farm, and its lease.
    static let pondItem = "pond-12"
    static let pondLease = "lease-pond-12"

    let cast: DemoCast
    /// The season's year (`yyyy`).
    let year: Int

    var village: String { cast.village.org }
    var township: String { cast.township.org }
    /// The farm household that leases the pond (莲花岛12号塘).
    var pondFarm: DemoFarm { cast.farms[min(2, cast.farms.count - 1)] }

    /// `yyyymmdd` of the season's year.
    func date(_ month: Int, _ day: Int) -> Int64 { Int64(year * 10_000 + month * 100 + day) }

    /// A decision record's or public notice's hash (the documents stay off chain).
    static func docHash(_ text: String) -> String { Hash256.sha256(Array("XIANGCHAIN-DEMO-DOC\u{0}\(text)".utf8)).hex }

    /// A `wasm.call` of the 三资 contract.
    func call(_ method: String, _ args: [String: JSONValue]) -> ContractCall {
        ContractCall(
            contract: "wasm", method: "call",
            args: .object(["contract": .string(Self.contract), "method": .string(method), "args": .object(args)]))
    }

    func step(_ label: String, _ signer: DemoActor, _ method: String, _ args: [String: JSONValue], expect: String? = nil)
        -> DemoStep
    {
        DemoStep(label: "三资: \(label)", signer: signer.key, call: call(method, args), expectError: expect)
    }

    /// The module's SHA-256 and its upload parts.
    static func module() throws -> (hash: String, parts: [ContractCall]) {
        guard let code = ContractModules.bytes("sanzi") else {
            throw ChainError(.demoFailed, "the sanzi module is not bundled with this binary")
        }
        let hash = ContractUpload.hash(code)
        let count = max(1, (code.count + ContractUpload.partBytes - 1) / ContractUpload.partBytes)
        let parts = (0..<count).map { part in
            let slice = code[(part * ContractUpload.partBytes)..<min(code.count, (part + 1) * ContractUpload.partBytes)]
            return ContractCall(
                contract: "wasm", method: "upload",
                args: .object([
                    "sha256": .string(hash), "part": .int(Int64(part)), "parts": .int(Int64(count)),
                    "data": .string(Data(slice).base64EncodedString()),
                ]))
        }
        return (hash, parts)
    }

    /// The rounds of transactions, in order: the steps of a round do not depend on each other.
    func rounds() throws -> [[DemoStep]] {
        let (hash, parts) = try Self.module()
        let admin = cast.deployer
        let clerk = cast.village
        let station = cast.township
        let fen = { (yuan: Int64) -> JSONValue in .int(yuan * 100) }
        let farmTenant = "\(pondFarm.actor.org) \(pondFarm.actor.name.split(separator: " ")[0])家庭农场"

        let upload = parts.enumerated().map { i, c in
            DemoStep(label: "三资: upload the sanzi module, part \(i + 1) of \(parts.count)", signer: admin.key, call: c)
        }
        let deploy = [
            DemoStep(
                label: "三资: deploy contract \(Self.contract)", signer: admin.key,
                call: ContractCall(
                    contract: "wasm", method: "deploy",
                    args: .object(["name": .string(Self.contract), "code": .string(hash)])))
        ]
        let register = [
            step(
                "register village \(village)", cast.regulator, "registerVillage",
                [
                    "village": .string(village), "name": .string(Self.name), "township": .string(township),
                    "openingBalanceFen": fen(1_286_500),
                ])
        ]
        let items: [DemoStep] = [
            (Self.pondItem, "pond", pondFarm.pond, 3_800, 0, 57_000, "莲花岛东侧"),
            ("pond-07", "pond", "莲花岛7号塘", 2_000, 0, 30_000, "莲花岛西侧"),
            ("land-east", "land", "东片耕地", 12_000, 0, 96_000, "村东"),
            ("hall", "building", "村民活动中心", 0, 1_850_000, 0, "村部"),
            ("pump-01", "equipment", "2008年排灌泵站水泵", 0, 42_000, 0, "东片泵站"),
        ].map { id, category, name, area, value, rent, location in
            var args: [String: JSONValue] = [
                "id": .string(id), "category": .string(category), "name": .string(name), "location": .string(location),
            ]
            if area > 0 { args["areaCentiMu"] = .int(Int64(area)) }
            if value > 0 { args["valueFen"] = fen(Int64(value)) }
            if rent > 0 { args["refAnnualRentFen"] = fen(Int64(rent)) }
            return step("register \(category) \(id) \(name)", clerk, "registerItem", args)
        }
        let requests = [
            step(
                "open bidding for pond-12", clerk, "recordBidding",
                [
                    "id": .string("bid-pond-12"), "item": .string(Self.pondItem), "referencePriceFen": fen(57_000),
                    "noticeHash": .string(Self.docHash("莲花岛12号塘 公开招租公告")), "date": .int(date(2, 20)),
                    "bids": .array([
                        .object(["bidder": .string(farmTenant), "priceFen": fen(60_800)]),
                        .object(["bidder": .string("阳澄湖水产养殖有限公司"), "priceFen": fen(58_500)]),
                        .object(["bidder": .string("沈氏家庭农场"), "priceFen": fen(57_200)]),
                    ]),
                ]),
            step(
                "spending sp-01 below the threshold (approved at once)", clerk, "requestSpending",
                [
                    "id": .string("sp-01"), "amountFen": fen(12_000), "payee": .string("相城区路桥养护站"),
                    "purpose": .string("村道坑洼修补"),
                ]),
            step(
                "spending sp-02 above the threshold (to the township)", clerk, "requestSpending",
                [
                    "id": .string("sp-02"), "amountFen": fen(180_000), "payee": .string("苏州阳澄水利工程有限公司"),
                    "purpose": .string("莲花岛塘埂加固"), "meetingHash": .string(Self.docHash("sp-02 村民代表会议决议")),
                    "noticeHash": .string(Self.docHash("sp-02 公示")),
                ]),
            step(
                "spending sp-03 above the threshold (waiting for review)", clerk, "requestSpending",
                [
                    "id": .string("sp-03"), "amountFen": fen(86_000), "payee": .string("相城建筑装饰有限公司"),
                    "purpose": .string("村民活动中心屋面翻修"), "meetingHash": .string(Self.docHash("sp-03 村民代表会议决议")),
                    "noticeHash": .string(Self.docHash("sp-03 公示")),
                ]),
            step(
                "expense ex-01 paid in cash without approval (alert)", clerk, "recordExpense",
                [
                    "id": .string("ex-01"), "amountFen": fen(65_000), "payee": .string("莲花村绿化队"),
                    "purpose": .string("村庄绿化苗木"), "date": .int(date(6, 18)),
                ]),
            step(
                "disposal dp-01 of pump-01 (waiting for review)", clerk, "requestDisposal",
                [
                    "id": .string("dp-01"), "item": .string("pump-01"), "method": .string("scrap"),
                    "meetingHash": .string(Self.docHash("dp-01 村民代表会议决议")),
                    "noticeHash": .string(Self.docHash("dp-01 公示")),
                ]),
        ]
        let leases = [
            step(
                "lease pond-12 to the crab farm \(pondFarm.actor.key), by bidding", clerk, "signLease",
                [
                    "id": .string(Self.pondLease), "item": .string(Self.pondItem), "tenant": .string(farmTenant),
                    // Checked against the crab contract's member record by the contract (a native query).
                    "tenantOrg": .string(pondFarm.actor.org),
                    "annualRentFen": fen(60_800), "startDate": .int(date(3, 1)), "termMonths": .int(60),
                    "noticeHash": .string(Self.docHash("莲花岛12号塘 中标公示")), "bidding": .string("bid-pond-12"),
                ]),
            step(
                "lease pond-07 without bidding, below the reference rent (alerts)", clerk, "signLease",
                [
                    "id": .string("lease-pond-07"), "item": .string("pond-07"), "tenant": .string("沈氏家庭农场"),
                    "annualRentFen": fen(22_000), "startDate": .int(date(4, 1)), "termMonths": .int(36),
                    "noticeHash": .string(Self.docHash("莲花岛7号塘 租赁公示")),
                ]),
            step(
                "township approves sp-02 at 160 000 yuan", station, "reviewSpending",
                [
                    "village": .string(village), "id": .string("sp-02"), "approve": .bool(true), "approvedFen": fen(160_000),
                    "comment": .string("核减设计变更部分"),
                ]),
            step(
                "pay sp-01", clerk, "pay",
                ["id": .string("pay-01"), "spending": .string("sp-01"), "amountFen": fen(12_000), "date": .int(date(4, 10))]),
        ]
        let payments = [
            step(
                "rent of pond-12, first year", clerk, "recordLeasePayment",
                [
                    "lease": .string(Self.pondLease), "id": .string("rent-pond-12-1"), "amountFen": fen(60_800),
                    "date": .int(date(3, 15)),
                ]),
            step(
                "pay sp-02 as approved", clerk, "pay",
                ["id": .string("pay-02"), "spending": .string("sp-02"), "amountFen": fen(160_000), "date": .int(date(5, 20))]),
            step(
                "pay sp-03 before review (refused)", clerk, "pay",
                ["id": .string("pay-03"), "spending": .string("sp-03"), "amountFen": fen(86_000), "date": .int(date(7, 2))],
                expect: "not_approved"),
        ]
        // The crab contract's farm record points its pond to the lease (the association keeps members).
        let pointer = DemoStep(
            label: "三资: farm \(pondFarm.actor.org)'s pond \(pondFarm.pond) points to lease \(Self.pondLease)",
            signer: cast.association.key,
            call: CrabCall.updateMember(
                org: pondFarm.actor.org,
                ponds: [CrabCall.Pond(pond: pondFarm.pond, lease: (Self.contract, village, Self.pondLease))]))
        // After the first year's rent of pond-12 is in: only pond-07's is overdue.
        let overdue = [
            step("township checks overdue rents", station, "checkOverdue", ["village": .string(village)]), pointer,
        ]
        return [upload, deploy, register, items, requests, leases, payments, overdue]
    }
}
