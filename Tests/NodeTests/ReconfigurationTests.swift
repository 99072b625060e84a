import ChainCore
import ChainTesting
import Consensus
import EvidenceContract
import Execution
import Foundation
import GovernanceContract
import Identity
import Logging
import Storage
import Synchronization
import Testing

@testable import Node

/// Validator-set changes by governance on running nodes: a fifth validator is added and an
/// original one removed while clients keep submitting; nothing acknowledged is lost and every node
/// holds the same chain.
@Suite(.serialized) struct ReconfigurationTests {
    @Test func aFifthValidatorIsAddedAndAnOriginalRemovedUnderLoad() async throws {
        try await withTemporaryDirectory { dir in
            let orgs = ["org0", "org1", "org2", "org3", "org4"]
            let consortium = try TestConsortium(
                orgs: orgs, validators: 4, roles: Dictionary(uniqueKeysWithValues: orgs.map { ($0, [Role.node, .farm]) }))
            let ids = (0..<5).map { "node\($0)" }
            let hub = InMemoryHub(ids: ids)
            var config = ConsensusConfig()
            config.baseTimeoutMs = 1_000
            let contracts: [any Contract] = [GovernanceContract(initial: consortium.genesis.initialConfig), EvidenceContract()]
            // node4 of org4 is not in the genesis: it follows epoch 0 passively, then votes once added.
            let node4Key = SigningKey.generate(.ed25519)
            let node4Cert = KeyPEM.certificatePEM(
                fromDER: try consortium.cas["org4"]!.issue(role: .node, name: "node4", subjectKey: node4Key).derBytes())
            var built: [ChainNode] = []
            var builtServices: [ConsensusService<InMemoryTransport>] = []
            for k in 0..<5 {
                var nodeConfig = NodeConfig(nodeId: ids[k])
                nodeConfig.syncCommits = false
                if k == 4 { nodeConfig.syncFrom = ["http://127.0.0.1:1"] }
                let node = try ChainNode(
                    genesis: consortium.genesis, config: nodeConfig,
                    databasePath: dir.appendingPathComponent("\(ids[k]).sqlite").path,
                    nodeKey: k < 4 ? consortium.nodeKeys[k] : node4Key, contracts: contracts, logger: Logger(label: ids[k]))
                built.append(node)
                builtServices.append(
                    try ConsensusService(
                        node: node, transport: hub.transport(ids[k]), config: config, emptyBlockDelay: .milliseconds(100),
                        logger: Logger(label: ids[k])))
            }
            let nodes = built
            let services = builtServices
            let admins = try orgs.map { try consortium.identity(.admin, org: $0) }
            let farm = try consortium.identity(.farm, org: "org1")
            func governance(_ admin: SigningIdentity, _ method: String, _ args: JSONValue, via k: Int) throws -> Hash256 {
                let tx = try admin.transaction(chain: "test-chain", contract: "governance", method: method, args: args)
                try nodes[k].submit(tx)
                return tx.id
            }
            func propose(_ change: GovernanceChange, via k: Int) throws -> Hash256 {
                try governance(
                    admins[0], "propose",
                    .object(["changes": .array([change.json]), "description": .string("reconfiguration test")]), via: k)
            }
            func approve(_ id: String, by orgIndices: [Int], via k: Int) throws -> [Hash256] {
                try orgIndices.map { try governance(admins[$0], "approve", .object(["proposal": .string(id)]), via: k) }
            }
            func committedEverywhere(_ ids: [Hash256], on which: [Int]) throws -> Bool {
                try which.allSatisfy { try nodes[$0].store.committedIDs(among: ids).count == ids.count }
            }
            func failures(_ ids: [Hash256], on k: Int) throws -> [String] {
                try ids.compactMap { try nodes[k].store.transaction($0)?.result.error?.code.rawValue }
            }

            try await withThrowingTaskGroup(of: Void.self) { group in
                for s in services { group.addTask { try await s.run() } }
                // Load: evidence transactions to the validators of the moment, all along.
                let acknowledged = Mutex<[Hash256]>([])
                let loading = Atomic<Bool>(true)
                group.addTask {
                    var i = 0
                    while loading.load(ordering: .relaxed) {
                        let tx = try farm.transaction(
                            chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
                        if (try? nodes[[1, 2, 3][i % 3]].submit(tx)) != nil { acknowledged.withLock { $0.append(tx.id) } }
                        i += 1
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }

                // Add node4: critical, so 4 of 5 orgs approve.
                let add = try propose(
                    .addValidator(nodeId: "node4", org: "org4", certificate: node4Cert, p2pAddress: "127.0.0.1:7004"), via: 0)
                #expect(try await waitUntil { try committedEverywhere([add], on: [0, 1, 2, 3]) })
                let addVotes = try approve("P-000001", by: [1, 2, 3], via: 1)
                #expect(try await waitUntil { try committedEverywhere(addVotes, on: [0, 1, 2, 3]) })
                #expect(try failures([add] + addVotes, on: 0).isEmpty)
                #expect(try await waitUntil { nodes.allSatisfy { $0.chainConfig.epoch == 1 } })
                #expect(try await waitUntil { services[4].status.epoch == 1 && services[4].status.voter })

                // Remove node0, proposed through node4 (now a validator).
                let remove = try propose(.removeValidator(nodeId: "node0"), via: 4)
                #expect(try await waitUntil { try committedEverywhere([remove], on: [1, 2, 3, 4]) })
                let removeVotes = try approve("P-000002", by: [1, 2, 4], via: 2)
                #expect(try await waitUntil { try committedEverywhere(removeVotes, on: [1, 2, 3, 4]) })
                #expect(try await waitUntil { nodes.allSatisfy { $0.chainConfig.epoch == 2 } })
                #expect(nodes[4].chainConfig.validators.map(\.nodeId) == ["node1", "node2", "node3", "node4"])

                // The new set commits without node0.
                hub.setDown("node0", true)
                try await Task.sleep(for: .seconds(1))
                loading.store(false, ordering: .relaxed)
                let all = acknowledged.withLock { $0 }
                #expect(all.count > 50)
                #expect(try await waitUntil(.seconds(90)) { try committedEverywhere(all, on: [1, 2, 3, 4]) })
                // The same chain on every validator of the new set, each block final under the set of its height.
                #expect(try await waitUntil { try Set([1, 2, 3, 4].map { try nodes[$0].store.tip()?.hash }).count == 1 })
                let height = try #require(try nodes[1].store.tip()?.height)
                #expect(
                    try await waitUntil {
                        try (1...height).allSatisfy { h in
                            try nodes[1].finalityCheck(forHeight: h).isFinal(stored: try nodes[1].store.block(at: h)!.signatures)
                        }
                    })
                // Blocks of the last epoch are signed by its set: node4 signs, node0 does not.
                let epochs = try nodes[1].epochs()
                #expect(epochs.map(\.epoch) == [1, 2])
                let lastEpochStart = try #require(epochs.last?.firstHeight)
                #expect(lastEpochStart <= height)
                let signers = try Set(
                    (lastEpochStart...height).flatMap { h in try nodes[1].store.block(at: h)!.signatures.map(\.validator) })
                #expect(signers.contains("node4") && !signers.contains("node0"), "\(signers)")
                for k in [2, 3, 4] {
                    for h in 1...height { #expect(try nodes[k].store.block(at: h)?.hash == nodes[1].store.block(at: h)?.hash) }
                }
                // Validators gossip their signatures of each change until all hold a quorum;
                // an observer syncing afterwards fetches them, so its proofs carry them too.
                #expect(try await waitUntil { try [1, 2, 3, 4].allSatisfy { try nodes[$0].epochsLackingSignatures().isEmpty } })
                let observer = try consortium.observer(in: dir, contracts: contracts)
                let sync = BlockSyncService(
                    node: observer, sources: [StoreSource(node: nodes[1])], interval: .milliseconds(50),
                    logger: Logger(label: "observer"))
                group.addTask { try await sync.run() }
                #expect(
                    try await waitUntil {
                        try observer.store.tip()?.height ?? 0 >= height && observer.epochsLackingSignatures().isEmpty
                    })
                let proofEpochs = try observer.epochProof(forHeight: height)
                #expect(proofEpochs.count == 2)
                #expect(proofEpochs.allSatisfy { ($0["signatures"]?.arrayValue?.count ?? 0) >= 3 }, "\(proofEpochs)")
                group.cancelAll()
            }
        }
    }
}
