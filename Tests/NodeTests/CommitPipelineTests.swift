import ChainCore
import ChainTesting
import Consensus
import Foundation
import Storage
import Synchronization
import Testing

@testable import Node

extension BFTNodeTests {
    /// A replica goes on voting while its executor is behind: with the executors of node2 and
    /// node3 held (as a slow disk would hold them), a quorum needs one of their votes, and the
    /// chain still commits on node0 and node1 while those two have stored nothing; the backlog
    /// stays bounded (the loop waits for its executor past `commitsQueued` blocks); released,
    /// they store every block in order and all four hold the same chain.
    @Test func aReplicaVotesOnWhileItsExecutorIsBehindAndTheBacklogIsBounded() async throws {
        try await withTemporaryDirectory { dir in
            // Long rounds and slow empty blocks: nothing here waits on a timeout, and idle empty
            // blocks do not fill the backlog on their own.
            let cluster = try Cluster(in: dir, baseTimeoutMs: 10_000, emptyBlockDelay: .seconds(5))
            let nodes = cluster.nodes
            try await withThrowingTaskGroup(of: Void.self) { group in
                for s in cluster.services { group.addTask { try await s.run() } }
                let warm = try cluster.submit(4, to: [0, 1])
                #expect(try await waitUntil { try cluster.committedEverywhere(warm, on: [0, 1, 2, 3]) })

                for k in [2, 3] { cluster.services[k].executorPaused.store(true, ordering: .relaxed) }
                let held = try [2, 3].map { try nodes[$0].store.tip()?.height ?? 0 }
                let first = try cluster.submit(6, to: [0, 1])
                #expect(try await waitUntil(.seconds(30)) { try cluster.committedEverywhere(first, on: [0, 1]) })
                #expect(try [2, 3].map { try nodes[$0].store.tip()?.height ?? 0 } == held)
                #expect(cluster.services[2].status.executionBacklog > 0 || cluster.services[3].status.executionBacklog > 0)

                // More waves: the held replicas fall further behind, boundedly.
                var most = 0
                for _ in 0..<8 {
                    _ = try cluster.submit(3, to: [0, 1])
                    for _ in 0..<10 {
                        try await Task.sleep(for: .milliseconds(30))
                        most = max(most, cluster.services[2].status.executionBacklog, cluster.services[3].status.executionBacklog)
                    }
                }
                #expect(most <= ConsensusService<InMemoryTransport>.commitsQueued + 3, "backlog reached \(most)")
                #expect(try [2, 3].map { try nodes[$0].store.tip()?.height ?? 0 } == held)

                for k in [2, 3] { cluster.services[k].executorPaused.store(false, ordering: .relaxed) }
                let last = try cluster.submit(4, to: [0, 1, 2, 3])
                #expect(try await waitUntil(.seconds(60)) { try cluster.committedEverywhere(first + last, on: [0, 1, 2, 3]) })
                #expect(try await waitUntil { try Set(nodes.map { try $0.store.tip()?.hash }).count == 1 })
                #expect(try await waitUntil { cluster.services.allSatisfy { $0.status.executionBacklog == 0 } })
                group.cancelAll()
            }
        }
    }
}
