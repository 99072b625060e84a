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
    /// As leader, proposes a block on an old QC (the genesis QC or an older certified block),
    /// without a TC, to some replicas or all.
    case staleQC
    /// As leader of a round entered by timeout, proposes on a QC older than the TC's highest QC,
    /// attaching that TC.
    case staleTC
    /// Withholds its proposals (and the QC inside) from some or all replicas and releases them
    /// late, after the round may have timed out.
    case withhold
    /// Every fork attempt, chosen at random each round: stale QC, stale TC, equivocation,
    /// withholding; votes for every proposal it sees and times out claiming an old QC.
    case forker
    /// Ignores changes of the validator set: goes on in the epoch it started in (proposing,
    /// voting and timing out there) as if nothing had changed.
    case staleEpoch
    /// Once removed from the validator set, goes on signing votes for every block of the new
    /// epoch it sees (they must not count).
    case retiredVoter

    /// The behaviours that try to fork the chain (they need the adversary's view of certificates).
    public var forks: Bool { [.staleQC, .staleTC, .withhold, .forker].contains(self) }

    /// The behaviours of the seed suite's Byzantine families (the epoch ones need reconfigurations).
    public static var withoutEpochs: [ByzantineBehavior] { allCases.filter { $0 != .staleEpoch && $0 != .retiredVoter } }
}

/// A change of the validator set, proposed by leaders from `at` ms on until a block carrying it
/// is committed and executed: that block ends the epoch, and the next one has `validators`.
public struct Reconfiguration: Sendable {
    /// When leaders start proposing it, simulated ms.
    public var at: Int
    /// The new set, as identity indices (`v0`, `v1`, …) in leader order.
    public var validators: [Int]

    /// A change to `validators` from `at` on.
    public init(at: Int, validators: [Int]) {
        self.at = at
        self.validators = validators
    }
}

/// A network split: replicas in different groups cannot talk from `start` to `end` (ms).
public struct Partition: Sendable {
    /// Groups of node indices.
    public var groups: [[Int]]
    /// Start, simulated ms.
    public var start: Int
    /// End (the heal), simulated ms.
    public var end: Int

    /// A split of `groups` from `start` to `end`.
    public init(groups: [[Int]], start: Int, end: Int) {
        self.groups = groups
        self.start = start
        self.end = end
    }
}

/// A crash of node `node` at `at` ms; it restarts from its disk at `restart` ms.
public struct Crash: Sendable {
    /// Node index.
    public var node: Int
    /// Crash time.
    public var at: Int
    /// Restart time.
    public var restart: Int

    /// A crash of `node` at `at`, restarted at `restart`.
    public init(node: Int, at: Int, restart: Int) {
        self.node = node
        self.at = at
        self.restart = restart
    }
}

/// One simulated run: network behaviour, faults, and when the network becomes good again.
///
/// Nodes are numbered: `0..<validators` run the validators' identities `v0…`; with `twins`,
/// node `validators + k` is a second instance of validator `twins[k]` (same key, same id), as in
/// the Twins method: both instances run the correct protocol, and partitions that put them on
/// both sides turn them into an equivocating validator.
public struct Scenario: Sendable, CustomStringConvertible {
    /// Scenario family name, for reports.
    public var name: String
    /// Number of validators.
    public var validators = 4
    /// Byzantine replicas by node index (at most f of them, twins included).
    public var byzantine: [Int: ByzantineBehavior] = [:]
    /// Validators (by index) that run twice: a second node with the same key and identity.
    public var twins: [Int] = []
    /// Bugs injected into every correct replica (to prove the checks catch them).
    public var faults = InjectedFaults()
    /// Message delay range, ms.
    public var delay: ClosedRange<Int> = 5...60
    /// Probability a message is lost (before `healAt`).
    public var dropRate = 0.0
    /// Probability a message is delivered twice.
    public var duplicateRate = 0.0
    /// Network splits in time.
    public var partitions: [Partition] = []
    /// Splits by round, as in Twins: a proposal, vote or timeout of round r only reaches nodes in
    /// the sender's group of `roundPartitions[r]` (before `healAt`; rounds not listed are connected).
    public var roundPartitions: [UInt64: [[Int]]] = [:]
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
    /// Changes of the validator set, in order (the first starts epoch 1).
    public var reconfigurations: [Reconfiguration] = []
    /// Times (ms) at which a transaction reaches every node's mempool. With any, payloads hold
    /// only the pending transactions (a block without them is empty), and a leader with nothing to
    /// propose defers for `emptyProposalDelayMs`.
    public var transactions: [Int] = []
    /// `ConsensusConfig.emptyProposalDelayMs` of every replica.
    public var emptyProposalDelayMs = 0
    /// `ConsensusConfig.reputationWindow` of every replica (0: plain round-robin leaders).
    public var reputationWindow = ConsensusConfig().reputationWindow
    /// `ConsensusConfig.minBlockIntervalMs` of every replica (0: batching off). With it, blocks
    /// carry the simulated time as their timestamp (otherwise 0), and a payload of three or more
    /// scenario transactions counts as full (`PayloadHooks.isFull`).
    public var minBlockIntervalMs = 0

