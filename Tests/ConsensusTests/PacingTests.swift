import ChainTesting
import Consensus
import Testing

/// Idle latency: a leader with nothing to propose defers its empty block (the driver wakes it
/// when a transaction arrives), but proposes at once while a payload's commit waits on it.
@Suite struct PacingTests {
    func idle(seed: UInt64, byzantine: [Int: ByzantineBehavior] = [:]) -> SimulationReport {
        var s = Scenario(name: "idle")
        s.delay = 5...40
        s.byzantine = byzantine
        s.emptyProposalDelayMs = 250
        s.transactions = [3_000, 6_100, 9_250]
        s.healAt = 10_000
        return Simulation(seed: seed, scenario: s).run()
    }

    @Test func oneTransactionOnAnIdleNetworkCommitsInAFewMessageDelays() {
        var worst = 0
        for seed: UInt64 in 0..<10 {
            let report = idle(seed: seed)
            #expect(report.passed, "\(report)")
            #expect(report.transactionLatencies.count == 3, "\(report)")
            worst = max(worst, report.transactionLatencies.values.max() ?? .max)
            // Idle, the chain does not spin: about one block per deferral, not one per message delay.
            #expect((report.heights["v0"] ?? 0) < 10_000 / 250 + 20, "\(report)")
        }
        // Three blocks (the transaction's, and two that carry its commit) proposed without waiting:
        // well under the 250 ms deferral plus six 40 ms delays.
        #expect(worst < 250 + 6 * 40, "worst latency \(worst) ms")
        print("idle latency, worst of 30 transactions: \(worst) ms")
    }

    @Test func pacingKeepsLivenessWithAValidatorDown() {
        for seed: UInt64 in 0..<5 {
            let report = idle(seed: seed, byzantine: [2: .silent])
            #expect(report.passed, "\(report)")
            #expect(report.transactionLatencies.count == 3, "\(report)")
        }
    }

    /// Batching under load and pacing together, with a validator down: transactions still commit
    /// (the wait is bounded by the interval and half the round timeout, and a silent leader's round
    /// times out as before).
    @Test func batchingKeepsLivenessWithAValidatorDown() {
        for seed: UInt64 in 0..<5 {
            var s = Scenario(name: "idle-batching")
            s.delay = 5...40
            s.byzantine = [2: .silent]
            s.emptyProposalDelayMs = 250
            s.minBlockIntervalMs = 50
            s.transactions = [3_000, 3_010, 3_020, 6_100, 9_250]
            s.healAt = 10_000
            let report = Simulation(seed: seed, scenario: s).run()
            #expect(report.passed, "\(report)")
            #expect(report.transactionLatencies.count == 5, "\(report)")
        }
    }
}
