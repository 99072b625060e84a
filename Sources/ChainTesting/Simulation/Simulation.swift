import ChainCore
import Consensus

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
    /// Messages sent.
    public let messages: Int
    /// Simulated time at the end, ms.
    public let endTime: Int

    /// True when no violation was found.
    public var passed: Bool { violations.isEmpty }

    public var description: String {
        "seed \(seed) [\(scenario)] \(passed ? "passed" : "FAILED: \(violations.prefix(3).joined(separator: "; "))") "
            + "heights=\(heights.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")) "
            + "messages=\(messages) t=\(endTime)ms"
    }
}

/// A deterministic simulation of a whole validator network from one seed: an in-memory network
/// with random delays, drops, duplicates, reordering and partitions that heal; crashes and
/// restarts from each replica's persisted state; Byzantine replicas. It checks safety after every
/// commit and liveness after the network heals.
///
/// Checks: no two correct replicas commit different blocks at one height; every commit is backed
/// by a valid quorum certificate on a child one round later (2-chain); no correct replica sends
/// two different votes in a round, or votes in a round it timed out in; no two quorum
/// certificates ever certify different blocks in one round.
public final class Simulation {
    enum Event {
        case deliver(to: Int, from: Int, bytes: [UInt8])
        case timer(node: Int, round: UInt64, incarnation: Int)
        case crash(Int)
        case restart(Int)
        case noise(Int)
    }

    /// The seed.
    public let seed: UInt64
    /// The scenario.
    public let scenario: Scenario
    var rng: SeededGenerator
    let ids: [String]
    let validators: ValidatorSet
    let genesisID: Hash256
    let cryptos: [SimCrypto]
    let config: ConsensusConfig

    var replicas: [Replica<SimCrypto>?]
    var incarnation: [Int]
    var disk: [SafetyData?]
    var diskCommitted: [ConsensusBlock]
    var diskBlocks: [[Hash256: ConsensusBlock]]
    var queue = EventQueue<Event>()
    var now = 0
    var messages = 0
    var processed = 0

    var canonical: [UInt64: Hash256] = [:]
    var allBlocks: [Hash256: ConsensusBlock] = [:]
    var qcByRound: [UInt64: Hash256] = [:]
    var votesSent: [Int: [UInt64: Hash256]] = [:]
    var timedOut: [Int: Set<UInt64>] = [:]
    var violations: [String] = []
    var heightAtHeal: [Int: UInt64] = [:]
    var healed = false

    /// Most events processed before the run is declared stuck.
    public var eventBudget = 3_000_000
    /// Prints every event and action (for replaying one seed by hand).
    public var trace = false

    /// A run of `scenario` (by default the one `seed` picks).
    public init(seed: UInt64, scenario: Scenario? = nil) {
        self.seed = seed
        self.scenario = scenario ?? Scenario.random(seed: seed)
        rng = SeededGenerator(seed: seed)
        let names = (0..<self.scenario.validators).map { "v\($0)" }
        ids = names
        validators = SimCrypto.validatorSet(names)
        genesisID = Hash256.sha256(Array("sim-genesis-\(seed)".utf8))
        cryptos = names.map { SimCrypto(selfID: $0, ids: names) }
        var c = ConsensusConfig()
        c.baseTimeoutMs = self.scenario.baseTimeoutMs
        config = c
        replicas = Array(repeating: nil, count: ids.count)
        incarnation = Array(repeating: 0, count: ids.count)
        disk = Array(repeating: nil, count: ids.count)
        diskCommitted = Array(repeating: .genesis(genesisID), count: ids.count)
        diskBlocks = Array(repeating: [:], count: ids.count)
    }

    func isCorrect(_ i: Int) -> Bool { scenario.byzantine[i] == nil }

    func makeReplica(_ i: Int) -> Replica<SimCrypto> {
        let me = ids[i]
        let hooks = PayloadHooks(make: { round, _ in Array("\(me)/\(round)".utf8) }, now: { 0 })
        var r = Replica(
            validators: validators, crypto: cryptos[i], genesisID: genesisID, config: config, hooks: hooks, safety: disk[i],
            committed: diskCommitted[i],
            storedBlocks: diskBlocks[i].values.sorted { $0.height < $1.height || ($0.height == $1.height && $0.id < $1.id) })
        if isCorrect(i) { r.faults = scenario.faults }
        return r
    }

