import ChainCore
import Consensus

/// SplitMix64: a small, fast, seedable generator, so a simulation seed replays exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Seeds the generator.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { p > 0 && Double.random(in: 0..<1, using: &self) < p }
}

/// Cheap keyed-hash "signatures" for simulation: each validator signs with its own secret and the
/// verifier recomputes. A replica can only sign as itself, as with real keys, at a fraction of the cost.
public struct SimCrypto: ConsensusCrypto {
    /// This replica's id.
    public let selfID: String
    let secrets: [String: [UInt8]]

    /// Crypto for `selfID` among `ids`.
    public init(selfID: String, ids: [String]) {
        self.selfID = selfID
        var s: [String: [UInt8]] = [:]
        for id in ids { s[id] = Hash256.sha256(Array("sim-secret/\(id)".utf8)).bytes }
        secrets = s
    }

    public func sign(_ message: [UInt8]) -> [UInt8] {
        Hash256.sha256(parts: [secrets[selfID] ?? [], message]).bytes
    }

    public func verify(signer: String, message: [UInt8], signature: [UInt8]) -> Bool {
        guard let secret = secrets[signer] else { return false }
        return Hash256.sha256(parts: [secret, message]).bytes == signature
    }

    /// The validator set these secrets stand for (keys are placeholders: verification uses the secrets).
    public static func validatorSet(_ ids: [String]) -> ValidatorSet {
        // Force-try is safe: ids are generated unique and each gets a key.
        try! ValidatorSet(ids: ids, keys: Dictionary(uniqueKeysWithValues: ids.map { ($0, Array($0.utf8)) }))
    }
}

/// A binary min-heap of simulation events ordered by (time, sequence).
struct EventQueue<Element> {
    private var heap: [(time: Int, seq: Int, element: Element)] = []
    private var seq = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    mutating func push(_ element: Element, at time: Int) {
        seq += 1
        heap.append((time, seq, element))
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard less(i, p) else { break }
            heap.swapAt(i, p)
            i = p
        }
    }

    mutating func pop() -> (time: Int, element: Element)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < heap.count, less(l, m) { m = l }
            if r < heap.count, less(r, m) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        return (top.time, top.element)
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].time < heap[b].time || (heap[a].time == heap[b].time && heap[a].seq < heap[b].seq)
    }
}
