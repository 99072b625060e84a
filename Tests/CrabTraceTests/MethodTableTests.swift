import ChainCore
import ChainTesting
import CrabTraceContract
import EPCIS
import Execution
import Identity
import Storage
import Testing

/// The crab contract's one method table: admission (`allowedRoles`), execution and the history's
/// business steps all read it.
@Suite struct MethodTableTests {
    /// Administration steps whose history entries carry no CBV business step, by design.
    static let withoutBizStep: Set<String> = [
        "register_member", "update_member", "open_season", "grant_quota", "lift_issuance_suspension", "suspend_member",
        "reinstate_member", "close_alert", "close_alerts", "set_scan_policy",
    ]

    @Test func everyMethodHasRolesAndACBVBizStepOrNoneByDesign() {
        let methods = CrabTraceContract.methods
        #expect(methods.count == 33)
        #expect(Set(methods.map(\.name)).count == methods.count, "a method is declared twice")
        for m in methods {
            #expect(!m.roles.isEmpty, "\(m.name) has no roles")
            #expect(CrabTraceContract.method(named: m.name)?.name == m.name)
            if let step = m.bizStep {
                #expect(!Self.withoutBizStep.contains(m.name), "\(m.name) should carry no bizStep")
                #expect(CBVVocabulary.bizStep.names.contains(step), "\(m.name): \(step) is not a CBV 2.0 bizStep")
            } else {
                #expect(Self.withoutBizStep.contains(m.name), "\(m.name) has no bizStep")
            }
        }
        #expect(CrabTraceContract.methodRoles == Dictionary(uniqueKeysWithValues: methods.map { ($0.name, $0.roles) }))
    }

    @Test func allowedRolesAndExecuteAgreeOnEveryMethodAndRefuseAnUnknownOne() throws {
        let h = try CrabHarness()
        let contract = CrabTraceContract()
        for m in CrabTraceContract.methods {
            #expect(contract.allowedRoles(method: m.name) == m.roles)
            // Execution knows the method: an allowed role gets past the method lookup and the role check.
            let role = try #require(m.roles.sorted { $0.rawValue < $1.rawValue }.first)
            let (tx, _) = try h.run(role, "reg", m.name, .object([:]))
            let code = tx.result.error?.code.rawValue
            #expect(code != "unknown_method" && code != "role_not_allowed", "\(m.name) as \(role.rawValue): \(code ?? "ok")")
        }
        #expect(contract.allowedRoles(method: "nosuch") == nil)
        #expect(CrabTraceContract.method(named: "nosuch") == nil)
        try h.refused("unknown_method", .association, "assoc", "nosuch", .object([:]))
        // Admission refuses it with the same code, before execution.
        let verifier = TransactionVerifier(
            chainId: "test-chain", memberships: try h.consortium.memberships(), registry: ContractRegistry([contract]))
        let t = try h.identity(.association, "assoc").transaction(
            chain: "test-chain", contract: "crab", method: "nosuch", args: .object([:]))
        #expect(errorCode { try verifier.verify(t, nowMillis: Fixtures.now) } == "unknown_method")
    }

    @Test func historyEntriesCarryTheTablesBizStep() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason()
        try h.commission(1...1)
        try h.allocate(1...1)
        let ring = try h.queries.history(h.ringKey(1).canonical)
        #expect(ring.map(\.step) == ["commission_rings", "allocate_rings"])
        #expect(ring.map(\.bizStep) == ["commissioning", "other"])
        let member = try h.queries.history("member:farmA")
        #expect(member.first?.step == "register_member" && member.first?.bizStep == nil)
    }
}
