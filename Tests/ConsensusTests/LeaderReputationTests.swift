import ChainTesting
import Consensus
import Testing

/// Leader reputation (issue 15, item 4): with a validator down, the leaders that propose are the
/// ones that sign, so the chain keeps its pace; a validator that comes back leads again.
@Suite struct LeaderReputationTests {
    /// Simulated ms over which commits are counted: from when the validator crashed at 1 s has
    /// been out of the reputation window for a while (its last elected turns cost a timeout or two).
    static let from = 5_000
    static let until = 20_000

    func run(seed: UInt64, crash: Crash? = nil, reputationWindow: Int = ConsensusConfig().reputationWindow)
        -> SimulationReport
    {
        var s = Scenario(name: "reputation")
        s.delay = 5...40
        s.healAt = Self.until
        s.livenessWindow = 5_000
        s.commitsAfterHeal = 3
        s.reputationWindow = reputationWindow
        if let crash { s.crashes = [crash] }
        return Simulation(seed: seed, scenario: s).run()
    }

    /// Blocks first committed in [from, until).
    func committed(_ r: SimulationReport, by author: String? = nil) -> Int {
        r.authored.filter { author == nil || $0.key == author }.values.reduce(0) { n, times in
            n + times.filter { $0 >= Self.from && $0 < Self.until }.count
        }
    }

    @Test func aCrashedValidatorIsSkippedAndTheChainKeepsItsPace() {
        var allUp = 0
        var oneDown = 0
        var roundRobin = 0
        for seed: UInt64 in 0..<4 {
            let up = run(seed: seed)
            let down = run(seed: seed, crash: Crash(node: 2, at: 1_000, restart: 1_000_000))
            let plain = run(seed: seed, crash: Crash(node: 2, at: 1_000, restart: 1_000_000), reputationWindow: 0)
            #expect(up.passed && down.passed && plain.passed, "\(up)\n\(down)\n\(plain)")
            // Once out of the window, the crashed validator leads no round: no round times out.
            let lateTCs = down.timeoutCertificates.filter { $0 >= Self.from && $0 < Self.until }
            #expect(lateTCs.isEmpty, "seed \(seed): rounds timed out at \(lateTCs)")
            #expect(plain.timeoutCertificates.filter { $0 >= Self.from && $0 < Self.until }.count > 10)
            allUp += committed(up)
            oneDown += committed(down)
            roundRobin += committed(plain)
        }
        print(
            "blocks committed in \(Self.until - Self.from) simulated ms: all up \(allUp), one down \(oneDown), one down without reputation \(roundRobin)"
        )
        // Three validators must all vote (instead of any three of four), which costs some pace,
        // but no round waits for a timeout.
        #expect(Double(oneDown) >= 0.7 * Double(allUp), "one down \(oneDown) vs all up \(allUp)")
        #expect(oneDown > 3 * roundRobin, "reputation \(oneDown) vs round-robin \(roundRobin)")
    }

    @Test func aValidatorThatComesBackLeadsAgain() {
        for seed: UInt64 in 0..<4 {
            let r = run(seed: seed, crash: Crash(node: 2, at: 1_000, restart: 6_000))
            #expect(r.passed, "\(r)")
            let before = (r.authored["v2"] ?? []).filter { $0 > 2_000 && $0 < 6_000 }
            let after = (r.authored["v2"] ?? []).filter { $0 > 8_000 && $0 < Self.until }
            let total = r.authored.values.reduce(0) { $0 + $1.filter { $0 > 8_000 && $0 < Self.until }.count }
            #expect(before.isEmpty, "v2 led while down: \(before)")
            // Back in the rotation: about a quarter of the blocks.
            #expect(after.count * 8 >= total, "seed \(seed): v2 authored \(after.count) of \(total) blocks after its restart")
        }
    }

    @Test func allUpTheElectionIsRoundRobin() {
        // With every validator signing, the elected order is the round-robin order: no validator
        // is favoured and the pace is that of round-robin.
        let r = run(seed: 7)
        #expect(r.passed, "\(r)")
        let counts = ["v0", "v1", "v2", "v3"].map { committed(r, by: $0) }
        let total = counts.reduce(0, +)
        #expect(counts.allSatisfy { $0 * 5 >= total }, "\(counts)")
        #expect(r.timeoutCertificates.isEmpty, "rounds timed out at \(r.timeoutCertificates)")
    }
}
