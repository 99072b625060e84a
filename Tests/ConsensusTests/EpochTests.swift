import ChainCore
import ChainTesting
import Consensus
import Testing

/// Validator-set changes: the wire and disk formats of epochs, domain separation, the switch at
/// the block that changed the set, a restart exactly at the switch, and a replica that missed it.
@Suite struct EpochTests {
    static let universe = ["v0", "v1", "v2", "v3", "v4"]
    let genesis = Hash256.sha256(Array("epochs".utf8))
    func crypto(_ id: String) -> SimCrypto { SimCrypto(selfID: id, ids: Self.universe) }
    func set(_ ids: [String]) -> ValidatorSet { SimCrypto.validatorSet(ids) }

    // MARK: formats

    @Test func epochZeroKeepsTheFormatsFromBeforeEpochs() throws {
        let data = VoteData(blockID: Hash256.sha256([1]), round: 5, height: 3, parentID: Hash256.sha256([2]), parentRound: 4)
        // The tag and layout of before: signatures and block ids of existing chains stay valid.
        var w = BinaryWriter()
        w.string("XIANGCHAIN-VOTE-V1")
        w.hash(data.blockID)
        w.u64(5)
        w.u64(3)
        w.hash(data.parentID)
        w.u64(4)
        #expect(data.signingBytes == w.bytes)
        let vote = ConsensusMessage.vote(Vote(data: data, signer: "v1", signature: [7]))
        #expect(vote.encoded.first == 1)
        #expect(try ConsensusMessage.decode(vote.encoded, hasher: .sha256) == vote)
        let block = ConsensusBlock(round: 1, parent: .genesis(genesis), payload: [1], timestamp: 0, crypto: crypto("v1"))
        #expect(block.encoded.first == 0)  // the high byte of the round, as stored before
        #expect(try ConsensusBlock.decode(block.encoded, hasher: .sha256) == block)
        let safety = SafetyData.initial(genesisID: genesis)
        #expect(safety.encoded.first == 2)
    }

    @Test func laterEpochsRoundTripAndCarryTheirEpoch() throws {
        let root = QuorumCertificate.root(epoch: 3, blockID: Hash256.sha256([9]), height: 40)
        let c = crypto("v1")
        let block = ConsensusBlock(round: 1, parent: root, payload: [1, 2], timestamp: 5, crypto: c)
        #expect(block.epoch == 3 && block.height == 41)
        let vote = Vote(data: block.voteData, signer: "v1", signature: c.sign(block.voteData.signingBytes))
        let qc = QuorumCertificate(data: block.voteData, votes: [SignerSignature(signer: "v1", signature: vote.signature)])
        let tc = TimeoutCertificate(
            epoch: 3, round: 1,
            entries: [
                TimeoutSignature(
                    signer: "v1", highQCRound: 0,
                    signature: c.sign(TimeoutMessage.signingBytes(epoch: 3, round: 1, highQCRound: 0)))
            ])
        let timeout = TimeoutMessage(
            round: 2, highQC: qc, signer: "v1", signature: c.sign(TimeoutMessage.signingBytes(epoch: 3, round: 2, highQCRound: 1))
        )
        let messages: [ConsensusMessage] = [
            .proposal(block, tc: tc), .vote(vote), .timeout(timeout, tc: tc), .blockResponse([block]), .commitProof(qc),
            .proofRequest(epoch: 3),
        ]
        for m in messages {
            #expect(m.encoded.first == 2)
            #expect(try ConsensusMessage.decode(m.encoded, hasher: .sha256) == m)
            #expect(m.epoch == 3)
            for cut in [1, 2, m.encoded.count / 2, m.encoded.count - 1] {
                #expect(throws: ChainError.self) { try ConsensusMessage.decode(Array(m.encoded.prefix(cut)), hasher: .sha256) }
            }
        }
        #expect(try ConsensusBlock.decode(block.encoded, hasher: .sha256) == block)
        #expect(block.encoded.first == 0xFF)
        var s = SafetyData.initial(root: root)
        s.highestVotedRound = 2
        s.highTC = tc
        #expect(s.encoded.first == 3)
        #expect(try SafetyData.decode(s.encoded) == s)
        // A version-1 message cannot carry the new kinds.
        var bytes = ConsensusMessage.proofRequest(epoch: 0).encoded
        bytes[0] = 1
        #expect(throws: ChainError.self) { try ConsensusMessage.decode(bytes, hasher: .sha256) }
    }

