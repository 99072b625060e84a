import ChainCore
import Consensus
import Synchronization

/// What a simulated run found.
public struct SimulationReport: Sendable, CustomStringConvertible {
    /// The seed that replays this run.
    public let seed: UInt64
    /// The scenario it ran.
    public let scenario: Scenario
    /// Safety or liveness violations; empty when the run passed.
    public let violations: [String]
    /// Committed height of each correct replica at the end.
    public let heights: [String: UInt64]
    /// Epoch of each correct replica at the end.
    public let epochs: [String: UInt64]
    /// Messages sent.
    public let messages: Int
    /// Simulated time at the end, ms.
    public let endTime: Int
    /// Per scenario transaction (by index), ms from its arrival until every correct node executed it.
    public var transactionLatencies: [Int: Int] = [:]
    /// Per author, the simulated times (ms) at which its blocks were first committed by a correct node.
    public var authored: [String: [Int]] = [:]
    /// When each TC (a round that ended by timeout) was first seen on the network, simulated ms.
    public var timeoutCertificates: [Int] = []
    /// Proposals a leader put off (`scheduleProposal`: an empty payload waiting, or batching).
    public var proposalsPutOff = 0

    /// True when no violation was found.
    public var passed: Bool { violations.isEmpty }

    /// True when a safety check (not only liveness) failed.
    public var unsafe: Bool { violations.contains { !$0.hasPrefix("liveness") && !$0.hasPrefix("event budget") } }

    public var description: String {
        "seed \(seed) [\(scenario)] \(passed ? "passed" : "FAILED: \(violations.prefix(3).joined(separator: "; "))") "
            + "heights=\(heights.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")) "
            + (epochs.values.contains { $0 > 0 }
                ? "epochs=\(epochs.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")) " : "")
            + "messages=\(messages) t=\(endTime)ms"
    }
}

/// A round of an epoch.
struct EpochRound: Hashable {
    var epoch: UInt64
    var round: UInt64
}

/// A deterministic simulation of a whole validator network from one seed: an in-memory network
/// with random delays, drops, duplicates, reordering and partitions that heal (in time, or per
/// round as in Twins); crashes and restarts from each node's persisted state; Byzantine
/// replicas, including twins (two correct instances of one validator) and leaders that try to
/// fork; changes of the validator set by committed payloads (epochs). Each node runs an
/// `EpochManager` driven exactly as a node drives it. It checks safety after every commit and
/// message, and liveness after the network heals.
///
/// Checks: no two correct replicas commit different blocks at one height (across epochs); every
/// block a quorum certified, in a round at or above a directly committed block's round of its
/// epoch, extends that block (the lemma of the safety argument, so a broken rule is seen even when
/// no replica goes on to commit the fork); every commit is backed by a valid quorum certificate
/// of the committing epoch's validator set on a child one round later (2-chain), and commits only
/// blocks of that epoch; all correct replicas end each epoch at the same block with the same next
/// set; no correct replica sends two different votes in a round, or votes in a round it timed out
/// in; no two quorum certificates certify different blocks in one round.
public final class Simulation {
    enum Event {
        case deliver(to: Int, from: Int, bytes: [UInt8])
        case timer(node: Int, round: UInt64, epoch: UInt64, incarnation: Int)
        case crash(Int)
        case restart(Int)
        case noise(Int)
        /// A Byzantine leader that withheld its proposal checks whether the round timed out.
        case adversary(node: Int, block: ConsensusBlock, until: Int, legal: Bool)
        case proposalDue(node: Int, round: UInt64, epoch: UInt64, incarnation: Int)
        case transaction(Int)
    }

    /// A crash in the middle of an action list.
    struct Crashed: Error {}

    /// The seed.
    public let seed: UInt64
    /// The scenario.
    public let scenario: Scenario
    var rng: SeededGenerator
    /// Identities, by index (`v0`, …): the first `scenario.validators` form epoch 0.
    let ids: [String]
    /// The identity each node runs (twins share one).
    let nodeID: [String]
    let genesisID: Hash256
    /// Crypto by identity index.
    let cryptos: [SimCrypto]
    let config: ConsensusConfig
    /// What each node's leader adds to its next payload (a reconfiguration command).
    let payloadExtra: [PayloadExtra]

    var managers: [EpochManager<SimCrypto>?]
    var incarnation: [Int]
    // Each node's disk.
    var disk: [SafetyData?]
    var diskCommitted: [ConsensusBlock]
    var diskBlocks: [[Hash256: ConsensusBlock]]
    /// Each node's store of committed blocks, from which it answers fetches its replica cannot
    /// (after a restart the replica holds only its last committed block), as the node does.
    var diskChain: [[Hash256: ConsensusBlock]]
    /// The epoch each node's executed chain is in, and how the earlier ones ended.
    var diskEpoch: [EpochInfo]
    var diskEnded: [[EpochEnd]]
    /// Reconfigurations each node has executed.
    var applied: [Int]
    /// Scenario transactions in each node's mempool, and when each node executed each one.
    var mempool: [Set<Int>]
    var executedTx: [Int: [Int: Int]] = [:]
    /// Blocks committed so far by some correct node, and when each author's were.
    var committedIDs: Set<Hash256> = []
    var authored: [String: [Int]] = [:]
    var tcTimes: [Int] = []
    var queue = EventQueue<Event>()
    var now = 0
    /// `scheduleProposal` actions carried out.
    var proposalsPutOff = 0
    /// `now`, for the hooks (which must be `Sendable`).
    let clock = SimClock()
    var messages = 0
    var processed = 0