    /// A scenario named `name` with defaults.
    public init(name: String) { self.name = name }

    /// Number of identities: the first `validators` form epoch 0; reconfigurations may bring in others.
    public var identities: Int {
        max(validators, (reconfigurations.flatMap(\.validators).max() ?? 0) + 1)
    }

    /// Number of nodes (identities and twins).
    public var nodes: Int { identities + twins.count }

    public var description: String {
        var parts = ["\(name) n=\(validators)"]
        if !byzantine.isEmpty {
            parts.append("byzantine=\(byzantine.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.rawValue)" })")
        }
        if !twins.isEmpty { parts.append("twins=\(twins)") }
        if dropRate > 0 { parts.append("drop=\(dropRate)") }
        if duplicateRate > 0 { parts.append("dup=\(duplicateRate)") }
        if !partitions.isEmpty { parts.append("partitions=\(partitions.map { "\($0.groups)@\($0.start)-\($0.end)" })") }
        if !roundPartitions.isEmpty {
            parts.append("roundPartitions=\(roundPartitions.sorted { $0.key < $1.key }.map { "r\($0.key):\($0.value)" })")
        }
        if !crashes.isEmpty { parts.append("crashes=\(crashes.map { "\($0.node)@\($0.at)-\($0.restart)" })") }
        if !reconfigurations.isEmpty { parts.append("reconfigurations=\(reconfigurations.map { "\($0.validators)@\($0.at)" })") }
        if crashBetweenActions > 0 { parts.append("crashBetweenActions=\(crashBetweenActions)") }
        if minBlockIntervalMs > 0 { parts.append("batching=\(minBlockIntervalMs)ms") }
        if !transactions.isEmpty { parts.append("txs=\(transactions.count) emptyDelay=\(emptyProposalDelayMs)ms") }
        parts.append("heal@\(healAt)")
        return parts.joined(separator: " ")
    }

    /// The scenario families the seed suite draws from.
    public static let families = [
        "happy", "lossy", "partition", "crash-restart", "equivocating-leader", "double-voter", "garbage", "silent-leader",
        "chaos", "twins", "forking-leader", "reconfiguration",
    ]

    /// A scenario derived entirely from `seed`.
    /// Every family but twins runs with batching under load (`minBlockIntervalMs`) for half the
    /// seeds (`batching`: unless false): an interval below, near and above half the round timeout
    /// (where it is capped), and for half of those a stream of transactions in bursts with quiet
    /// between, so that payloads go empty (a deferred proposal, `emptyProposalDelayMs`), are woken,
    /// batched and full. Drawn from a generator of its own, so that the rest of a seed's scenario
    /// is what it was before.
    public static func random(seed: UInt64, batching: Bool = true) -> Scenario {
        let family = families[Int(seed % UInt64(families.count))]
        if family == "twins" { return twins(seed: seed) }
        var s = family == "reconfiguration" ? reconfiguration(seed: seed) : faulty(seed: seed, family: family)
        var rng = SeededGenerator(seed: seed ^ 0xBA7C)
        guard batching, rng.chance(0.5) else { return s }
        s.minBlockIntervalMs = [50, 100, 250, 1_000].randomElement(using: &rng)!
        if rng.chance(0.5) {
            s.emptyProposalDelayMs = Int.random(in: 100...400, using: &rng)
            var t = Int.random(in: 50...500, using: &rng)
            while t < s.healAt + 2_000 {
                for _ in 0..<Int.random(in: 1...5, using: &rng) {
                    s.transactions.append(t)
                    t += Int.random(in: 0...20, using: &rng)
                }
                t += Int.random(in: 100...1_500, using: &rng)
            }
        }
        return s
    }

    /// A scenario of one of the fault families (not twins, not reconfiguration).
    static func faulty(seed: UInt64, family: String) -> Scenario {
        var rng = SeededGenerator(seed: seed ^ 0x5EED)
        var s = Scenario(name: family)
        s.validators = rng.chance(0.2) ? 7 : 4
        let n = s.validators
        let f = (n - 1) / 3
        s.delay = 1...Int.random(in: 20...150, using: &rng)
        s.healAt = Int.random(in: 2_000...8_000, using: &rng)
        func randomByzantine(_ behavior: ByzantineBehavior) {
            var picked = Set<Int>()
            let count = Int.random(in: 1...f, using: &rng)
            while picked.count < count { picked.insert(Int.random(in: 0..<n, using: &rng)) }
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
        case "forking-leader":
            let forkers: [ByzantineBehavior] = [.staleQC, .staleTC, .withhold, .forker]
            if f >= 2, rng.chance(0.5) {
                // Two consecutive leaders: one withholds a QC and proposes a sibling, the next
                // withholds that sibling's QC and builds on the first: the shape a non-consecutive
                // commit needs to become a fork.
                let first = Int.random(in: 0..<n, using: &rng)
                s.byzantine[first] = forkers.randomElement(using: &rng)!
                s.byzantine[(first + 1) % n] = forkers.randomElement(using: &rng)!
            } else {
                randomByzantine(forkers.randomElement(using: &rng)!)
            }
            // Timeouts are what give a stale-TC leader its TC: make some rounds fail.
            s.dropRate = rng.chance(0.7) ? Double.random(in: 0.02...0.2, using: &rng) : 0
            if rng.chance(0.3) { randomPartition() }
            if rng.chance(0.3) { randomCrashes(1) }
        case "chaos":
            randomByzantine(ByzantineBehavior.withoutEpochs.randomElement(using: &rng)!)
            s.dropRate = Double.random(in: 0...0.2, using: &rng)
            s.duplicateRate = Double.random(in: 0...0.05, using: &rng)
            randomPartition()
            randomCrashes(1)
            s.crashBetweenActions = 0.005
        default: break
        }
        return s
    }

    /// A scenario with one to three changes of the validator set (add, remove, replace), under
    /// delays, drops, crashes, partitions and a Byzantine validator (among them one that goes on
    /// in the old epoch, and one that goes on voting after it was removed).
    public static func reconfiguration(seed: UInt64) -> Scenario {
        var rng = SeededGenerator(seed: seed ^ 0xE90C)
        var s = Scenario(name: "reconfiguration")
        s.validators = rng.chance(0.2) ? 7 : 4
        s.delay = 1...Int.random(in: 20...120, using: &rng)
        s.healAt = Int.random(in: 3_000...8_000, using: &rng)
        var set = Array(0..<s.validators)
        var next = s.validators
        var at = Int.random(in: 100...1_500, using: &rng)
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            switch Int.random(in: 0..<3, using: &rng) {
            case 0 where set.count < 8:
                set.append(next)
                next += 1
            case 1 where set.count > 4:
                set.remove(at: Int.random(in: 0..<set.count, using: &rng))
            default:
                set[Int.random(in: 0..<set.count, using: &rng)] = next
                next += 1
            }
            s.reconfigurations.append(Reconfiguration(at: at, validators: set))
            at += Int.random(in: 200...2_000, using: &rng)
        }
        if rng.chance(0.3) { s.dropRate = Double.random(in: 0.01...0.15, using: &rng) }
        if rng.chance(0.3) {
            let n = s.identities
            let cut = Int.random(in: 1..<n, using: &rng)
            let order = (0..<n).shuffled(using: &rng)
            let start = Int.random(in: 0...s.healAt / 2, using: &rng)
            s.partitions.append(Partition(groups: [Array(order[..<cut]), Array(order[cut...])], start: start, end: s.healAt))
        }
        if rng.chance(0.3) {
            let crashAt = Int.random(in: 0...s.healAt, using: &rng)
            s.crashes.append(
                Crash(
                    node: Int.random(in: 0..<s.identities, using: &rng), at: crashAt,
                    restart: min(s.healAt, crashAt + Int.random(in: 100...3_000, using: &rng))))
        }
        if rng.chance(0.5) {
            // One Byzantine validator of the first set (the smallest set keeps at most f of them).
            let behaviors: [ByzantineBehavior] = [.staleEpoch, .retiredVoter, .equivocate, .silent, .forker]
            s.byzantine[Int.random(in: 0..<s.validators, using: &rng)] = behaviors.randomElement(using: &rng)!
        }
        return s
    }

    /// A Twins scenario from `seed`: one validator (two of seven) runs twice, and for the first
    /// rounds each round has its own partition that puts the two instances of each twin on
    /// different sides, drawn from `twinsPartitions`.
    public static func twins(seed: UInt64) -> Scenario {
        var rng = SeededGenerator(seed: seed ^ 0x7715)
        var s = Scenario(name: "twins")
        s.validators = rng.chance(0.25) ? 7 : 4
        let n = s.validators
        let f = (n - 1) / 3
        var twinned = Set<Int>()
        let count = Int.random(in: 1...f, using: &rng)
        while twinned.count < count { twinned.insert(Int.random(in: 0..<n, using: &rng)) }
        s.twins = twinned.sorted()
        let choices = twinsPartitions(validators: n, twins: s.twins)
        let rounds = Int.random(in: 3...8, using: &rng)
        for r in 1...rounds where rng.chance(0.85) {
            s.roundPartitions[UInt64(r)] = choices.randomElement(using: &rng)!
        }
        s.delay = 1...Int.random(in: 20...100, using: &rng)
        s.healAt = Int.random(in: 2_500...6_000, using: &rng)
        if rng.chance(0.3) { s.dropRate = Double.random(in: 0.01...0.1, using: &rng) }
        return s
    }

    /// The two-sided partitions of Twins: each twin's two instances on different sides, every other
    /// node on one side or the other (both sides non-empty besides the twins).
    public static func twinsPartitions(validators n: Int, twins: [Int]) -> [[[Int]]] {
        let others = (0..<n).filter { !twins.contains($0) }
        var result: [[[Int]]] = []
        for mask in 0..<(1 << others.count) {
            var left = twins
            var right = twins.indices.map { n + $0 }
            for (k, node) in others.enumerated() {
                if mask & (1 << k) != 0 { left.append(node) } else { right.append(node) }
            }
            result.append([left.sorted(), right.sorted()])
        }
        return result
    }

    /// The `index`-th Twins schedule of a systematic enumeration: validator `twin` of `validators`
    /// runs twice, and each of `rounds` rounds takes one of `twinsPartitions` (mixed radix over
    /// `index`), as the Twins paper enumerates small partition schedules.
    public static func enumeratedTwins(index: Int, validators: Int = 4, twin: Int, rounds: Int) -> Scenario {
        var s = Scenario(name: "twins-enumerated")
        s.validators = validators
        s.twins = [twin]
        let choices = twinsPartitions(validators: validators, twins: [twin])
        var rest = index
        for r in 1...rounds {
            s.roundPartitions[UInt64(r)] = choices[rest % choices.count]
            rest /= choices.count
        }
        s.delay = 5...40
        s.healAt = 3_000
        return s
    }

    /// How many schedules `enumeratedTwins` has for these sizes.
    public static func enumeratedTwinsCount(validators: Int = 4, rounds: Int) -> Int {
        var c = 1
        for _ in 0..<rounds { c *= twinsPartitions(validators: validators, twins: [0]).count }
        return c
    }
}
