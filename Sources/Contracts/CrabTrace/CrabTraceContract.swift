import ChainCore
import Execution
import Identity

/// Crab ring and coupon anti-counterfeiting and traceability (contract name "crab").
///
/// Every method checks the caller's role (the same set `allowedRoles` gives admission); member
/// roles (farm, merchant, lab, logistics) must also belong to a registered, active member org
/// whose registered role equals the certificate role. Every successful step appends a history
/// entry to each object it touches. `docs/crabtrace.md` lists methods, arguments and error codes.
public struct CrabTraceContract: Contract {
    /// The contract name transactions use: "crab".
    public static let contractName = "crab"
    /// "crab".
    public let name = CrabTraceContract.contractName
    /// Deployment settings.
    public let config: CrabTraceConfig

    /// Roles that are consortium members registered by the association.
    public static let memberRoles: Set<Role> = [.farm, .merchant, .lab, .logistics]

    /// Every method, declared once: name, roles, CBV business step and implementation.
    public static let methods: [CrabMethod] = [
        CrabMethod("register_member", roles: [.association], bizStep: nil) { try $0.registerMember($1, $2) },
        CrabMethod("update_member", roles: [.association], bizStep: nil) { try $0.updateMember($1, $2) },
        CrabMethod("open_season", roles: [.association], bizStep: nil) { try $0.openSeason($1, $2) },
        CrabMethod("grant_quota", roles: [.association], bizStep: nil) { try $0.grantQuota($1, $2) },
        CrabMethod("lift_issuance_suspension", roles: [.association], bizStep: nil) {
            try $0.liftIssuanceSuspension($1, $2)
        },
        CrabMethod("commission_rings", roles: [.association], bizStep: "commissioning") { try $0.commissionRings($1, $2) },
        CrabMethod("allocate_rings", roles: [.association], bizStep: "other") { try $0.allocateRings($1, $2) },
        CrabMethod("tag_harvest", roles: [.farm], bizStep: "commissioning") { try $0.tagHarvest($1, $2) },
        CrabMethod("inspect_lot", roles: [.lab], bizStep: "inspecting") { try $0.inspectLot($1, $2) },
        CrabMethod("pack_box", roles: [.farm, .merchant, .logistics], bizStep: "packing") { try $0.packBox($1, $2) },
        CrabMethod("unpack_box", roles: [.farm, .merchant, .logistics], bizStep: "unpacking") { try $0.unpackBox($1, $2) },
        CrabMethod("ship", roles: [.farm, .merchant, .logistics], bizStep: "shipping") { try $0.ship($1, $2) },
        CrabMethod("hand_over", roles: [.logistics], bizStep: "arriving") { try $0.handOver($1, $2) },
        CrabMethod("receive", roles: [.farm, .merchant, .logistics], bizStep: "receiving") { try $0.receive($1, $2) },
        CrabMethod("issue_coupons", roles: [.merchant], bizStep: "commissioning") { try $0.issueCoupons($1, $2) },
        CrabMethod("sell_coupon", roles: [.merchant], bizStep: "retail_selling") { try $0.sellCoupon($1, $2) },
        CrabMethod("transfer_coupon", roles: [.merchant, .consumer, .node], bizStep: "other") {
            try $0.transferCoupon($1, $2)
        },
        CrabMethod("book_redemption", roles: [.consumer, .node], bizStep: "reserving") { try $0.bookRedemption($1, $2) },
        CrabMethod("redeem", roles: [.merchant], bizStep: "dispensing") { try $0.redeem($1, $2) },
        CrabMethod("refund_coupon", roles: [.merchant], bizStep: "decommissioning") { try $0.refundCoupon($1, $2) },
        CrabMethod("expire_coupons", roles: [.merchant, .association], bizStep: "decommissioning") {
            try $0.expireCoupons($1, $2)
        },
        CrabMethod("scan", roles: [.consumer, .node], bizStep: "other") { try $0.scan($1, $2) },
        CrabMethod("complain", roles: [.consumer, .node], bizStep: "other") { try $0.complain($1, $2) },
        CrabMethod("freeze_lot", roles: [.regulator], bizStep: "holding") { try $0.freezeLot($1, $2, frozen: true) },
        CrabMethod("unfreeze_lot", roles: [.regulator], bizStep: "holding") { try $0.freezeLot($1, $2, frozen: false) },
        CrabMethod("recall", roles: [.regulator], bizStep: "holding") { try $0.recall($1, $2) },
        CrabMethod("suspend_member", roles: [.regulator], bizStep: nil) { try $0.suspendMember($1, $2, suspended: true) },
        CrabMethod("reinstate_member", roles: [.regulator], bizStep: nil) {
            try $0.suspendMember($1, $2, suspended: false)
        },
        CrabMethod("close_alert", roles: [.association, .regulator], bizStep: nil) { try $0.closeAlert($1, $2) },
        CrabMethod("close_alerts", roles: [.association, .regulator], bizStep: nil) { try $0.closeAlerts($1, $2) },
        CrabMethod("set_scan_policy", roles: [.association], bizStep: nil) { try $0.setScanPolicy($1, $2) },
        CrabMethod("sweep", roles: [.association, .regulator, .node], bizStep: "decommissioning") { try $0.sweep($1, $2) },
        CrabMethod(
            "declare_error", roles: [.association, .farm, .merchant, .lab, .logistics, .regulator, .consumer, .node],
            bizStep: "other"
        ) { try $0.declareError($1, $2) },
    ]

    /// `methods` by name.
    static let methodsByName = Dictionary(methods.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    /// The method called `name`, if the contract has one.
    public static func method(named name: String) -> CrabMethod? { methodsByName[name] }

    /// Roles allowed per method (a view of `methods`).
    public static var methodRoles: [String: Set<Role>] { methodsByName.mapValues(\.roles) }

    /// Creates the contract.
    public init(config: CrabTraceConfig = CrabTraceConfig()) { self.config = config }

    public func allowedRoles(method: String) -> Set<Role>? { Self.method(named: method)?.roles }

    public func execute(method: String, args: JSONValue, context: ExecutionContext) throws {
        guard let m = Self.method(named: method) else {
            throw ChainError(.unknownMethod, "crab has no method \"\(method)\"")
        }
        try context.requireRole(m.roles, for: "crab.\(method)")
        let step = CrabStep(context: context, method: method, config: config)
        if Self.memberRoles.contains(context.caller.role) { try step.requireActiveMember() }
        try m.run(self, args, step)
        step.finish()
    }
}
