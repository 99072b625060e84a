import ChainCore
import ChainTesting
import Consensus
import Foundation
import Identity
import Logging
import Storage
import Testing

@testable import Node

/// Four validators in one process: real nodes (mempool, execution, SQLite files), the real
/// consensus service, an in-memory network that can cut nodes off.
struct Cluster {
    let consortium: TestConsortium
    let nodes: [ChainNode]
    let services: [ConsensusService<InMemoryTransport>]
    let hub: InMemoryHub

    init(in dir: URL, suite: CryptoSuite = .ed25519, consensusBlocksKept: Int = 10_000) throws {
        let consortium = try TestConsortium(orgs: ["org0", "org1", "org2", "org3"], validators: 4, suite: suite)
        let ids = (0..<4).map { "node\($0)" }
        let hub = InMemoryHub(ids: ids)
        var config = ConsensusConfig()
        config.baseTimeoutMs = 1_000
        var nodes: [ChainNode] = []
        var services: [ConsensusService<InMemoryTransport>] = []
        for k in 0..<4 {
            var nodeConfig = NodeConfig(nodeId: ids[k])
            nodeConfig.syncCommits = false
            nodeConfig.consensusBlocksKept = consensusBlocksKept
            let node = try consortium.node(in: dir, config: nodeConfig, validator: k)
            nodes.append(node)
            services.append(
                try ConsensusService(
                    node: node, transport: hub.transport(ids[k]), config: config, emptyBlockDelay: .milliseconds(50),
                    logger: Logger(label: ids[k])))
        }
        self.consortium = consortium
        self.nodes = nodes
        self.services = services
        self.hub = hub
    }

    /// Submits `count` evidence records signed by org1's farm, spread over the nodes `targets`.
    func submit(_ count: Int, to targets: [Int]) throws -> [Hash256] {
        let farm = try consortium.identity(.farm, org: "org1")
        return try (0..<count).map { i in
            let tx = try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            try nodes[targets[i % targets.count]].submit(tx)
            return tx.id
        }
    }

    /// True when every node of `which` committed all of `ids`.
    func committedEverywhere(_ ids: [Hash256], on which: [Int]) throws -> Bool {
        try which.allSatisfy { try nodes[$0].store.committedIDs(among: ids).count == ids.count }
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns the last answer.
func waitUntil(_ timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try condition()
}