    /// Runs to the end: until every correct replica made its commits after the heal, a
    /// violation, or the liveness window closes.
    public func run() -> SimulationReport {
        for c in scenario.crashes {
            queue.push(.crash(c.node), at: c.at)
            queue.push(.restart(c.node), at: c.restart)
        }
        for (i, b) in scenario.byzantine where b == .garbage { queue.push(.noise(i), at: 50 + i) }
        for i in ids.indices {
            replicas[i] = makeReplica(i)
            step(i, .start)
        }
        let deadline = scenario.healAt + scenario.livenessWindow
        while violations.isEmpty, let (time, event) = queue.pop() {
            if !healed, time >= scenario.healAt { heal() }
            if time > deadline { break }
            now = time
            processed += 1
            if processed > eventBudget {
                violations.append("event budget of \(eventBudget) exhausted at t=\(now)")
                break
            }
            switch event {
            case .deliver(let to, let from, let bytes):
                guard replicas[to] != nil, let message = try? ConsensusMessage.decode(bytes) else { continue }
                step(to, .message(from: ids[from], message))
            case .timer(let node, let round, let inc):
                guard inc == incarnation[node], replicas[node] != nil else { continue }
                step(node, .timer(round: round))
            case .crash(let node): crash(node)
            case .restart(let node): restart(node)
            case .noise(let node):
                sendNoise(node)
                if now < deadline { queue.push(.noise(node), at: now + Int.random(in: 50...400, using: &rng)) }
            }
            if healed, livenessReached() { break }
        }
        if violations.isEmpty, !livenessReached() {
            if !healed { heal() }
            for i in ids.indices where isCorrect(i) {
                let h = diskCommitted[i].height
                if h < heightAtHeal[i, default: 0] + UInt64(scenario.commitsAfterHeal) {
                    violations.append(
                        "liveness: \(ids[i]) committed \(h - heightAtHeal[i, default: 0]) blocks in the \(scenario.livenessWindow) ms after the heal"
                    )
                }
            }
        }
        var heights: [String: UInt64] = [:]
        for i in ids.indices where isCorrect(i) { heights[ids[i]] = diskCommitted[i].height }
        return SimulationReport(
            seed: seed, scenario: scenario, violations: violations, heights: heights, messages: messages, endTime: now)
    }

    func heal() {
        if trace { print("t=\(now) ---- HEAL ----") }
        healed = true
        for i in ids.indices where replicas[i] == nil { restart(i) }
        for i in ids.indices { heightAtHeal[i] = diskCommitted[i].height }
    }

    func livenessReached() -> Bool {
        healed
            && ids.indices.allSatisfy {
                !isCorrect($0) || diskCommitted[$0].height >= heightAtHeal[$0, default: 0] + UInt64(scenario.commitsAfterHeal)
            }
    }

    func crash(_ i: Int) {
        guard replicas[i] != nil else { return }
        replicas[i] = nil
        incarnation[i] += 1
    }

    func restart(_ i: Int) {
        guard replicas[i] == nil else { return }
        incarnation[i] += 1
        replicas[i] = makeReplica(i)
        step(i, .start)
    }

    func step(_ i: Int, _ event: ConsensusEvent) {
        guard var r = replicas[i] else { return }
        let actions = r.handle(event)
        replicas[i] = r
        if trace {
            print(
                "t=\(now) \(ids[i]) round=\(r.round) hvr=\(r.safety.highestVotedRound) hqc=\(r.highQC.round) htc=\(r.highTC?.round ?? 0) committed=\(r.committed.height) <- \(Self.brief(event))"
            )
            for a in actions { print("      -> \(Self.brief(a))") }
        }
        carryOut(i, actions)
    }

    func carryOut(_ i: Int, _ actions: [ConsensusAction]) {
        for action in actions {
            if isCorrect(i), !healed, rng.chance(scenario.crashBetweenActions) {
                crash(i)
                // Half the restarts are quick, as when a supervisor restarts the process at once.
                let downtime = rng.chance(0.5) ? Int.random(in: 1...30, using: &rng) : Int.random(in: 50...2_000, using: &rng)
                queue.push(.restart(i), at: min(scenario.healAt, now + downtime))
                return
            }
            switch action {
            case .persist(let s): disk[i] = s
            case .storeBlock(let b): diskBlocks[i][b.id] = b
            case .send(let to, let m):
                if let j = ids.firstIndex(of: to) { transmit(i, j, m) }
            case .broadcast(let m):
                for j in ids.indices where j != i { transmit(i, j, m) }
            case .commit(let blocks, let qc): checkCommit(i, blocks, qc)
            case .scheduleTimer(let round, let ms):
                queue.push(.timer(node: i, round: round, incarnation: incarnation[i]), at: now + ms)
            }
        }
    }