    // The oracle's view: every block and certificate that crossed the network.
    /// The epochs as the first correct node to enter each saw them; every other must agree.
    var epochs: [UInt64: EpochInfo] = [:]
    var canonical: [UInt64: Hash256] = [:]
    /// Blocks committed directly (the parent of a commit's QC block), by epoch, ordered by round.
    var directlyCommitted: [UInt64: [(round: UInt64, block: ConsensusBlock)]] = [:]
    var directlyCommittedIDs: Set<Hash256> = []
    var allBlocks: [Hash256: ConsensusBlock] = [:]
    var qcByRound: [EpochRound: Hash256] = [:]
    var certified: [(epoch: UInt64, round: UInt64, id: Hash256)] = []
    var seenQCs: Set<QuorumCertificate> = []
    var validQCs: Set<QuorumCertificate> = []
    var votesSent: [Int: [EpochRound: Hash256]] = [:]
    var timedOut: [Int: Set<EpochRound>] = [:]
    var violations: [String] = []
    var heightAtHeal: [Int: UInt64] = [:]
    /// Height at which each node entered the last epoch of the scenario.
    var heightAtFinalEpoch: [Int: UInt64] = [:]
    var healed = false

    // The adversary's view (it sees the network, as an adversary that controls it would).
    var knownQCs: [QuorumCertificate] = []
    var knownQCIDs: Set<Hash256> = []
    var knownTCs: [EpochRound: TimeoutCertificate] = [:]
    var timeoutPool: [EpochRound: [String: TimeoutSignature]] = [:]
    var votePool: [VoteData: [String: SignerSignature]] = [:]
    var proposalPlans: [Int: [Hash256: [Int: [(ConsensusMessage, Int)]]]] = [:]
    var timeoutLies: [Int: [EpochRound: TimeoutMessage]] = [:]
    var adversaryVotes: [Int: Set<Hash256>] = [:]

    /// Most events processed before the run is declared stuck.
    public var eventBudget = 3_000_000
    /// Prints every event and action (for replaying one seed by hand).
    public var trace = false
    /// Whether each commit is checked for its 2-chain justification. Off, a broken commit rule
    /// must show up as a fork or a certified conflict instead.
    public var checkCommitJustification = true
    /// Whether correct replicas' votes are checked one by one (two votes in a round, a vote after
    /// a timeout). Off, a broken vote or timeout rule must show up as a fork or certified conflict.
    public var checkVoteConduct = true

    /// A run of `scenario` (by default the one `seed` picks).
    public init(seed: UInt64, scenario: Scenario? = nil) {
        self.seed = seed
        let scenario = scenario ?? Scenario.random(seed: seed)
        self.scenario = scenario
        rng = SeededGenerator(seed: seed)
        let names = (0..<scenario.identities).map { "v\($0)" }
        ids = names
        nodeID = names + scenario.twins.map { names[$0] }
        genesisID = Hash256.sha256(Array("sim-genesis-\(seed)".utf8))
        cryptos = names.map { SimCrypto(selfID: $0, ids: names) }
        var c = ConsensusConfig()
        c.baseTimeoutMs = scenario.baseTimeoutMs
        c.emptyProposalDelayMs = scenario.emptyProposalDelayMs
        c.reputationWindow = scenario.reputationWindow
        c.minBlockIntervalMs = scenario.minBlockIntervalMs
        config = c
        let count = scenario.nodes
        payloadExtra = (0..<count).map { _ in PayloadExtra() }
        managers = Array(repeating: nil, count: count)
        incarnation = Array(repeating: 0, count: count)
        disk = Array(repeating: nil, count: count)
        diskCommitted = Array(repeating: .genesis(genesisID), count: count)
        diskBlocks = Array(repeating: [:], count: count)
        diskChain = Array(repeating: [:], count: count)
        let first = EpochInfo.genesis(
            validators: SimCrypto.validatorSet(Array(names.prefix(scenario.validators))), genesisID: genesisID)
        diskEpoch = Array(repeating: first, count: count)
        diskEnded = Array(repeating: [], count: count)
        applied = Array(repeating: 0, count: count)
        mempool = Array(repeating: [], count: count)
        epochs[0] = first
        if scenario.reconfigurations.isEmpty {
            for i in 0..<count { heightAtFinalEpoch[i] = 0 }
        }
    }

    /// Nodes that run the correct protocol with an identity of their own: the ones checked.
    func isCorrect(_ i: Int) -> Bool {
        i < ids.count && scenario.byzantine[i] == nil && !scenario.twins.contains(i)
    }

    func crypto(_ i: Int) -> SimCrypto { cryptos[i < ids.count ? i : scenario.twins[i - ids.count]] }

    /// The replica a node runs now (nil while it is down).
    func replica(_ i: Int) -> Replica<SimCrypto>? { managers[i]?.replica }

    /// The validator set of `epoch`, as the oracle knows it.
    func set(of epoch: UInt64) -> ValidatorSet? { epochs[epoch]?.validators }

    func makeManager(_ i: Int) -> EpochManager<SimCrypto> {
        let me = nodeID[i]
        let extra = payloadExtra[i]
        let marker = Array("|".utf8)
        let idle = !scenario.transactions.isEmpty
        // Block timestamps are the simulated time when batching is on (it waits on them), and 0
        // otherwise (as every seed before batching ran).
        let clock = self.clock
        let batching = scenario.minBlockIntervalMs > 0
        let hooks = PayloadHooks(
            make: { round, _ in Array("\(me)/\(round)".utf8) + extra.bytes.withLock { $0 } },
            now: { batching ? clock.ms.withLock { $0 } : 0 },
            isEmpty: { payload in idle && !payload.contains(marker[0]) },
            isFull: { payload in batching && Simulation.transactions(in: payload).count >= 3 })
        let c = crypto(i)
        return EpochManager(
            current: diskEpoch[i], ended: diskEnded[i], makeCrypto: { _ in c }, config: config, hooks: hooks, safety: disk[i],
            committed: diskCommitted[i],
            storedBlocks: diskBlocks[i].values.sorted { $0.height < $1.height || ($0.height == $1.height && $0.id < $1.id) },
            faults: isCorrect(i) ? scenario.faults : InjectedFaults())
    }

