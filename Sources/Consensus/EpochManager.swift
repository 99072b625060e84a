import ChainCore

/// One epoch: its number, its validator set, and the block it starts from (the chain's genesis for
/// epoch 0, else the block whose execution ended the previous epoch).
public struct EpochInfo: Sendable, Hashable {
    /// The epoch number (0 at genesis, one more at each change of the validator set).
    public var epoch: UInt64
    /// The validators, in leader order.
    public var validators: ValidatorSet
    /// The block the epoch starts from.
    public var rootID: Hash256
    /// Its height.
    public var rootHeight: UInt64

    /// Creates an epoch description.
    public init(epoch: UInt64, validators: ValidatorSet, rootID: Hash256, rootHeight: UInt64) {
        self.epoch = epoch
        self.validators = validators
        self.rootID = rootID
        self.rootHeight = rootHeight
    }

    /// Epoch 0 of a chain.
    public static func genesis(validators: ValidatorSet, genesisID: Hash256) -> EpochInfo {
        EpochInfo(epoch: 0, validators: validators, rootID: genesisID, rootHeight: 0)
    }

    /// The epoch's virtual root QC (round 0, unsigned).
    public var rootQC: QuorumCertificate { .root(epoch: epoch, blockID: rootID, height: rootHeight) }
}

/// How an epoch ended: its last executed block, and a QC of that epoch, valid for its set, that
/// commits that block (its block's parent is the block or a descendant, one round apart).
public struct EpochEnd: Sendable, Hashable {
    /// The epoch that ended.
    public var info: EpochInfo
    /// Its last block: the first committed block whose execution changed the validator set.
    public var lastBlockID: Hash256
    /// That block's height.
    public var lastHeight: UInt64
    /// The commit proof a replica still in that epoch needs.
    public var proof: QuorumCertificate
    /// The blocks the same commit committed after the last block (never executed), lowest first,
    /// up to the proof's parent: a replica that commits up to the proof fetches them, and the
    /// node's store does not have them.
    public var tail: [ConsensusBlock]

    /// Creates a record.
    public init(
        info: EpochInfo, lastBlockID: Hash256, lastHeight: UInt64, proof: QuorumCertificate, tail: [ConsensusBlock] = []
    ) {
        self.info = info
        self.lastBlockID = lastBlockID
        self.lastHeight = lastHeight
        self.proof = proof
        self.tail = tail
    }
}

/// Runs one `Replica` per epoch and moves from one epoch to the next where the committed chain
/// says so. Pure and deterministic, like `Replica`: the driver feeds it events and carries out its
/// actions, and after executing committed blocks tells it when a block changed the validator set
/// (`handle(_:execute:perform:)` does that loop).
///
/// Messages carry their epoch (signed bytes are domain-separated by it), so nothing of one epoch
/// counts in another. Messages of the next epoch are buffered (a few) and answered with a
/// `proofRequest`; messages of an ended epoch are answered with the `commitProof` that ends it,
/// so a replica that missed the change commits up to the epoch's last block and switches too.
public struct EpochManager<Crypto: ConsensusCrypto> {
    /// The current epoch.
    public private(set) var current: EpochInfo
    /// The current epoch's replica (passive when this node is not one of its validators).
    public private(set) var replica: Replica<Crypto>
    /// The latest epochs that ended, oldest first (at most `keptEpochEnds`), to answer laggards.
    public private(set) var ended: [EpochEnd]
    /// Bugs to inject (simulation only); passed on to each epoch's replica.
    public var faults: InjectedFaults {
        didSet { replica.faults = faults }
    }

    let makeCrypto: @Sendable (ValidatorSet) -> Crypto
    let config: ConsensusConfig
    let hooks: PayloadHooks
    /// Messages of the next epoch received before switching, replayed after the switch.
    var buffered: [(from: String, message: ConsensusMessage)] = []
    /// When a proof was last sent to or asked of a peer, by "peer/epoch", in handled events.
    var lastContact: [String: Int] = [:]
    var events = 0