    static func brief(_ e: ConsensusEvent) -> String {
        switch e {
        case .start: return "start"
        case .timer(let r): return "timer(\(r))"
        case .message(let from, let m): return "\(brief(m)) from \(from)"
        }
    }

    static func brief(_ m: ConsensusMessage) -> String {
        switch m {
        case .proposal(let b, let tc):
            return "proposal(r\(b.round) h\(b.height) qc\(b.qc.round)\(tc.map { " tc\($0.round)" } ?? "") by \(b.author))"
        case .vote(let v): return "vote(r\(v.data.round) by \(v.signer))"
        case .timeout(let t, let tc):
            return "timeout(r\(t.round) qc\(t.highQC.round)\(tc.map { " tc\($0.round)" } ?? "") by \(t.signer))"
        case .blockRequest(let id, _): return "blockRequest(\(id.hex.prefix(8)))"
        case .blockResponse(let bs): return "blockResponse(\(bs.map { "h\($0.height)" }))"
        }
    }

    static func brief(_ a: ConsensusAction) -> String {
        switch a {
        case .send(let to, let m): return "send \(brief(m)) to \(to)"
        case .broadcast(let m): return "broadcast \(brief(m))"
        case .persist(let s): return "persist hvr=\(s.highestVotedRound) lock=\(s.highestQCRound)"
        case .storeBlock(let b): return "store h\(b.height)r\(b.round)"
        case .commit(let bs, let qc): return "commit \(bs.map { "h\($0.height)r\($0.round)" }) by qc r\(qc.round)"
        case .scheduleTimer(let r, let ms): return "timer r\(r) +\(ms)"
        }
    }

    // MARK: the network

    func transmit(_ i: Int, _ j: Int, _ message: ConsensusMessage) {
        observe(i, message)
        guard let behavior = scenario.byzantine[i] else {
            deliver(i, j, message.encoded)
            return
        }
        let crypto = cryptos[i]
        switch behavior {
        case .silent:
            return
        case .equivocate:
            // Half the replicas get one block, half its twin; some get both, in either order.
            if case .proposal(let b, let tc) = message {
                let twin = ConsensusBlock(
                    round: b.round, parent: b.qc, payload: b.payload + [0xEE], timestamp: b.timestamp, crypto: crypto)
                observe(i, .proposal(twin, tc: tc))
                let pair = [message.encoded, ConsensusMessage.proposal(twin, tc: tc).encoded]
                deliver(i, j, pair[j % 2])
                if rng.chance(0.5) { deliver(i, j, pair[1 - j % 2], extraDelay: Int.random(in: 0...300, using: &rng)) }
            } else {
                deliver(i, j, message.encoded)
            }
        case .doubleVote:
            deliver(i, j, message.encoded)
            if case .vote(let v) = message {
                let fake = VoteData(
                    blockID: Hash256.sha256(Array("fake-\(v.data.round)-\(rng.next())".utf8)), round: v.data.round,
                    height: v.data.height, parentID: v.data.parentID, parentRound: v.data.parentRound)
                deliver(
                    i, j,
                    ConsensusMessage.vote(Vote(data: fake, signer: crypto.selfID, signature: crypto.sign(fake.signingBytes)))
                        .encoded)
            }
        case .garbage:
            var bytes = message.encoded
            if rng.chance(0.3), !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
            deliver(i, j, bytes)
            if case .proposal(let b, _) = message {
                // A proposal whose certificate carries only the sender's own vote.
                let forged = QuorumCertificate(
                    data: VoteData(
                        blockID: b.qc.blockID, round: b.round - 1, height: b.qc.height, parentID: b.qc.data.parentID,
                        parentRound: b.qc.data.parentRound),
                    votes: [])
                let signedForged = QuorumCertificate(
                    data: forged.data,
                    votes: [SignerSignature(signer: crypto.selfID, signature: crypto.sign(forged.data.signingBytes))])
                let bad = ConsensusBlock(
                    round: b.round, parent: signedForged, payload: [0xBA, 0xD0], timestamp: 0, crypto: crypto)
                deliver(i, j, ConsensusMessage.proposal(bad, tc: nil).encoded)
            }
        }
    }