    /// Runs to the end: until every correct replica made its commits after the heal, a
    /// violation, or the liveness window closes.
    public func run() -> SimulationReport {
        for c in scenario.crashes {
            queue.push(.crash(c.node), at: c.at)
            queue.push(.restart(c.node), at: c.restart)
        }
        for (i, b) in scenario.byzantine.sorted(by: { $0.key < $1.key }) where b == .garbage {
            queue.push(.noise(i), at: 50 + i)
        }
        for (k, at) in scenario.transactions.enumerated() { queue.push(.transaction(k), at: at) }
        for i in nodeID.indices {
            managers[i] = makeManager(i)
            step(i, .start)
        }
        let deadline = scenario.healAt + scenario.livenessWindow
        while violations.isEmpty, let (time, event) = queue.pop() {
            if !healed, time >= scenario.healAt { heal() }
            if time > deadline { break }
            now = time
            clock.ms.withLock { $0 = Int64(time) }
            processed += 1
            if processed > eventBudget {
                violations.append("event budget of \(eventBudget) exhausted at t=\(now)")
                break
            }
            switch event {
            case .deliver(let to, let from, let bytes):
                guard managers[to] != nil, let message = try? ConsensusMessage.decode(bytes, hasher: .sha256) else { continue }
                if let b = scenario.byzantine[to], case .proposal(let block, _) = message {
                    if b.forks { adversaryVote(to, for: block) }
                    if b == .retiredVoter, let m = managers[to], !m.replica.isVoter, block.epoch == m.current.epoch {
                        adversaryVote(to, for: block)
                    }
                }
                step(to, .message(from: nodeID[from], message))
            case .timer(let node, let round, let epoch, let inc):
                guard inc == incarnation[node], managers[node] != nil else { continue }
                step(node, .timer(round: round, epoch: epoch))
            case .crash(let node): crash(node)
            case .restart(let node): restart(node)
            case .noise(let node):
                sendNoise(node)
                if now < deadline { queue.push(.noise(node), at: now + Int.random(in: 50...400, using: &rng)) }
            case .adversary(let node, let block, let until, let legal):
                proposeAfterWithholding(node, block, until: until, legal: legal)
            case .proposalDue(let node, let round, let epoch, let inc):
                guard inc == incarnation[node], managers[node] != nil else { continue }
                step(node, .proposalDue(round: round, epoch: epoch))
            case .transaction(let k):
                // It reaches every mempool (gossip); each driver tells its replica.
                for i in nodeID.indices {
                    mempool[i].insert(k)
                    step(i, .payloadReady)
                }
            }
            if healed, livenessReached() { break }
        }
        if violations.isEmpty, !livenessReached() {
            if !healed { heal() }
            let last = UInt64(scenario.reconfigurations.count)
            for i in nodeID.indices where isCorrect(i) {
                let h = diskCommitted[i].height
                let from = max(heightAtHeal[i, default: 0], heightAtFinalEpoch[i] ?? h)
                if diskEpoch[i].epoch < last {
                    violations.append("liveness: \(nodeID[i]) is in epoch \(diskEpoch[i].epoch), the last is \(last)")
                } else if h < from + UInt64(scenario.commitsAfterHeal) {
                    violations.append(
                        "liveness: \(nodeID[i]) committed \(h - min(h, from)) blocks in the \(scenario.livenessWindow) ms after the heal"
                    )
                }
            }
        }
        var heights: [String: UInt64] = [:]
        var epochsReached: [String: UInt64] = [:]
        for i in nodeID.indices where isCorrect(i) {
            heights[nodeID[i]] = diskCommitted[i].height
            epochsReached[nodeID[i]] = diskEpoch[i].epoch
        }
        var report = SimulationReport(
            seed: seed, scenario: scenario, violations: violations, heights: heights, epochs: epochsReached,
            messages: messages, endTime: now)
        report.authored = authored
        report.timeoutCertificates = tcTimes
        report.proposalsPutOff = proposalsPutOff
        for (k, at) in scenario.transactions.enumerated() {
            let times = nodeID.indices.filter(isCorrect).map { executedTx[k]?[$0] }
            if times.allSatisfy({ $0 != nil }) { report.transactionLatencies[k] = times.map { $0! }.max()! - at }
        }
        return report
    }

    func heal() {
        if trace { print("t=\(now) ---- HEAL ----") }
        healed = true
        for i in nodeID.indices where managers[i] == nil { restart(i) }
        for i in nodeID.indices { heightAtHeal[i] = diskCommitted[i].height }
    }

    func livenessReached() -> Bool {
        let last = UInt64(scenario.reconfigurations.count)
        return healed
            && nodeID.indices.allSatisfy { i in
                guard isCorrect(i) else { return true }
                guard diskEpoch[i].epoch == last, let entered = heightAtFinalEpoch[i] else { return false }
                return diskCommitted[i].height >= max(heightAtHeal[i, default: 0], entered) + UInt64(scenario.commitsAfterHeal)
            }
    }

    func crash(_ i: Int) {
        guard managers[i] != nil else { return }
        managers[i] = nil
        incarnation[i] += 1
    }

    func restart(_ i: Int) {
        guard managers[i] == nil else { return }
        incarnation[i] += 1
        managers[i] = makeManager(i)
        step(i, .start)
    }

    /// What a node's leader adds to its payload now: the transactions in its mempool, and the
    /// next reconfiguration it has not executed, once due (last, so that execution finds it).
    func updatePayloadExtra(_ i: Int) {
        let k = applied[i]
        var extra: [UInt8] = []
        if !mempool[i].isEmpty { extra += Array("|tx:\(mempool[i].sorted().map(String.init).joined(separator: ","))".utf8) }
        if k < scenario.reconfigurations.count, scenario.reconfigurations[k].at <= now {
            extra += Array("|reconfig:\(k + 1)".utf8)
        }
        payloadExtra[i].bytes.withLock { $0 = extra }
    }