    /// The test vectors of docs/consensus.md ("Wire format").
    @Test func wireTestVectors() throws {
        func hex(_ b: [UInt8]) -> String { b.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined() }
        let data = VoteData(
            epoch: 1, blockID: Hash256.sha256([1]), round: 2, height: 3, parentID: Hash256.sha256([2]), parentRound: 1)
        let vote = ConsensusMessage.vote(Vote(data: data, signer: "v1", signature: [0xAA, 0xBB]))
        #expect(
            hex(vote.encoded)
                == "0202" + "0000000000000001" + "4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a"
                + "0000000000000002" + "0000000000000003" + "dbc1b4c900ffe48d575b5da5c638040125f65db0fe3e24494b76ea986457d986"
                + "0000000000000001" + "000000027631" + "00000002aabb")
        #expect(
            hex(data.signingBytes)
                == "00000012" + hex(Array("XIANGCHAIN-VOTE-V2".utf8)) + "0000000000000001"
                + "4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a" + "0000000000000002" + "0000000000000003"
                + "dbc1b4c900ffe48d575b5da5c638040125f65db0fe3e24494b76ea986457d986" + "0000000000000001")
        #expect(hex(ConsensusMessage.proofRequest(epoch: 5).encoded) == "02070000000000000005")
        #expect(try ConsensusMessage.decode(vote.encoded, hasher: .sha256) == vote)
    }

    @Test func signaturesOfOneEpochNeverCountInAnother() {
        let validators = set(["v0", "v1", "v2", "v3"])
        let data1 = VoteData(
            epoch: 1, blockID: Hash256.sha256([1]), round: 5, height: 9, parentID: Hash256.sha256([2]), parentRound: 4)
        let data2 = VoteData(epoch: 2, blockID: data1.blockID, round: 5, height: 9, parentID: data1.parentID, parentRound: 4)
        #expect(data1.signingBytes != data2.signingBytes)
        let votes = ["v0", "v1", "v2"].map { SignerSignature(signer: $0, signature: crypto($0).sign(data1.signingBytes)) }
        let root1 = QuorumCertificate.root(epoch: 1, blockID: Hash256.sha256([3]), height: 4)
        let root2 = QuorumCertificate.root(epoch: 2, blockID: Hash256.sha256([3]), height: 4)
        #expect(QuorumCertificate(data: data1, votes: votes).verify(validators: validators, crypto: crypto("v3"), root: root1))
        // Relabelled as epoch 2: the signatures do not cover it.
        #expect(!QuorumCertificate(data: data2, votes: votes).verify(validators: validators, crypto: crypto("v3"), root: root2))
        // Epoch 1's certificate is not one of epoch 2.
        #expect(!QuorumCertificate(data: data1, votes: votes).verify(validators: validators, crypto: crypto("v3"), root: root2))
        // A root QC is valid only in its own epoch, verbatim.
        #expect(root2.verify(validators: validators, crypto: crypto("v3"), root: root2))
        #expect(!root1.verify(validators: validators, crypto: crypto("v3"), root: root2))
        // Timeouts too.
        let t1 = TimeoutMessage.signingBytes(epoch: 1, round: 5, highQCRound: 4)
        #expect(t1 != TimeoutMessage.signingBytes(epoch: 2, round: 5, highQCRound: 4))
        #expect(TimeoutMessage.signingBytes(round: 5, highQCRound: 4) != t1)
        let entries = ["v0", "v1", "v2"].map {
            TimeoutSignature(signer: $0, highQCRound: 4, signature: crypto($0).sign(t1))
        }
        #expect(
            TimeoutCertificate(epoch: 1, round: 5, entries: entries).verify(
                validators: validators, crypto: crypto("v3"), epoch: 1))
        #expect(
            !TimeoutCertificate(epoch: 2, round: 5, entries: entries).verify(
                validators: validators, crypto: crypto("v3"), epoch: 2))
    }

    // MARK: the switch, in a small in-order network

    /// Five nodes v0…v4; epoch 0 is v0…v3. A block whose payload ends with "|next" is the
    /// reconfiguration: when executed, the set becomes v0, v1, v2, v4 (v3 leaves, v4 joins).
    struct Network {
        var managers: [EpochManager<SimCrypto>]
        var executed: [[ConsensusBlock]] = Array(repeating: [], count: 5)
        var inbox: [(to: Int, from: String, ConsensusMessage)] = []
        var down: Set<Int> = []
        var sentAfterSwitch: [String] = []
        /// The last timer each node armed (they fire when the network is quiet).
        var timers: [Int: (round: UInt64, epoch: UInt64)] = [:]
        let next = SimCrypto.validatorSet(["v0", "v1", "v2", "v4"])

        init(genesis: Hash256) {
            let first = EpochInfo.genesis(validators: SimCrypto.validatorSet(["v0", "v1", "v2", "v3"]), genesisID: genesis)
            managers = EpochTests.universe.map { id in
                let c = SimCrypto(selfID: id, ids: EpochTests.universe)
                return EpochManager(
                    current: first, makeCrypto: { _ in c },
                    hooks: PayloadHooks(
                        make: { round, _ in Array("\(id)/\(round)\(round == 3 ? "|next" : "")".utf8) }, now: { 0 }))
            }
        }

        mutating func step(_ i: Int, _ event: ConsensusEvent) {
            guard !down.contains(i) else { return }
            var m = managers[i]
            var out: [ConsensusAction] = []
            var executedNow: [ConsensusBlock] = []
            let nextSet = next
            m.handle(
                event,
                execute: { block, _ in
                    executedNow.append(block)
                    return block.epoch == 0 && block.payload.suffix(5) == Array("|next".utf8) ? nextSet : nil
                },
                perform: { out.append($0) })
            managers[i] = m
            executed[i] += executedNow
            let me = EpochTests.universe[i]
            if case .message(let from, .blockRequest(let id, _)) = event, out.isEmpty {
                // As a node does: the committed chain (of any epoch) is served from its store.
                let chain = executed[i]
                if let at = chain.lastIndex(where: { $0.id == id }) {
                    out.append(.send(to: from, .blockResponse(chain[...at].reversed().prefix(64).map { $0 })))
                }
            }
            for action in out {
                switch action {
                case .send(let to, let message):
                    if let j = EpochTests.universe.firstIndex(of: to) { inbox.append((j, me, message)) }
                    if m.current.epoch > 0, message.epoch == 0, case .vote = message { sentAfterSwitch.append("vote") }
                case .broadcast(let message):
                    for j in EpochTests.universe.indices where j != i { inbox.append((j, me, message)) }
                case .scheduleTimer(let round, _, let epoch): timers[i] = (round, epoch)
                case .commit, .persist, .storeBlock, .scheduleProposal: break
                }
            }
        }

        mutating func run(until done: (Network) -> Bool, limit: Int = 20_000) {
            var steps = 0
            while !done(self), steps < limit {
                if inbox.isEmpty {
                    let due = timers.sorted { $0.key < $1.key }
                    timers.removeAll()
                    for (i, t) in due { step(i, .timer(round: t.round, epoch: t.epoch)) }
                    if inbox.isEmpty { break }
                }
                let (to, from, m) = inbox.removeFirst()
                step(to, .message(from: from, m))
                steps += 1
            }
        }
    }

    @Test func allSwitchAtTheSameBlockAndTheNewSetGoesOn() throws {
        var net = Network(genesis: genesis)
        for i in 0..<5 { net.step(i, .start) }
        net.run { n in n.executed.allSatisfy { $0.count >= 12 } }
        // Every node (the joiner and the leaver, which follow passively, included) executed the
        // same chain and switched at the same block.
        let shortest = net.executed.map(\.count).min()!
        #expect(shortest >= 12)
        #expect(Set(net.executed.map { $0.prefix(shortest).map(\.id) }).count == 1)
        let x = try #require(net.executed[0].first { $0.epoch == 0 && $0.payload.suffix(5) == Array("|next".utf8) })
        for m in net.managers {
            #expect(m.current.epoch == 1 && m.current.rootID == x.id && m.current.validators == net.next)
            #expect(m.ended.last?.lastBlockID == x.id)
        }
        // Nothing after the reconfiguration block in epoch 0 was executed; the next block is of epoch 1.
        let at = net.executed[0].firstIndex { $0.id == x.id }!
        #expect(net.executed[0][at + 1].epoch == 1 && net.executed[0][at + 1].parentID == x.id)
        #expect(net.executed[0][..<(at + 1)].allSatisfy { $0.epoch == 0 })
        // v3 left: passive; v4 joined: votes.
        #expect(!net.managers[3].replica.isVoter && net.managers[4].replica.isVoter)
        // No vote of the old epoch left a node after its switch.
        #expect(net.sentAfterSwitch.isEmpty)
        // Blocks of epoch 1 were certified by the new set (a QC of epoch 1 with signers of V').
        let later = net.executed[4].filter { $0.epoch == 1 }.dropFirst().first!
        #expect(later.qc.votes.allSatisfy { net.next.contains($0.signer) })
    }

    @Test func aReplicaThatMissedTheSwitchCatchesUpFromAProof() throws {
        var net = Network(genesis: genesis)
        // v2 is cut off from the start: v0, v1, v3 make progress alone (3 of 4), then switch.
        net.down = [2]
        for i in 0..<5 { net.step(i, .start) }
        net.run { n in n.managers[0].current.epoch == 1 && n.executed[0].count >= 8 }
        #expect(net.managers[0].current.epoch == 1)
        #expect(net.managers[2].current.epoch == 0)
        // v2 comes back: it hears epoch-1 messages, asks for the proof, commits up to the end of
        // epoch 0 (fetching the blocks), and switches.
        net.down = []
        net.inbox.removeAll { $0.to == 2 }
        net.step(2, .start)
        // Its timeouts of epoch 0 reach the others, which answer with the commit proof.
        net.run { n in n.managers[2].current.epoch == 1 && n.executed[2].count >= n.executed[0].count }
        #expect(net.managers[2].current.epoch == 1)
        #expect(net.managers[2].current.rootID == net.managers[0].current.rootID)
        let common = min(net.executed[2].count, net.executed[0].count)
        #expect(net.executed[2].prefix(common).map(\.id) == net.executed[0].prefix(common).map(\.id))
    }

    @Test func aRestartExactlyAtTheSwitchStartsTheNewEpochFresh() throws {
        // The chain says epoch 1 began at X (the node executed X and stored it atomically), but the
        // crash came before the new epoch's safety data was written: epoch 0's is on disk.
        let first = set(["v0", "v1", "v2", "v3"])
        let c = crypto("v0")
        let x = ConsensusBlock(round: 7, parent: .genesis(genesis), payload: [], timestamp: 0, crypto: crypto("v3"))
        var old = SafetyData.initial(genesisID: genesis)
        old.highestVotedRound = 9
        old.highestQCRound = 7
        let info = EpochInfo(epoch: 1, validators: set(["v0", "v1", "v2", "v4"]), rootID: x.id, rootHeight: x.height)
        var m = EpochManager(
            current: info,
            ended: [
                EpochEnd(
                    info: .genesis(validators: first, genesisID: genesis), lastBlockID: x.id, lastHeight: 1,
                    proof: .genesis(genesis))
            ],
            makeCrypto: { _ in c }, hooks: PayloadHooks(make: { _, _ in [] }, now: { 0 }), safety: old, committed: x,
            storedBlocks: [ConsensusBlock(round: 8, parent: .genesis(genesis), payload: [1], timestamp: 0, crypto: crypto("v0"))])
        #expect(m.replica.epoch == 1 && m.replica.round == 1)
        #expect(m.replica.safety == .initial(root: info.rootQC))
        #expect(m.replica.committed.id == x.id && m.replica.committed.isGenesis)
        // v1 leads round 1 of epoch 1 and proposes on the root; v0 votes for it.
        let proposal = ConsensusBlock(round: 1, parent: info.rootQC, payload: [], timestamp: 0, crypto: crypto("v1"))
        let actions = m.handle(.message(from: "v1", .proposal(proposal, tc: nil)))
        #expect(actions.contains { if case .send(_, .vote(let v)) = $0 { v.data.epoch == 1 } else { false } })
    }
}
