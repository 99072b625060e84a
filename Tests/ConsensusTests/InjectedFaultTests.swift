import ChainTesting
import Consensus
import Testing

/// Each classic mistake of CONSENSUS.md, injected into every correct replica, must be caught by
/// the simulation's safety checks within a few dozen seeds. (Liveness failures do not count: the
/// point is that the *safety* checks see the bug.)
@Suite struct InjectedFaultTests {
    func firstSafetyViolation(_ make: (UInt64) -> Scenario, seeds: Range<UInt64>) async -> SimulationReport? {
        for seed in seeds {
            await Task.yield()
            let report = Simulation(seed: seed, scenario: make(seed)).run()
            if report.violations.contains(where: { !$0.hasPrefix("liveness") }) { return report }
        }
        return nil
    }

    @Test func votingTwiceInARoundIsCaught() async {
        let caught = await firstSafetyViolation(
            { _ in
                var s = Scenario(name: "bug:vote-twice")
                s.byzantine = [1: .equivocate]
                s.faults.voteTwiceInARound = true
                return s
            }, seeds: 0..<40)
        #expect(caught != nil)
        print("vote twice caught: \(caught.map(\.description) ?? "never")")
    }

    @Test func sendingTheVoteBeforePersistingIsCaughtByCrashes() async {
        let caught = await firstSafetyViolation(
            { _ in
                var s = Scenario(name: "bug:send-before-persist")
                s.byzantine = [1: .equivocate]
                s.faults.sendBeforePersist = true
                s.crashBetweenActions = 0.1
                s.healAt = 15_000
                return s
            }, seeds: 0..<60)
        #expect(caught != nil)
        print("send before persist caught: \(caught.map(\.description) ?? "never")")
    }

    @Test func theSameCrashesAreHarmlessWhenPersistingFirst() async {
        for seed: UInt64 in 0..<20 {
            await Task.yield()
            var s = Scenario(name: "control:persist-first")
            s.byzantine = [1: .equivocate]
            s.crashBetweenActions = 0.05
            s.healAt = 15_000
            let report = Simulation(seed: seed, scenario: s).run()
            #expect(report.passed, "\(report)")
        }
    }

    @Test func committingWithoutConsecutiveRoundsIsCaught() async {
        let caught = await firstSafetyViolation(
            { _ in
                var s = Scenario(name: "bug:commit-without-2-chain")
                s.byzantine = [2: .silent]
                s.dropRate = 0.1
                s.faults.commitWithoutConsecutiveRounds = true
                return s
            }, seeds: 0..<40)
        #expect(caught != nil)
        print("non-consecutive commit caught: \(caught.map(\.description) ?? "never")")
    }

    @Test func acceptingSubQuorumCertificatesIsCaught() async {
        let caught = await firstSafetyViolation(
            { _ in
                var s = Scenario(name: "bug:small-quorum")
                s.byzantine = [3: .garbage]
                s.faults.acceptCertificatesWith = 1
                return s
            }, seeds: 0..<40)
        #expect(caught != nil)
        print("sub-quorum certificate caught: \(caught.map(\.description) ?? "never")")
    }
}