    /// Feeds one event to a node's manager and carries out its actions as a node does
    /// (`EpochManager.handle(_:execute:perform:)`), with crashes between actions.
    func step(_ i: Int, _ event: ConsensusEvent) {
        guard var m = managers[i] else { return }
        updatePayloadExtra(i)
        if trace {
            let r = m.replica
            print(
                "t=\(now) \(i):\(nodeID[i]) e\(m.current.epoch) round=\(r.round) hvr=\(r.safety.highestVotedRound) hqc=\(r.highQC.round) htc=\(r.highTC?.round ?? 0) committed=\(r.committed.height) <- \(Self.brief(event))"
            )
        }
        var performed = 0
        do {
            try m.handle(
                event,
                execute: { block, qc in
                    try maybeCrash(i)
                    if trace { print("      -> execute h\(block.height)r\(block.round)e\(block.epoch) by qc r\(qc.round)") }
                    return execute(i, block, qc)
                },
                perform: { action in
                    try maybeCrash(i)
                    performed += 1
                    if trace { print("      -> \(Self.brief(action))") }
                    perform(i, action)
                })
        } catch {
            return
        }
        managers[i] = m
        // What ended the earlier epochs is kept with the chain (the tail of blocks included).
        diskEnded[i] = m.ended
        if case .message(let from, .blockRequest(let id, let count)) = event, performed == 0 {
            for action in serveFromStore(i, id, count: count, to: from) { perform(i, action) }
        }
    }

    func maybeCrash(_ i: Int) throws {
        guard isCorrect(i), !healed, rng.chance(scenario.crashBetweenActions) else { return }
        crash(i)
        // Half the restarts are quick, as when a supervisor restarts the process at once.
        let downtime = rng.chance(0.5) ? Int.random(in: 1...30, using: &rng) : Int.random(in: 50...2_000, using: &rng)
        queue.push(.restart(i), at: min(scenario.healAt, now + downtime))
        if trace { print("      -> CRASH") }
        throw Crashed()
    }

    func perform(_ i: Int, _ action: ConsensusAction) {
        switch action {
        case .persist(let s): disk[i] = s
        case .storeBlock(let b): diskBlocks[i][b.id] = b
        case .send(let to, let m):
            observe(i, m)
            let bytes = m.encoded
            for j in nodeID.indices where j != i && nodeID[j] == to { transmit(i, j, m, bytes) }
        case .broadcast(let m):
            observe(i, m)
            let bytes = m.encoded
            for j in nodeID.indices where j != i { transmit(i, j, m, bytes) }
        case .commit(let blocks, let qc):
            // Not reached: the manager's loop hands committed blocks to `execute`.
            for b in blocks { _ = execute(i, b, qc) }
        case .scheduleTimer(let round, let ms, let epoch):
            queue.push(.timer(node: i, round: round, epoch: epoch, incarnation: incarnation[i]), at: now + ms)
        case .scheduleProposal(let round, let ms, let epoch):
            proposalsPutOff += 1
            queue.push(.proposalDue(node: i, round: round, epoch: epoch, incarnation: incarnation[i]), at: now + ms)
        }
    }

    /// Executes a committed block on node `i` (atomically with storing it, as a node does): a
    /// payload carrying the next reconfiguration changes the validator set and ends the epoch.
    func execute(_ i: Int, _ block: ConsensusBlock, _ qc: QuorumCertificate) -> ValidatorSet? {
        let epoch = diskEpoch[i]
        if isCorrect(i) { checkCommit(i, block, qc, epoch: epoch) }
        diskCommitted[i] = block
        diskChain[i][block.id] = block
        if isCorrect(i), committedIDs.insert(block.id).inserted { authored[block.author, default: []].append(now) }
        diskBlocks[i] = diskBlocks[i].filter { $0.value.height > block.height }
        for tx in Self.transactions(in: block.payload) where executedTx[tx]?[i] == nil {
            executedTx[tx, default: [:]][i] = now
            mempool[i].remove(tx)
        }
        let k = applied[i] + 1
        guard k <= scenario.reconfigurations.count, block.payload.ends(with: Array("|reconfig:\(k)".utf8)) else {
            return nil
        }
        applied[i] = k
        guard scenario.byzantine[i] != .staleEpoch else { return nil }
        let next = SimCrypto.validatorSet(scenario.reconfigurations[k - 1].validators.map { ids[$0] })
        let info = EpochInfo(epoch: epoch.epoch + 1, validators: next, rootID: block.id, rootHeight: block.height)
        diskEnded[i].append(EpochEnd(info: epoch, lastBlockID: block.id, lastHeight: block.height, proof: qc))
        diskEpoch[i] = info
        if isCorrect(i) {
            if let known = epochs[info.epoch], known != info {
                violations.append(
                    "seed \(seed): \(nodeID[i]) started epoch \(info.epoch) at height \(info.rootHeight), another correct replica at \(known.rootHeight) (or with another set)"
                )
            }
            epochs[info.epoch] = epochs[info.epoch] ?? info
            if info.epoch == UInt64(scenario.reconfigurations.count) { heightAtFinalEpoch[i] = block.height }
        }
        return next
    }

    /// The scenario transactions a payload carries (`…|tx:1,2…`).
    static func transactions(in payload: [UInt8]) -> [Int] {
        let parts = String(decoding: payload, as: UTF8.self).split(separator: "|").dropFirst()
        guard let list = parts.first(where: { $0.hasPrefix("tx:") }) else { return [] }
        return list.dropFirst(3).split(separator: ",").compactMap { Int($0) }
    }

    /// What `ConsensusService.serveFromStore` does: the committed chain from `id` down.
    func serveFromStore(_ i: Int, _ id: Hash256, count: UInt32, to peer: String) -> [ConsensusAction] {
        var list: [ConsensusBlock] = []
        var cursor = id
        while list.count < min(Int(count), ConsensusMessage.maxBlocksPerResponse), let b = diskChain[i][cursor] {
            list.append(b)
            cursor = b.parentID
        }
        return list.isEmpty ? [] : [.send(to: peer, .blockResponse(list))]
    }

    static func brief(_ e: ConsensusEvent) -> String {
        switch e {
        case .start: return "start"
        case .timer(let r, let epoch): return "timer(\(r)e\(epoch))"
        case .payloadReady: return "payloadReady"
        case .proposalDue(let r, let epoch): return "proposalDue(\(r)e\(epoch))"
        case .message(let from, let m): return "\(brief(m)) from \(from)"
        }
    }