    /// Epoch ends kept to answer laggards (older ones catch up through block sync in a node).
    public static var keptEpochEnds: Int { 16 }
    /// Next-epoch messages kept until the switch.
    public static var maxBuffered: Int { 64 }
    /// Events between two proofs (or proof requests) for the same peer and epoch.
    public static var contactInterval: Int { 32 }

    /// A manager in epoch `current`, restarted from what was persisted when given: the safety data
    /// and stored blocks are used only when they are of `current.epoch`, the committed block
    /// only when it is above the epoch's root.
    public init(
        current: EpochInfo, ended: [EpochEnd] = [], makeCrypto: @escaping @Sendable (ValidatorSet) -> Crypto,
        config: ConsensusConfig = ConsensusConfig(), hooks: PayloadHooks, safety: SafetyData? = nil,
        committed: ConsensusBlock? = nil, storedBlocks: [ConsensusBlock] = [], faults: InjectedFaults = InjectedFaults()
    ) {
        self.current = current
        self.ended = Array(ended.suffix(Self.keptEpochEnds))
        self.makeCrypto = makeCrypto
        self.config = config
        self.hooks = hooks
        self.faults = faults
        var r = Replica(
            epoch: current.epoch, validators: current.validators, crypto: makeCrypto(current.validators),
            rootID: current.rootID, rootHeight: current.rootHeight, config: config, hooks: hooks, safety: safety,
            committed: committed, storedBlocks: storedBlocks)
        r.faults = faults
        r.retiredValidators = ended.last?.info.validators
        replica = r
    }

    /// Processes one event and returns the actions to carry out, in order. A `.commit` among them
    /// may end the epoch: the driver executes its blocks in order and, at the first block that
    /// changes the validator set, calls `endEpoch` and carries out what it returns instead of
    /// the rest of this list (`handle(_:execute:perform:)` does exactly that).
    public mutating func handle(_ event: ConsensusEvent) -> [ConsensusAction] {
        events += 1
        switch event {
        case .start:
            return replica.handle(event)
        case .timer(_, let epoch), .proposalDue(_, let epoch):
            return epoch == current.epoch ? replica.handle(event) : []
        case .payloadReady:
            return replica.handle(event)
        case .message(let from, let message):
            guard let epoch = message.epoch, epoch != current.epoch else {
                if case .proofRequest = message { return [] }
                let actions = replica.handle(event)
                if actions.isEmpty, case .blockRequest(let id, let count) = message {
                    return serveTail(id, count: count, to: from)
                }
                return actions
            }
            if epoch < current.epoch {
                // A peer still in an epoch that ended: send what ends it (now and then).
                guard speaksFromItsEpoch(message), let end = ended.first(where: { $0.info.epoch == epoch }),
                    contact(from, epoch)
                else { return [] }
                return [.send(to: from, .commitProof(end.proof))]
            }
            if epoch == current.epoch + 1, !isProofMessage(message) {
                buffered.append((from, message))
                if buffered.count > Self.maxBuffered { buffered.removeFirst(buffered.count - Self.maxBuffered) }
            }
            // A peer already in a later epoch: ask it how ours ended.
            guard contact(from, current.epoch) else { return [] }
            return [.send(to: from, .proofRequest(epoch: current.epoch))]
        }
    }

    /// Messages a replica sends from the epoch it is in (a block response or a proof may be old news).
    func speaksFromItsEpoch(_ m: ConsensusMessage) -> Bool {
        switch m {
        case .proposal, .vote, .timeout, .proofRequest: return true
        default: return false
        }
    }

    func isProofMessage(_ m: ConsensusMessage) -> Bool {
        switch m {
        case .commitProof, .proofRequest: return true
        default: return false
        }
    }

    /// Blocks committed after an epoch's last block (which the driver's store does not have),
    /// down to that last block's child: the store serves the rest.
    func serveTail(_ id: Hash256, count: UInt32, to peer: String) -> [ConsensusAction] {
        for end in ended.reversed() {
            guard let at = end.tail.lastIndex(where: { $0.id == id }) else { continue }
            let list = Array(end.tail[...at].reversed().prefix(min(Int(count), ConsensusMessage.maxBlocksPerResponse)))
            return [.send(to: peer, .blockResponse(list))]
        }
        return []
    }

