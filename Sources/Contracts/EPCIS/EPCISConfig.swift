import EPCIS
import Identity

/// Settings of the `epcis` contract: which products are crabs under the association's rules.
public struct EPCISConfig: Sendable {
    /// GTIN-14s of crab products (shorter GTINs are zero-padded).
    public let crabGTINs: Set<String>
    /// Document limits.
    public let limits: EPCISLimits

    /// Roles that may capture at all: every account role except node identities.
    public static let writers: Set<Role> = Set(Role.allCases).subtracting([.node])

    /// For events naming a crab product: the CBV business steps each role may record.
    /// A regulator may also record any event whose disposition is `recalled`.
    public static let crabRoles: [Role: Set<String>] = [
        .association: ["commissioning", "decommissioning", "inspecting"],
        .farm: ["commissioning", "packing", "shipping"],
        .lab: ["inspecting", "sampling"],
        .merchant: ["retail_selling", "packing", "shipping", "receiving"],
        .logistics: ["shipping", "receiving", "departing", "arriving", "transporting", "loading", "unloading", "storing"],
        .regulator: ["holding", "destroying", "inspecting"],
    ]

    /// Creates a configuration.
    public init(crabGTINs: [String] = [], limits: EPCISLimits = EPCISLimits()) {
        self.crabGTINs = Set(crabGTINs.map { String(repeating: "0", count: max(0, 14 - $0.count)) + $0 })
        self.limits = limits
    }

    /// The crab GTIN `epc` is an instance or class of, if any (URN or Digital Link spelling).
    public func crabGTIN(in epc: String) -> String? {
        let dl = GS1Identifier.normalised(epc)
        let prefix = "https://id.gs1.org/01/"
        guard dl.hasPrefix(prefix) else { return nil }
        let gtin = String(dl.dropFirst(prefix.count).prefix(while: { $0 != "/" }))
        return crabGTINs.contains(gtin) ? gtin : nil
    }

    /// Roles allowed to record a crab event with this bizStep and disposition (full URIs).
    public static func roles(bizStep: String?, disposition: String?) -> Set<Role> {
        var out = Set<Role>()
        for (role, steps) in crabRoles where steps.contains(where: { CBVVocabulary.bizStep.canonical($0) == bizStep }) {
            out.insert(role)
        }
        if disposition == CBVVocabulary.disposition.canonical("recalled") { out.insert(.regulator) }
        return out
    }
}