    static func brief(_ m: ConsensusMessage) -> String {
        switch m {
        case .proposal(let b, let tc):
            return
                "proposal(e\(b.epoch) r\(b.round) h\(b.height) qc\(b.qc.round)\(tc.map { " tc\($0.round)/\($0.highQCRound)" } ?? "") by \(b.author) \(b.id.hex.prefix(6)))"
        case .vote(let v): return "vote(e\(v.data.epoch) r\(v.data.round) \(v.data.blockID.hex.prefix(6)) by \(v.signer))"
        case .timeout(let t, let tc):
            return "timeout(e\(t.epoch) r\(t.round) qc\(t.highQC.round)\(tc.map { " tc\($0.round)" } ?? "") by \(t.signer))"
        case .blockRequest(let id, _): return "blockRequest(\(id.hex.prefix(6)))"
        case .blockResponse(let bs): return "blockResponse(\(bs.map { "h\($0.height)" }))"
        case .commitProof(let qc): return "commitProof(e\(qc.epoch) r\(qc.round) h\(qc.height))"
        case .proofRequest(let e): return "proofRequest(e\(e))"
        }
    }

    static func brief(_ a: ConsensusAction) -> String {
        switch a {
        case .send(let to, let m): return "send \(brief(m)) to \(to)"
        case .broadcast(let m): return "broadcast \(brief(m))"
        case .persist(let s): return "persist e\(s.epoch) hvr=\(s.highestVotedRound) lock=\(s.highestQCRound)"
        case .storeBlock(let b): return "store h\(b.height)r\(b.round)"
        case .commit(let bs, let qc): return "commit \(bs.map { "h\($0.height)r\($0.round)" }) by qc r\(qc.round)"
        case .scheduleTimer(let r, let ms, let e): return "timer e\(e) r\(r) +\(ms)"
        case .scheduleProposal(let r, let ms, let e): return "propose e\(e) r\(r) within \(ms)"
        }
    }

    // MARK: the network

    /// The round a message belongs to, for round partitions (fetching is not partitioned by round).
    static func round(of message: ConsensusMessage) -> UInt64? {
        switch message {
        case .proposal(let b, _): return b.round
        case .vote(let v): return v.data.round
        case .timeout(let t, _): return t.round
        case .blockRequest, .blockResponse, .commitProof, .proofRequest: return nil
        }
    }