    /// True (and noted) when `peer` may be sent a proof or request about `epoch` now.
    mutating func contact(_ peer: String, _ epoch: UInt64) -> Bool {
        let key = "\(peer)/\(epoch)"
        if let last = lastContact[key], events - last < Self.contactInterval { return false }
        lastContact[key] = events
        if lastContact.count > 1024 { lastContact = lastContact.filter { events - $0.value < Self.contactInterval } }
        return true
    }

    /// Ends the current epoch at `lastBlock`, a committed block of it whose execution changed the
    /// validator set to `next`; `certificate` is the QC of the commit that contained it, and
    /// `committedAfter` the blocks that commit held after it (dropped, but kept to serve a replica
    /// that catches up with `certificate`). Starts the next epoch from that block (its virtual
    /// root QC), and returns the new epoch's first actions: persist its fresh safety data, start,
    /// and take in the buffered messages.
    ///
    /// `root` names the next epoch's root (its virtual block id and height) when the driver derives
    /// it from its executed chain (a node uses the hash and height of the chain block that `lastBlock`
    /// became, which validators joining from block sync also know); by default it is `lastBlock`.
    public mutating func endEpoch(
        lastBlock: ConsensusBlock, certificate: QuorumCertificate, committedAfter: [ConsensusBlock] = [], next: ValidatorSet,
        root: (id: Hash256, height: UInt64)? = nil
    ) -> [ConsensusAction] {
        let old = current
        ended.append(
            EpochEnd(
                info: old, lastBlockID: lastBlock.id, lastHeight: lastBlock.height, proof: certificate,
                tail: Array(committedAfter.prefix(ConsensusMessage.maxBlocksPerResponse))))
        if ended.count > Self.keptEpochEnds { ended.removeFirst(ended.count - Self.keptEpochEnds) }
        current = EpochInfo(
            epoch: old.epoch + 1, validators: next, rootID: root?.id ?? lastBlock.id, rootHeight: root?.height ?? lastBlock.height
        )
        var r = Replica(
            epoch: current.epoch, validators: next, crypto: makeCrypto(next), rootID: current.rootID,
            rootHeight: current.rootHeight, config: config, hooks: hooks)
        r.faults = faults
        r.retiredValidators = old.validators
        replica = r
        var actions: [ConsensusAction] = [.persist(replica.safety)]
        actions += replica.handle(.start)
        let replay = buffered.filter { $0.message.epoch == current.epoch }
        buffered.removeAll()
        for (from, message) in replay { actions += handle(.message(from: from, message)) }
        return actions
    }

    /// Processes one event and carries out the resulting actions in order: each committed block
    /// goes to `execute` (which executes and stores it, and returns the new validator set when
    /// its execution changed the set); every other action to `perform`. At a block that changes
    /// the set, the epoch ends there: the rest of the list (later blocks of that commit, a vote
    /// on a descendant, …) is dropped and the next epoch's actions are carried out instead.
    /// An error thrown by a closure stops the loop (as a crash would).
    public mutating func handle(
        _ event: ConsensusEvent, execute: (ConsensusBlock, QuorumCertificate) throws -> ValidatorSet?,
        perform: (ConsensusAction) throws -> Void
    ) rethrows {
        var queue = handle(event)
        var i = 0
        while i < queue.count {
            let action = queue[i]
            i += 1
            guard case .commit(let blocks, let certificate) = action else {
                try perform(action)
                continue
            }
            for (k, block) in blocks.enumerated() {
                guard let next = try execute(block, certificate) else { continue }
                if faults.executePastEpochEnd {
                    for later in blocks.dropFirst(k + 1) { _ = try execute(later, certificate) }
                }
                queue = endEpoch(
                    lastBlock: block, certificate: certificate, committedAfter: Array(blocks.dropFirst(k + 1)), next: next)
                i = 0
                break
            }
        }
    }
}
