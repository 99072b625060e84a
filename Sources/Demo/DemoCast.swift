import ChainCore
import CrabTraceContract
import Foundation
import Identity
import Node

/// One person or firm of the demo season: an account (identity) with a role, in an org.
struct DemoActor: Sendable {
    /// What the actor is in the story, e.g. "farm-zhang".
    let key: String
    /// Display name, e.g. "张建国 (养殖户)".
    let name: String
    /// Certificate role.
    let role: Role
    /// Org whose CA issues the certificate.
    let org: String
    /// Identity directory name under `D/identities/` (the certificate CN).
    var identity: String { key }
}

/// A farm household's registration facts.
struct DemoFarm: Sendable {
    let actor: DemoActor
    let areaMu: Int
    let zone: String
    let pond: String
}

/// A merchant's facts.
struct DemoMerchant: Sendable {
    let actor: DemoActor
    let salesRegion: [String]
    let quota: Int
}

/// A crab-contract member: one org registered in one role (the contract keys members by org).
struct DemoMember: Sendable {
    let org: String
    let role: CrabCall.MemberRole
    let name: String
    let licence: String
    var areaMu: Int?
    var zone: String?
    var salesRegion: [String]?
    var gln: String?

    /// The `register_member` call.
    var call: ContractCall {
        CrabCall.registerMember(
            org: org, role: role, name: name, licence: licence, areaMu: areaMu.map(Int64.init), zone: zone,
            salesRegion: salesRegion, gln: gln)
    }
}

/// Who plays which part, spread over the network's orgs.
///
/// The crab contract registers members per org, one role each, so the four member roles (farm,
/// merchant, lab, logistics) need four orgs. On a 4-org devnet org0 holds the association, the
/// regulator, the verification gateway and the lab; the three farm households share one
/// cooperative org and the two shops one dealer org. With 8 or more orgs every farm, shop, the
/// lab and the carrier get an org of their own and org0 keeps the association (and the regulator
/// up to 8 orgs; from 9 the ninth org is the market regulator's).
struct DemoCast: Sendable {
    let association: DemoActor
    let regulator: DemoActor
    let gateway: DemoActor
    let consumer: DemoActor
    let lab: DemoActor
    let logistics: DemoActor
    let farms: [DemoFarm]
    let merchants: [DemoMerchant]
    let members: [DemoMember]
    /// The village collective's clerk (三资 contract, role village): the village is this org.
    let village: DemoActor
    /// The township's rural economic station (role township), reviewer of the village.
    let township: DemoActor
    /// An admin of the home org, who uploads and deploys the 三资 contract (the chain's default
    /// deployers are every org's admins). Not in `actors`: admins need no entry in the role policy.
    let deployer: DemoActor

    /// Every actor, in story order.
    var actors: [DemoActor] {
        [association, regulator] + farms.map(\.actor) + [lab, logistics] + merchants.map(\.actor) + [gateway, consumer]
            + [village, township]
    }