    /// Sends `message` (already observed, and encoded as `bytes`) from node `i` to node `j`, as
    /// a Byzantine sender tampers with it.
    func transmit(_ i: Int, _ j: Int, _ message: ConsensusMessage, _ bytes: [UInt8]) {
        guard let behavior = scenario.byzantine[i] else {
            deliver(i, j, bytes, round: Self.round(of: message))
            return
        }
        let crypto = crypto(i)
        switch behavior {
        case .silent:
            return
        case .staleEpoch, .retiredVoter:
            deliver(i, j, bytes, round: Self.round(of: message))
        case .equivocate:
            // Half the replicas get one block, half its twin; some get both, in either order.
            if case .proposal(let b, let tc) = message {
                let twin = ConsensusBlock(
                    round: b.round, parent: b.qc, payload: b.payload + [0xEE], timestamp: b.timestamp, crypto: crypto)
                observe(i, .proposal(twin, tc: tc))
                let pair = [bytes, ConsensusMessage.proposal(twin, tc: tc).encoded]
                deliver(i, j, pair[j % 2], round: b.round)
                if rng.chance(0.5) {
                    deliver(i, j, pair[1 - j % 2], extraDelay: Int.random(in: 0...300, using: &rng), round: b.round)
                }
            } else {
                deliver(i, j, bytes, round: Self.round(of: message))
            }
        case .doubleVote:
            deliver(i, j, bytes, round: Self.round(of: message))
            if case .vote(let v) = message {
                let fake = VoteData(
                    epoch: v.data.epoch, blockID: Hash256.sha256(Array("fake-\(v.data.round)-\(rng.next())".utf8)),
                    round: v.data.round, height: v.data.height, parentID: v.data.parentID, parentRound: v.data.parentRound)
                deliver(
                    i, j,
                    ConsensusMessage.vote(Vote(data: fake, signer: crypto.selfID, signature: crypto.sign(fake.signingBytes)))
                        .encoded, round: v.data.round)
            }
        case .garbage:
            var garbled = bytes
            if rng.chance(0.3), !garbled.isEmpty {
                garbled[Int.random(in: 0..<garbled.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
            deliver(i, j, garbled)
            if case .proposal(let b, _) = message {
                // A proposal whose certificate carries only the sender's own vote.
                let data = VoteData(
                    epoch: b.epoch, blockID: b.qc.blockID, round: b.round - 1, height: b.qc.height, parentID: b.qc.data.parentID,
                    parentRound: b.qc.data.parentRound)
                let signedForged = QuorumCertificate(
                    data: data, votes: [SignerSignature(signer: crypto.selfID, signature: crypto.sign(data.signingBytes))])
                let bad = ConsensusBlock(
                    round: b.round, parent: signedForged, payload: [0xBA, 0xD0], timestamp: 0, crypto: crypto)
                deliver(i, j, ConsensusMessage.proposal(bad, tc: nil).encoded)
            }
        case .staleQC, .staleTC, .withhold, .forker:
            switch message {
            case .proposal(let b, let tc):
                if proposalPlans[i]?[b.id] == nil { proposalPlans[i, default: [:]][b.id] = planProposal(i, b, tc, behavior) }
                // One network delay for the whole sequence, so that a carrier arrives before its fork.
                let base = Int.random(in: scenario.delay, using: &rng)
                for (k, (m, extra)) in (proposalPlans[i]?[b.id]?[j] ?? []).enumerated() {
                    deliver(i, j, m.encoded, extraDelay: extra, round: b.round, fixedDelay: base + k)
                }
            case .timeout(let t, let tc) where behavior != .withhold:
                let lie = timeoutLie(i, t)
                deliver(i, j, ConsensusMessage.timeout(lie, tc: tc).encoded, round: t.round)
            default:
                deliver(i, j, bytes, round: Self.round(of: message))
            }
        }
    }

    // MARK: the adversary

    /// An old QC of `epoch` to build a fork on: below `round`, the epoch's root QC or an older
    /// certified block.
    func oldQC(below round: UInt64, epoch: UInt64) -> QuorumCertificate? {
        guard round > 0, let info = epochs[epoch] else { return nil }
        let older = knownQCs.filter { $0.epoch == epoch && $0.round < round }
        if older.isEmpty || rng.chance(0.4) { return info.rootQC }
        return older[Int.random(in: 0..<older.count, using: &rng)]
    }

    /// Who gets what from a Byzantine leader's proposal `b`: per recipient, messages and extra delays.
    func planProposal(_ i: Int, _ b: ConsensusBlock, _ tc: TimeoutCertificate?, _ behavior: ByzantineBehavior) -> [Int: [(
        ConsensusMessage, Int
    )]] {
        let honest = ConsensusMessage.proposal(b, tc: tc)
        let others = nodeID.indices.filter { $0 != i }
        if let own = replica(i)?.highQC { noteQC(own) }
        var plan: [Int: [(ConsensusMessage, Int)]] = [:]
        for j in others { plan[j] = [(honest, 0)] }
        var strategy = behavior
        if behavior == .forker {
            strategy = [ByzantineBehavior.staleQC, .staleTC, .equivocate, .withhold, .forker].randomElement(using: &rng)!
        }
        var crafted: ConsensusMessage?
        // Sent just before the fork: moves the receiver into round b.round (with the QC or TC that
        // justifies it), so that it is in the fork's round when the fork arrives.
        var carrier: ConsensusMessage?
        switch strategy {
        case .staleQC:
            if let old = oldQC(below: b.qc.round, epoch: b.epoch) {
                let c = ConsensusBlock(
                    round: b.round, parent: old, payload: b.payload + [0x5A], timestamp: b.timestamp, crypto: crypto(i))
                crafted = .proposal(c, tc: nil)
                carrier = .timeout(lie(i, round: b.round, qc: b.qc), tc: tc)
            }
        case .staleTC:
            if let t = tc ?? knownTCs[EpochRound(epoch: b.epoch, round: b.round - 1)] {
                guard let old = oldQC(below: t.highQCRound, epoch: b.epoch) else { break }
                let c = ConsensusBlock(
                    round: b.round, parent: old, payload: b.payload + [0x7C], timestamp: b.timestamp, crypto: crypto(i))
                crafted = .proposal(c, tc: t)
            } else if b.qc.round + 1 == b.round {
                // Withhold the QC of the previous round: everyone times out in it, and the TC
                // then justifies a proposal on an older QC.
                for j in others { plan[j] = [] }
                queue.push(.adversary(node: i, block: b, until: now + 4 * scenario.baseTimeoutMs, legal: false), at: now + 100)
                return plan
            }
        case .equivocate:
            let c = ConsensusBlock(
                round: b.round, parent: b.qc, payload: b.payload + [0xEE], timestamp: b.timestamp, crypto: crypto(i))
            crafted = .proposal(c, tc: tc)
        case .withhold where b.qc.round + 1 == b.round:
            // Withhold the QC of the previous round (formed from the votes sent to this leader):
            // the round times out, and a valid block on the highest other QC the TC allows
            // follows; the withheld QC comes out later in this node's timeouts.
            for j in others { plan[j] = [] }
            queue.push(.adversary(node: i, block: b, until: now + 4 * scenario.baseTimeoutMs, legal: true), at: now + 100)
            return plan
        case .withhold:
            // A quorum (with the sender) gets it now, or nobody; the rest much later.
            let late = Int.random(in: scenario.baseTimeoutMs...(3 * scenario.baseTimeoutMs), using: &rng)
            let quorum = set(of: b.epoch)?.quorum ?? 1
            let now = rng.chance(0.3) ? [] : Array(others.shuffled(using: &rng).prefix(quorum - 1))
            for j in others where !now.contains(j) { plan[j] = [(honest, late)] }
        default:
            break
        }
        guard let crafted, case .proposal(let c, _) = crafted else { return plan }
        observe(i, crafted)
        // All get the fork, or a split: some the fork, some the honest block, some both.
        let everyone = rng.chance(0.5)
        for j in others {
            var messages: [(ConsensusMessage, Int)]
            if everyone {
                messages = [(crafted, 0)]
            } else {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: messages = [(crafted, 0)]
                case 1: messages = [(honest, 0)]
                default: messages = [(crafted, 0), (honest, Int.random(in: 0...300, using: &rng))].shuffled(using: &rng)
                }
            }
            if let carrier { messages.insert((carrier, 0), at: 0) }
            plan[j] = messages
        }
        adversaryVote(i, for: c)
        return plan
    }

    /// A withholding leader waits for the TC of the round before its own, then proposes on a QC
    /// older than the TC allows (`legal` false), or on a QC the TC allows other than the one it
    /// withheld (`legal`).
    func proposeAfterWithholding(_ i: Int, _ b: ConsensusBlock, until: Int, legal: Bool) {
        guard let own = replica(i)?.highQC else { return }
        noteQC(own)
        guard let t = knownTCs[EpochRound(epoch: b.epoch, round: b.round - 1)] else {
            if now < until { queue.push(.adversary(node: i, block: b, until: until, legal: legal), at: now + 50) }
            return
        }
        let parent: QuorumCertificate?
        if legal {
            let allowed = knownQCs.filter {
                $0.epoch == b.epoch && $0.round >= t.highQCRound && $0.round < b.round && $0.blockID != b.qc.blockID
            }
            parent =
                allowed.isEmpty
                ? (b.qc.round >= t.highQCRound ? b.qc : nil) : allowed[Int.random(in: 0..<allowed.count, using: &rng)]
        } else {
            parent = oldQC(below: t.highQCRound, epoch: b.epoch)
        }
        guard let parent else { return }
        let c = ConsensusBlock(
            round: b.round, parent: parent, payload: b.payload + [legal ? 0x7E : 0x7D], timestamp: b.timestamp, crypto: crypto(i))
        let m = ConsensusMessage.proposal(c, tc: t)
        observe(i, m)
        for j in nodeID.indices where j != i { deliver(i, j, m.encoded, round: b.round) }
        adversaryVote(i, for: c)
    }

    /// A Byzantine timeout for `t.round` that claims an old QC (it lowers a TC's highest QC round).
    func timeoutLie(_ i: Int, _ t: TimeoutMessage) -> TimeoutMessage {
        let key = EpochRound(epoch: t.epoch, round: t.round)
        if let lie = timeoutLies[i]?[key] { return lie }
        let told = oldQC(below: t.highQC.round, epoch: t.epoch).map { lie(i, round: t.round, qc: $0) } ?? t
        timeoutLies[i, default: [:]][key] = told
        return told
    }

    /// A timeout of node `i` for `round` claiming `qc` as its highest.
    func lie(_ i: Int, round: UInt64, qc: QuorumCertificate) -> TimeoutMessage {
        let c = crypto(i)
        return TimeoutMessage(
            round: round, highQC: qc, signer: c.selfID,
            signature: c.sign(TimeoutMessage.signingBytes(epoch: qc.epoch, round: round, highQCRound: qc.round)))
    }

    /// A Byzantine node votes for every block it sees (it helps any fork reach a quorum).
    func adversaryVote(_ i: Int, for b: ConsensusBlock) {
        guard adversaryVotes[i, default: []].insert(b.id).inserted, let set = set(of: b.epoch) else { return }
        let c = crypto(i)
        let v = Vote(data: b.voteData, signer: c.selfID, signature: c.sign(b.voteData.signingBytes))
        poolVote(v)
        let vote = ConsensusMessage.vote(v)
        let leader = set.leader(of: b.round + 1)
        for j in nodeID.indices where nodeID[j] == leader {
            if j == i {
                queue.push(.deliver(to: i, from: i, bytes: vote.encoded), at: now + 1)
            } else {
                deliver(i, j, vote.encoded, round: b.round)
            }
        }
    }

    func sendNoise(_ i: Int) {
        guard managers[i] != nil else { return }
        let j = Int.random(in: 0..<nodeID.count, using: &rng)
        guard j != i else { return }
        let length = Int.random(in: 0...300, using: &rng)
        var junk = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        if rng.chance(0.5), junk.count > 2 {
            junk[0] = UInt8.random(in: 1...2, using: &rng)  // a valid version byte, so decoding goes deeper before it fails
            junk[1] = UInt8.random(in: 1...7, using: &rng)
        }
        deliver(i, j, junk)
    }

    func deliver(
        _ i: Int, _ j: Int, _ bytes: [UInt8], extraDelay: Int = 0, round: UInt64? = nil, fixedDelay: Int? = nil
    ) {
        messages += 1
        if !healed {
            if rng.chance(scenario.dropRate) { return }
            for p in scenario.partitions where now >= p.start && now < p.end {
                let gi = p.groups.firstIndex { $0.contains(i) }
                let gj = p.groups.firstIndex { $0.contains(j) }
                if gi != gj { return }
            }
            if let round, let groups = scenario.roundPartitions[round] {
                let gi = groups.firstIndex { $0.contains(i) }
                let gj = groups.firstIndex { $0.contains(j) }
                if gi != gj { return }
            }
        }
        let delay = (fixedDelay ?? Int.random(in: scenario.delay, using: &rng)) + extraDelay
        queue.push(.deliver(to: j, from: i, bytes: bytes), at: now + delay)
        if rng.chance(scenario.duplicateRate) {
            queue.push(.deliver(to: j, from: i, bytes: bytes), at: now + Int.random(in: scenario.delay, using: &rng))
        }
    }

    // MARK: checks

    func observe(_ i: Int, _ message: ConsensusMessage) {
        switch message {
        case .proposal(let b, let tc):
            allBlocks[b.id] = b
            noteQC(b.qc)
            if let tc { noteTC(tc) }
        case .timeout(let t, let tc):
            noteQC(t.highQC)
            if let tc { noteTC(tc) }
            if isCorrect(i) { timedOut[i, default: []].insert(EpochRound(epoch: t.epoch, round: t.round)) }
            poolTimeout(t)
        case .vote(let v):
            poolVote(v)
            guard isCorrect(i), checkVoteConduct else { return }
            let key = EpochRound(epoch: v.data.epoch, round: v.data.round)
            if let earlier = votesSent[i]?[key], earlier != v.data.blockID {
                violations.append("seed \(seed): correct replica \(nodeID[i]) voted for two blocks in round \(v.data.round)")
            }
            if timedOut[i]?.contains(key) == true {
                violations.append(
                    "seed \(seed): correct replica \(nodeID[i]) voted in round \(v.data.round) after timing out in it")
            }
            votesSent[i, default: [:]][key] = v.data.blockID
        case .blockResponse(let blocks):
            for b in blocks { allBlocks[b.id] = b }
        case .commitProof(let qc):
            noteQC(qc)
        case .blockRequest, .proofRequest: break
        }
    }

    /// A quorum of votes certifies a block whether or not anyone assembles the QC: the oracle
    /// (and the adversary) assemble it from the votes they see.
    func poolVote(_ v: Vote) {
        guard let set = set(of: v.data.epoch), votePool[v.data]?[v.signer] == nil, set.contains(v.signer),
            cryptos[0].verify(signer: v.signer, message: v.data.signingBytes, signature: v.signature)
        else { return }
        votePool[v.data, default: [:]][v.signer] = SignerSignature(signer: v.signer, signature: v.signature)
        if let pool = votePool[v.data], pool.count == set.quorum {
            noteQC(QuorumCertificate(data: v.data, votes: Array(pool.values)))
        }
    }

    /// The adversary gathers the timeouts it sees into TCs of its own.
    func poolTimeout(_ t: TimeoutMessage) {
        let key = EpochRound(epoch: t.epoch, round: t.round)
        guard let set = set(of: t.epoch), knownTCs[key] == nil, timeoutPool[key]?[t.signer] == nil, set.contains(t.signer),
            cryptos[0].verify(
                signer: t.signer,
                message: TimeoutMessage.signingBytes(epoch: t.epoch, round: t.round, highQCRound: t.highQC.round),
                signature: t.signature)
        else { return }
        timeoutPool[key, default: [:]][t.signer] = TimeoutSignature(
            signer: t.signer, highQCRound: t.highQC.round, signature: t.signature)
        if let pool = timeoutPool[key], pool.count >= set.quorum {
            noteTC(TimeoutCertificate(epoch: t.epoch, round: t.round, entries: Array(pool.values)))
            timeoutPool[key] = nil
        }
    }

    func noteTC(_ tc: TimeoutCertificate) {
        let key = EpochRound(epoch: tc.epoch, round: tc.round)
        guard knownTCs[key] == nil, let set = set(of: tc.epoch), tc.verify(validators: set, crypto: cryptos[0], epoch: tc.epoch)
        else { return }
        tcTimes.append(now)
        knownTCs[key] = tc
    }

    /// Whether `qc` is valid for its epoch's validator set (as the oracle knows the epochs).
    func isValid(_ qc: QuorumCertificate) -> Bool {
        if validQCs.contains(qc) { return true }
        guard let info = epochs[qc.epoch] else { return false }
        return qc.verify(validators: info.validators, crypto: cryptos[0], root: info.rootQC)
    }

    func noteQC(_ qc: QuorumCertificate) {
        guard qc.round > 0, epochs[qc.epoch] != nil, seenQCs.insert(qc).inserted, isValid(qc) else { return }
        validQCs.insert(qc)
        if knownQCIDs.insert(qc.blockID).inserted {
            knownQCs.append(qc)
            certified.append((qc.epoch, qc.round, qc.blockID))
            checkCertified(qc.blockID, epoch: qc.epoch, round: qc.round)
        }
        let key = EpochRound(epoch: qc.epoch, round: qc.round)
        if let other = qcByRound[key], other != qc.blockID {
            violations.append(
                "seed \(seed): two quorum certificates for different blocks in round \(qc.round) of epoch \(qc.epoch)")
        }
        qcByRound[key] = qc.blockID
    }

    /// Whether block `id` extends `b` (or is it); nil when an ancestor is unknown.
    func extends(_ id: Hash256, _ b: ConsensusBlock) -> Bool? {
        var cursor = id
        while true {
            if cursor == b.id { return true }
            if cursor == genesisID { return false }
            guard let c = allBlocks[cursor] else { return nil }
            if c.height <= b.height { return false }
            cursor = c.parentID
        }
    }

    /// A certified block must extend every directly committed block of its epoch of a round at or
    /// below its own (the lemma of the safety argument; an ancestor committed only through its
    /// descendant may have certified siblings of higher rounds below that descendant's round).
    func checkCertified(_ id: Hash256, epoch: UInt64, round: UInt64) {
        guard let b = directlyCommitted[epoch]?.last(where: { $0.round <= round })?.block else { return }
        if extends(id, b) == false {
            violations.append(
                "seed \(seed): a quorum certified a block of round \(round) that does not extend the block committed at height \(b.height) (round \(b.round)) of epoch \(epoch)"
            )
        }
    }

    /// Checks a block a correct node executes as committed in `epoch`, on certificate `qc`.
    func checkCommit(_ i: Int, _ b: ConsensusBlock, _ qc: QuorumCertificate, epoch: EpochInfo) {
        if b.epoch != epoch.epoch || qc.epoch != epoch.epoch {
            violations.append(
                "seed \(seed): \(nodeID[i]) in epoch \(epoch.epoch) executed block h\(b.height) of epoch \(b.epoch) (certificate of epoch \(qc.epoch))"
            )
        }
        if !isValid(qc) {
            violations.append(
                "seed \(seed): \(nodeID[i]) committed on a certificate without a valid quorum of epoch \(qc.epoch)'s validators")
        }
        noteQC(qc)
        let direct = qc.data.parentID == b.id
        if checkCommitJustification, direct {
            if allBlocks[qc.blockID] == nil {
                violations.append("seed \(seed): \(nodeID[i]) committed on a certificate for a block never proposed")
            } else if qc.data.round != qc.data.parentRound + 1 {
                violations.append(
                    "seed \(seed): \(nodeID[i]) committed block at round \(b.round) without a 2-chain (certified child at round \(qc.round))"
                )
            }
        }
        let expected = diskCommitted[i].height + 1
        if b.height != expected || (b.parentID != diskCommitted[i].id && b.height == expected) {
            violations.append("seed \(seed): \(nodeID[i]) committed height \(b.height) not on its chain, expected \(expected)")
        }
        allBlocks[b.id] = b
        if let prior = canonical[b.height], prior != b.id {
            violations.append(
                "seed \(seed): FORK at height \(b.height): \(nodeID[i]) committed a block different from another correct replica's"
            )
        }
        canonical[b.height] = canonical[b.height] ?? b.id
        guard direct, directlyCommittedIDs.insert(b.id).inserted else { return }
        var list = directlyCommitted[b.epoch] ?? []
        list.insert((b.round, b), at: list.firstIndex { $0.round > b.round } ?? list.endIndex)
        directlyCommitted[b.epoch] = list
        for c in certified where c.epoch == b.epoch && c.round >= b.round && extends(c.id, b) == false {
            violations.append(
                "seed \(seed): \(nodeID[i]) committed height \(b.height) (round \(b.round)) but a quorum certified a block of round \(c.round) that does not extend it"
            )
        }
    }
}

/// What a node's leader adds to its next payload, shared with its payload hook.
final class PayloadExtra: Sendable {
    let bytes = Mutex<[UInt8]>([])
}

/// The simulated time, for the replicas' `PayloadHooks.now`.
final class SimClock: Sendable {
    let ms = Mutex<Int64>(0)
}

extension Array where Element: Equatable {
    func ends(with suffix: [Element]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
