import ChainCore
import ChainTesting
import Foundation
import Identity
import Testing

@testable import Node

/// The key ceremony of each org and the genesis assembled from their cards: what a console
/// account's certificate (issued by an org's intermediate CA) may be, on the chain that results.
struct OrgKitTests {
    func ceremony(in dir: URL) throws -> Genesis {
        var cards: [OrgCard] = []
        for (k, (org, roles)) in [("assoc", [Role.association, .node]), ("farmco", [Role.farm])].enumerated() {
            let d = dir.appendingPathComponent(org)
            let nodes =
                k == 0
                ? [
                    OrgKit.NodePlan(
                        nodeId: "node0", p2pListenHost: "0.0.0.0", p2pPort: 7000, p2pAdvertise: "10.0.0.1:7000",
                        apiListenHost: "0.0.0.0", apiPort: 8080, apiURL: "http://10.0.0.1:8080",
                        hosts: ["10.0.0.1", "node0.local"],
                        validator: true)
                ] : []
            cards.append(try OrgKit.create(org: org, suite: .ed25519, roles: roles, nodes: nodes, paths: .standalone(d)))
        }
        return try GenesisBuilder.build(chainId: "kit-chain", cards: cards, createdAt: 0)
    }

    func certificate(_ ca: CertificateAuthority, _ role: Role) throws -> [UInt8] {
        try ca.issue(role: role, name: "someone", subjectKey: SigningKey.generate(.ed25519)).derBytes()
    }

    @Test func consoleAccountsOfEachOrgAreMembersWithTheRolesTheirOrgMayHold() async throws {
        try await withTemporaryDirectory { dir in
            let genesis = try ceremony(in: dir)
            // The genesis carries each org's console CA into the chain configuration.
            #expect(genesis.initialConfig.orgs.map(\.issuers.count) == [1, 1])
            let membership = try genesis.membership()
            let console = try CertificateAuthority(directory: dir.appendingPathComponent("farmco/console-ca"))
            let (farmer, _) = try membership.verify(certificateDER: try certificate(console, .farm), at: Date())
            #expect(farmer.org == "farmco" && farmer.role == .farm)
            let (admin, _) = try membership.verify(certificateDER: try certificate(console, .admin), at: Date())
            #expect(admin.role == .admin)
            // A role the org may not hold, minted by its own console CA, is refused.
            let refused = #expect(throws: ChainError.self) {
                try membership.verify(certificateDER: try certificate(console, .regulator), at: Date())
            }
            #expect(refused?.code == .roleNotPermitted)
        }
    }
}
