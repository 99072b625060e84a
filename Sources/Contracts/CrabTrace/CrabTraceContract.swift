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
    /// "crab".
    public let name = "crab"
    /// Deployment settings.
    public let config: CrabTraceConfig

    /// Roles that are consortium members registered by the association.
    public static let memberRoles: Set<Role> = [.farm, .merchant, .lab, .logistics]

    /// Roles allowed per method.
    public static let methodRoles: [String: Set<Role>] = [
        "register_member": [.association], "update_member": [.association], "open_season": [.association],
        "grant_quota": [.association], "commission_rings": [.association], "allocate_rings": [.association],
        "lift_issuance_suspension": [.association],
        "tag_harvest": [.farm], "inspect_lot": [.lab],
        "pack_box": [.farm, .merchant, .logistics], "unpack_box": [.farm, .merchant, .logistics],
        "ship": [.farm, .merchant, .logistics], "receive": [.farm, .merchant, .logistics],
        "issue_coupons": [.merchant], "sell_coupon": [.merchant], "redeem": [.merchant], "refund_coupon": [.merchant],
        "expire_coupons": [.merchant, .association], "transfer_coupon": [.merchant, .consumer, .node],
        "book_redemption": [.consumer, .node], "scan": [.consumer, .node], "complain": [.consumer, .node],
        "freeze_lot": [.regulator], "unfreeze_lot": [.regulator], "recall": [.regulator],
        "suspend_member": [.regulator], "reinstate_member": [.regulator],
        "close_alert": [.association, .regulator], "sweep": [.association, .regulator, .node],
        "declare_error": [.association, .farm, .merchant, .lab, .logistics, .regulator, .consumer, .node],
    ]

    /// Creates the contract.
    public init(config: CrabTraceConfig = CrabTraceConfig()) { self.config = config }

    public func allowedRoles(method: String) -> Set<Role>? { Self.methodRoles[method] }

    public func execute(method: String, args: JSONValue, context: ExecutionContext) throws {
        guard let roles = Self.methodRoles[method] else {
            throw ChainError(.unknownMethod, "crab has no method \"\(method)\"")
        }
        try context.requireRole(roles, for: "crab.\(method)")
        let step = CrabStep(context: context, method: method, config: config)
        if Self.memberRoles.contains(context.caller.role) { try step.requireActiveMember() }
        switch method {
        case "register_member": try registerMember(args, step)
        case "update_member": try updateMember(args, step)
        case "open_season": try openSeason(args, step)
        case "grant_quota": try grantQuota(args, step)
        case "lift_issuance_suspension": try liftIssuanceSuspension(args, step)
        case "commission_rings": try commissionRings(args, step)
        case "allocate_rings": try allocateRings(args, step)
        case "tag_harvest": try tagHarvest(args, step)
        case "inspect_lot": try inspectLot(args, step)
        case "pack_box": try packBox(args, step)
        case "unpack_box": try unpackBox(args, step)
        case "ship": try ship(args, step)
        case "receive": try receive(args, step)
        case "issue_coupons": try issueCoupons(args, step)
        case "sell_coupon": try sellCoupon(args, step)
        case "transfer_coupon": try transferCoupon(args, step)
        case "book_redemption": try bookRedemption(args, step)
        case "redeem": try redeem(args, step)
        case "refund_coupon": try refundCoupon(args, step)
        case "expire_coupons": try expireCoupons(args, step)
        case "scan": try scan(args, step)
        case "complain": try complain(args, step)
        case "freeze_lot": try freezeLot(args, step, frozen: true)
        case "unfreeze_lot": try freezeLot(args, step, frozen: false)
        case "recall": try recall(args, step)
        case "suspend_member": try suspendMember(args, step, suspended: true)
        case "reinstate_member": try suspendMember(args, step, suspended: false)
        case "close_alert": try closeAlert(args, step)
        case "sweep": try sweep(args, step)
        case "declare_error": try declareError(args, step)
        default: throw ChainError(.unknownMethod, "crab has no method \"\(method)\"")
        }
        step.finish()
    }
}