    /// Plans the cast for a network whose orgs are `orgs` (genesis order).
    static func plan(orgs: [String]) throws -> DemoCast {
        guard orgs.count >= 4 else {
            throw ChainError(
                .demoNeedsOrgs,
                "the crab demo needs at least 4 orgs (farm, merchant, lab, logistics members); this network has \(orgs.count)")
        }
        let home = orgs[0]
        // Member orgs: on 4–7 orgs, every org hosts one member role (org0: the lab); from 8, org0 stays governance only.
        let labOrg: String
        let logisticsOrg: String
        var farmOrgs: [String]
        var merchantOrgs: [String]
        if orgs.count >= 8 {
            farmOrgs = Array(orgs[1...3])
            merchantOrgs = Array(orgs[4...5])
            labOrg = orgs[6]
            logisticsOrg = orgs[7]
        } else {
            labOrg = orgs[0]
            farmOrgs = [orgs[1]]
            merchantOrgs = [orgs[2]]
            logisticsOrg = orgs[3]
            // 5–7 orgs: extra orgs give farms, then the second shop, their own org.
            for extra in orgs.dropFirst(4) {
                if farmOrgs.count < 3 { farmOrgs.append(extra) } else { merchantOrgs.append(extra) }
            }
        }
        func farmOrg(_ i: Int) -> String { farmOrgs[min(i, farmOrgs.count - 1)] }
        func merchantOrg(_ i: Int) -> String { merchantOrgs[min(i, merchantOrgs.count - 1)] }

        let farms = [
            DemoFarm(
                actor: DemoActor(key: "farm-zhang", name: "张建国 (养殖户)", role: .farm, org: farmOrg(0)), areaMu: 60,
                zone: "阳澄湖东湖围网", pond: "东湖3号围网"),
            DemoFarm(
                actor: DemoActor(key: "farm-wang", name: "王秀英 (养殖户)", role: .farm, org: farmOrg(1)), areaMu: 48,
                zone: "阳澄湖中湖围网", pond: "中湖7号围网"),
            DemoFarm(
                actor: DemoActor(key: "farm-lu", name: "陆永根 (养殖户)", role: .farm, org: farmOrg(2)), areaMu: 38,
                zone: "阳澄湖镇池塘", pond: "莲花岛12号塘"),
        ]
        let merchants = [
            DemoMerchant(
                actor: DemoActor(key: "merchant-flagship", name: "阳澄湖蟹庄 苏州旗舰店", role: .merchant, org: merchantOrg(0)),
                salesRegion: ["苏州", "上海", "无锡"], quota: 800),
            DemoMerchant(
                actor: DemoActor(key: "merchant-online", name: "蟹礼到家 网店", role: .merchant, org: merchantOrg(1)),
                salesRegion: ["苏州", "上海", "杭州", "南京"], quota: 400),
        ]
        let lab = DemoActor(key: "lab-qc", name: "苏州市水产品质量检测中心", role: .lab, org: labOrg)
        let logistics = DemoActor(key: "logistics-coldchain", name: "苏沪冷链物流", role: .logistics, org: logisticsOrg)

        var members: [DemoMember] = []
        for org in farmOrgs {
            let mine = farms.filter { $0.actor.org == org }
            let name =
                mine.count == 1
                ? "\(mine[0].actor.name.split(separator: " ")[0])家庭农场"
                : "阳澄湖莲花岛大闸蟹养殖专业合作社 (\(mine.map { String($0.actor.name.split(separator: " ")[0]) }.joined(separator: "、")))"
            members.append(
                DemoMember(
                    org: org, role: .farm, name: name, licence: "苏渔养证(2026)第\(310 + members.count)号",
                    areaMu: mine.map(\.areaMu).reduce(0, +), zone: mine[0].zone,
                    gln: GS1Key.appendingCheckDigit("95212340000\(members.count + 1)")))
        }
        for org in merchantOrgs {
            let mine = merchants.filter { $0.actor.org == org }
            var region: [String] = []
            for m in mine { for c in m.salesRegion where !region.contains(c) { region.append(c) } }
            members.append(
                DemoMember(
                    org: org, role: .merchant, name: mine.count == 1 ? mine[0].actor.name : "苏州阳澄湖蟹庄贸易有限公司",
                    licence: "91320500MA1DEMO\(members.count)X", salesRegion: region))
        }
        members.append(DemoMember(org: labOrg, role: .lab, name: lab.name, licence: "CMA 201910000001"))
        members.append(DemoMember(org: logisticsOrg, role: .logistics, name: logistics.name, licence: "苏交运管许可苏字320500000001号"))

        // The market regulator is an org of its own from 9 orgs on (the role policy then binds the
        // regulator role to it alone).
        let regulatorOrg = orgs.count >= 9 ? orgs[8] : home
        // The 三资 village and its township station are orgs of their own from 11 orgs on (org9,
        // org10); on smaller networks the home org plays both (the contract tells them by role).
        let villageOrg = orgs.count >= 11 ? orgs[9] : home
        let townshipOrg = orgs.count >= 11 ? orgs[10] : home
        return DemoCast(
            association: DemoActor(key: "assoc-secretariat", name: "苏州市阳澄湖大闸蟹行业协会 秘书处", role: .association, org: home),
            regulator: DemoActor(key: "amr-suzhou", name: "苏州市市场监督管理局", role: .regulator, org: regulatorOrg),
            gateway: DemoActor(key: "verify-gateway", name: "扫码验真网关", role: .node, org: home),
            consumer: DemoActor(key: "consumer-li", name: "李女士 (上海买家)", role: .consumer, org: home),
            lab: lab, logistics: logistics, farms: farms, merchants: merchants, members: members,
            village: DemoActor(key: "village-lianhua", name: "莲花村股份经济合作社 报账员", role: .village, org: villageOrg),
            township: DemoActor(key: "township-yangchenghu", name: "阳澄湖镇农村经济服务站", role: .township, org: townshipOrg),
            deployer: DemoActor(key: "contract-admin", name: "\(home) 管理员 (合约部署)", role: .admin, org: home))
    }

    /// The role policy that fits the cast: each org holds the roles its actors play, and the
    /// orgs of the first `validators` orgs also hold the node role.
    static func rolePolicy(orgs: [String], validators: Int) throws -> [String: [Role]] {
        let cast = try plan(orgs: orgs)
        var out: [String: Set<Role>] = [:]
        for org in orgs { out[org] = [] }
        for actor in cast.actors { out[actor.org, default: []].insert(actor.role) }
        for org in orgs.prefix(validators) { out[org, default: []].insert(.node) }
        return out.mapValues { $0.sorted { $0.rawValue < $1.rawValue } }
    }

    /// Issues (or reuses) every actor's key and certificate under `D/identities/<name>` and loads them.
    func identities(in layout: NetworkLayout) throws -> [String: SigningIdentity] {
        var out: [String: SigningIdentity] = [:]
        for actor in actors + [deployer] {
            let dir = layout.identityDir(actor.identity)
            if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("cert.pem").path) {
                try layout.issueIdentity(org: actor.org, role: actor.role, name: actor.identity)
            }
            out[actor.key] = try SigningIdentity(directory: dir)
        }
        return out
    }
}
