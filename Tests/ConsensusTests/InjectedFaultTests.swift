import ChainTesting
import Consensus
import Foundation
import Testing

/// Each classic mistake of CONSENSUS.md, injected into every correct replica, must be caught by
/// the simulation's safety checks within a few dozen seeds. (Liveness failures do not count: the
/// point is that the *safety* checks see the bug.)
@Suite struct InjectedFaultTests {
    func firstSafetyViolation(
        _ make: (UInt64) -> Scenario, seeds: Range<UInt64>, configure: (Simulation) -> Void = { _ in }
    ) async -> SimulationReport? {
        for seed in seeds {
            await Task.yield()
            let sim = Simulation(seed: seed, scenario: make(seed))
            configure(sim)
            let report = sim.run()
            if report.unsafe { return report }
        }
        return nil
    }

    /// A scenario of the default suite's `family` for `seed`, with `faults` injected.
    static func family(_ family: String, _ seed: UInt64, _ faults: (inout InjectedFaults) -> Void) -> Scenario {
        // Without batching: these seeds were calibrated to catch each bug within a few dozen.
        var s = Scenario.random(
            seed: seed * UInt64(Scenario.families.count) + UInt64(Scenario.families.firstIndex(of: family)!), batching: false)
        faults(&s.faults)
        s.name = "bug+\(s.name)"
        return s
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
            }, seeds: 0..<150)
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

    @Test func theBrokenVoteRuleIsCaught() async {
        // A replica that votes for any valid proposal of a higher round: a leader proposing on an
        // old QC (after moving the replicas into its round) gets a conflicting block certified.
        let caught = await firstSafetyViolation(
            { _ in
                var s = Scenario(name: "bug:vote-rule")
                s.byzantine = [1: .staleQC]
                s.faults.voteWithoutJustification = true
                return s
            }, seeds: 0..<40, configure: { $0.checkVoteConduct = false })
        #expect(caught != nil)
        #expect(caught?.violations.first?.contains("does not extend") == true)
        print("broken vote rule caught: \(caught.map(\.description) ?? "never")")
    }

    @Test func ignoringTheTCHighQCRuleIsCaught() async {
        // A leader withholds the QC it formed, so the round times out; with the TC it proposes on
        // a QC older than the TC's highest: replicas without the rule certify a fork.
        let caught = await firstSafetyViolation(
            { _ in
                var s = Scenario(name: "bug:tc-high-qc")
                s.byzantine = [1: .staleTC]
                s.faults.ignoreTCHighQCRule = true
                return s
            }, seeds: 0..<40, configure: { $0.checkVoteConduct = false })
        #expect(caught != nil)
        #expect(caught?.violations.first?.contains("does not extend") == true)
        print("TC high-QC rule caught: \(caught.map(\.description) ?? "never")")
    }

    @Test func theBrokenTimeoutRuleIsCaught() async {
        // Timing out without recording the round: the replica still votes in that round.
        let caught = await firstSafetyViolation(
            { seed in Self.family("lossy", seed) { $0.timeoutWithoutRecording = true } }, seeds: 0..<40)
        #expect(caught != nil)
        print("broken timeout rule caught: \(caught.map(\.description) ?? "never")")
    }

    @Test func committingWithoutConsecutiveRoundsForks() async {
        // Not by the 2-chain justification check (off here): two consecutive leaders withhold the
        // QCs they form, so a block gets a certified child two rounds later while its certified
        // sibling survives; replicas that commit on the non-consecutive child are then contradicted.
        let caught = await firstSafetyViolation(
            { _ in
                var s = Scenario(name: "bug:commit-rule-fork")
                s.validators = 7
                s.byzantine = [1: .withhold, 2: .withhold]
                s.faults.commitWithoutConsecutiveRounds = true
                return s
            }, seeds: 0..<60, configure: { $0.checkCommitJustification = false })
        #expect(caught != nil)
        #expect(caught?.violations.first?.contains("does not extend") == true)
        print("non-consecutive commit forks: \(caught.map(\.description) ?? "never")")
    }

    @Test func theCorrectProtocolSurvivesTheSameAdversaries() async {
        for seed: UInt64 in 0..<30 {
            await Task.yield()
            for byzantine: [Int: ByzantineBehavior] in [[1: .staleQC], [1: .staleTC], [1: .forker]] {
                var s = Scenario(name: "control:forking-leaders")
                s.byzantine = byzantine
                s.dropRate = seed % 2 == 0 ? 0 : 0.05
                let report = Simulation(seed: seed, scenario: s).run()
                #expect(report.passed, "\(report)")
            }
            var s = Scenario(name: "control:withholding-leaders")
            s.validators = 7
            s.byzantine = [1: .withhold, 2: .withhold]
            let report = Simulation(seed: seed, scenario: s).run()
            #expect(report.passed, "\(report)")
        }
    }

    @Test func countingTheOldSetAfterTheSwitchIsCaught() async {
        // v1 is replaced by v4 and goes on voting in the new epoch: replicas that still count the
        // old set's votes form certificates without a quorum of the new set.
        let caught = await firstSafetyViolation(
            { _ in
                var s = Scenario(name: "bug:count-retired")
                s.byzantine = [1: .retiredVoter]
                s.reconfigurations = [Reconfiguration(at: 300, validators: [0, 4, 2, 3])]
                s.faults.countRetiredValidators = true
                return s
            }, seeds: 0..<40)
        #expect(caught != nil)
        #expect(caught?.violations.first?.contains("without a valid quorum of epoch 1") == true)
        print("counting the old set after the switch caught: \(caught.map(\.description) ?? "never")")
    }

    @Test func executingPastTheEndOfAnEpochIsCaught() async {
        // Blocks committed in the same action after the one that ended the epoch are executed
        // instead of dropped: replicas that committed the epoch's last block alone went on in the
        // new epoch from it, so the chains diverge at the next height.
        let caught = await firstSafetyViolation(
            { seed in Self.family("reconfiguration", seed) { $0.executePastEpochEnd = true } }, seeds: 0..<60)
        #expect(caught != nil)
        print("executing past the end of an epoch caught: \(caught.map(\.description) ?? "never")")
    }

    @Test func theEpochSwitchIsSafeUnderTheSameAdversaries() async {
        for seed: UInt64 in 0..<30 {
            await Task.yield()
            var s = Scenario(name: "control:epochs")
            s.byzantine = [1: seed % 2 == 0 ? .retiredVoter : .staleEpoch]
            s.reconfigurations = [
                Reconfiguration(at: 300, validators: [0, 4, 2, 3]), Reconfiguration(at: 900, validators: [0, 4, 2, 3, 5]),
            ]
            s.dropRate = seed % 3 == 0 ? 0.05 : 0
            let report = Simulation(seed: seed, scenario: s).run()
            #expect(report.passed, "\(report)")
            #expect(report.epochs.values.allSatisfy { $0 == 2 }, "\(report)")
        }
    }

    /// Exploration aid: `XC_EXPLORE=<fault>` runs every family with that fault and prints which
    /// seeds catch it (fault names as in `explorationFaults`).
    @Test func explore() async {
        guard let name = ProcessInfo.processInfo.environment["XC_EXPLORE"] else { return }
        let seeds = UInt64(ProcessInfo.processInfo.environment["XC_EXPLORE_SEEDS"] ?? "") ?? 50
        let faults: [String: (inout InjectedFaults) -> Void] = [
            "vote": { $0.voteWithoutJustification = true },
            "timeout": { $0.timeoutWithoutRecording = true },
            "commit": { $0.commitWithoutConsecutiveRounds = true },
            "tc": { $0.ignoreTCHighQCRule = true },
            "retired": { $0.countRetiredValidators = true },
            "pastEnd": { $0.executePastEpochEnd = true },
            "none": { _ in },
        ]
        guard let fault = faults[name] else { return }
        let only = ProcessInfo.processInfo.environment["XC_EXPLORE_FAMILY"]
        for family in Scenario.families where only == nil || only == family {
            var caught: [String] = []
            var liveness = 0
            for seed in 0..<seeds {
                await Task.yield()
                let sim = Simulation(seed: seed, scenario: Self.family(family, seed, fault))
                sim.checkCommitJustification = ProcessInfo.processInfo.environment["XC_NO_JUSTIFICATION"] == nil
                sim.checkVoteConduct = ProcessInfo.processInfo.environment["XC_NO_CONDUCT"] == nil
                let report = sim.run()
                if report.unsafe { caught.append("\(seed): \(report.violations[0].prefix(110))") }
                if !report.passed && !report.unsafe { liveness += 1 }
            }
            print("[\(name)] \(family): \(caught.count)/\(seeds) caught, \(liveness) liveness-only")
            for c in caught.prefix(3) { print("    \(c)") }
        }
    }
}
