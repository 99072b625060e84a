import Consensus

/// How a Byzantine replica misbehaves (it runs the protocol and tampers with what it sends).
public enum ByzantineBehavior: String, Sendable, CaseIterable {
    /// As leader, sends two different valid proposals for the same round to two halves of the network.
    case equivocate
    /// Votes for its block and also for a block nobody proposed, in every round.
    case doubleVote
    /// Sends random bytes, corrupted signatures and proposals with forged (sub-quorum) certificates.
    case garbage
    /// Sends nothing at all.
    case silent
}

/// A network split: replicas in different groups cannot talk from `start` to `end` (ms).
public struct Partition: Sendable {
    /// Groups of replica indices.
    public var groups: [[Int]]
    /// Start, simulated ms.
    public var start: Int
    /// End (the heal), simulated ms.
    public var end: Int
}

/// A crash of replica `node` at `at` ms; it restarts from its disk at `restart` ms.
public struct Crash: Sendable {
    /// Replica index.
    public var node: Int
    /// Crash time.
    public var at: Int
    /// Restart time.
    public var restart: Int
}

/// One simulated run: network behaviour, faults, and when the network becomes good again.
public struct Scenario: Sendable, CustomStringConvertible {
    /// Scenario family name, for reports.
    public var name: String
    /// Number of validators.
    public var validators = 4
    /// Byzantine replicas by index (at most f of them).
    public var byzantine: [Int: ByzantineBehavior] = [:]
    /// Bugs injected into every correct replica (to prove the checks catch them).
    public var faults = InjectedFaults()
    /// Message delay range, ms.
    public var delay: ClosedRange<Int> = 5...60
    /// Probability a message is lost (before `healAt`).
    public var dropRate = 0.0
    /// Probability a message is delivered twice.
    public var duplicateRate = 0.0
    /// Network splits.
    public var partitions: [Partition] = []
    /// Scheduled crashes.
    public var crashes: [Crash] = []
    /// Probability that a correct replica crashes in the middle of carrying out its actions (before `healAt`).
    public var crashBetweenActions = 0.0
    /// From this time on: no drops, no partitions, every replica up.
    public var healAt = 3_000
    /// After `healAt`, every correct replica must commit `commitsAfterHeal` new blocks within this many ms.
    public var livenessWindow = 60_000
    /// New commits each correct replica must make after the heal.
    public var commitsAfterHeal = 3
    /// Consensus timing.
    public var baseTimeoutMs = 600

    /// A scenario named `name` with defaults.
    public init(name: String) { self.name = name }

    public var description: String {
        var parts = ["\(name) n=\(validators)"]
        if !byzantine.isEmpty {
            parts.append("byzantine=\(byzantine.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.rawValue)" })")
        }
        if dropRate > 0 { parts.append("drop=\(dropRate)") }
        if duplicateRate > 0 { parts.append("dup=\(duplicateRate)") }
        if !partitions.isEmpty { parts.append("partitions=\(partitions.map { "\($0.groups)@\($0.start)-\($0.end)" })") }
        if !crashes.isEmpty { parts.append("crashes=\(crashes.map { "\($0.node)@\($0.at)-\($0.restart)" })") }
        if crashBetweenActions > 0 { parts.append("crashBetweenActions=\(crashBetweenActions)") }
        parts.append("heal@\(healAt)")
        return parts.joined(separator: " ")
    }

    /// The scenario families the seed suite draws from.
    public static let families = [
        "happy", "lossy", "partition", "crash-restart", "equivocating-leader", "double-voter", "garbage", "silent-leader",
        "chaos",
    ]

    /// A scenario derived entirely from `seed`.
    public static func random(seed: UInt64) -> Scenario {
        var rng = SeededGenerator(seed: seed ^ 0x5EED)
        let family = families[Int(seed % UInt64(families.count))]
        var s = Scenario(name: family)
        s.validators = rng.chance(0.2) ? 7 : 4
        let n = s.validators
        let f = (n - 1) / 3
        s.delay = 1...Int.random(in: 20...150, using: &rng)
        s.healAt = Int.random(in: 2_000...8_000, using: &rng)
        func randomByzantine(_ behavior: ByzantineBehavior) {
            var picked = Set<Int>()
            while picked.count < Int.random(in: 1...f, using: &rng) { picked.insert(Int.random(in: 0..<n, using: &rng)) }
            for i in picked.sorted() { s.byzantine[i] = behavior }
        }
        func randomPartition() {
            let cut = Int.random(in: 1..<n, using: &rng)
            let order = (0..<n).shuffled(using: &rng)
            let start = Int.random(in: 0...s.healAt / 2, using: &rng)
            s.partitions.append(Partition(groups: [Array(order[..<cut]), Array(order[cut...])], start: start, end: s.healAt))
        }
        func randomCrashes(_ count: Int) {
            for _ in 0..<count {
                let at = Int.random(in: 0...s.healAt, using: &rng)
                s.crashes.append(
                    Crash(
                        node: Int.random(in: 0..<n, using: &rng), at: at,
                        restart: min(s.healAt, at + Int.random(in: 100...3_000, using: &rng))))
            }
        }
        switch family {
        case "lossy":
            s.dropRate = Double.random(in: 0.05...0.3, using: &rng)
            s.duplicateRate = Double.random(in: 0...0.1, using: &rng)
        case "partition":
            randomPartition()
            if rng.chance(0.5) { randomPartition() }
        case "crash-restart":
            randomCrashes(Int.random(in: 1...3, using: &rng))
            s.crashBetweenActions = Double.random(in: 0...0.01, using: &rng)
        case "equivocating-leader": randomByzantine(.equivocate)
        case "double-voter": randomByzantine(.doubleVote)
        case "garbage": randomByzantine(.garbage)
        case "silent-leader": randomByzantine(.silent)
        case "chaos":
            randomByzantine(ByzantineBehavior.allCases.randomElement(using: &rng)!)
            s.dropRate = Double.random(in: 0...0.2, using: &rng)
            s.duplicateRate = Double.random(in: 0...0.05, using: &rng)
            randomPartition()
            randomCrashes(1)
            s.crashBetweenActions = 0.005
        default: break
        }
        return s
    }
}