    func sendNoise(_ i: Int) {
        guard replicas[i] != nil else { return }
        let j = Int.random(in: 0..<ids.count, using: &rng)
        guard j != i else { return }
        let length = Int.random(in: 0...300, using: &rng)
        var junk = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        if rng.chance(0.5), junk.count > 2 {
            junk[0] = 1  // a valid version byte, so decoding goes deeper before it fails
            junk[1] = UInt8.random(in: 1...5, using: &rng)
        }
        deliver(i, j, junk)
    }

    func deliver(_ i: Int, _ j: Int, _ bytes: [UInt8], extraDelay: Int = 0) {
        messages += 1
        if !healed {
            if rng.chance(scenario.dropRate) { return }
            for p in scenario.partitions where now >= p.start && now < p.end {
                let gi = p.groups.firstIndex { $0.contains(i) }
                let gj = p.groups.firstIndex { $0.contains(j) }
                if gi != gj { return }
            }
        }
        let delay = Int.random(in: scenario.delay, using: &rng) + extraDelay
        queue.push(.deliver(to: j, from: i, bytes: bytes), at: now + delay)
        if rng.chance(scenario.duplicateRate) {
            queue.push(.deliver(to: j, from: i, bytes: bytes), at: now + Int.random(in: scenario.delay, using: &rng))
        }
    }

    // MARK: checks

    func observe(_ i: Int, _ message: ConsensusMessage) {
        switch message {
        case .proposal(let b, _):
            allBlocks[b.id] = b
            noteQC(b.qc)
        case .timeout(let t, _):
            noteQC(t.highQC)
            if isCorrect(i) { timedOut[i, default: []].insert(t.round) }
        case .vote(let v):
            guard isCorrect(i) else { return }
            if let earlier = votesSent[i]?[v.data.round], earlier != v.data.blockID {
                violations.append("seed \(seed): correct replica \(ids[i]) voted for two blocks in round \(v.data.round)")
            }
            if timedOut[i]?.contains(v.data.round) == true {
                violations.append("seed \(seed): correct replica \(ids[i]) voted in round \(v.data.round) after timing out in it")
            }
            votesSent[i, default: [:]][v.data.round] = v.data.blockID
        case .blockResponse(let blocks):
            for b in blocks { allBlocks[b.id] = b }
        case .blockRequest: break
        }
    }

    func noteQC(_ qc: QuorumCertificate) {
        guard qc.round > 0, qc.verify(validators: validators, crypto: cryptos[0], genesisID: genesisID) else { return }
        if let other = qcByRound[qc.round], other != qc.blockID {
            violations.append("seed \(seed): two quorum certificates for different blocks in round \(qc.round)")
        }
        qcByRound[qc.round] = qc.blockID
    }

    func checkCommit(_ i: Int, _ blocks: [ConsensusBlock], _ qc: QuorumCertificate) {
        guard let last = blocks.last else { return }
        if isCorrect(i) {
            if !qc.verify(validators: validators, crypto: cryptos[0], genesisID: genesisID) {
                violations.append("seed \(seed): \(ids[i]) committed on a certificate without a valid quorum")
            }
            noteQC(qc)
            if let child = allBlocks[qc.blockID] {
                if child.parentID != last.id || child.round != last.round + 1 {
                    violations.append(
                        "seed \(seed): \(ids[i]) committed block at round \(last.round) without a 2-chain (certified child at round \(child.round))"
                    )
                }
            } else {
                violations.append("seed \(seed): \(ids[i]) committed on a certificate for a block never proposed")
            }
            var expected = diskCommitted[i].height + 1
            for b in blocks {
                if b.height != expected {
                    violations.append("seed \(seed): \(ids[i]) committed height \(b.height), expected \(expected)")
                }
                expected += 1
                if let prior = canonical[b.height], prior != b.id {
                    violations.append(
                        "seed \(seed): FORK at height \(b.height): \(ids[i]) committed a block different from another correct replica's"
                    )
                }
                canonical[b.height] = b.id
            }
        }
        diskCommitted[i] = last
        diskBlocks[i] = diskBlocks[i].filter { $0.value.height > last.height }
    }
}
