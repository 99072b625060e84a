/// An event emitted by a contract during a transaction.
public struct ContractEvent: Sendable, Hashable {
    /// Emitting contract.
    public let contract: String
    /// Event name, for example `evidence_put`.
    public let name: String
    /// Event data.
    public let data: JSONValue

    /// Creates an event.
    public init(contract: String, name: String, data: JSONValue) {
        self.contract = contract
        self.name = name
        self.data = data
    }
}

/// What executing one transaction produced. A failed transaction is recorded with its error
/// and changes no state.
public struct TransactionResult: Sendable, Hashable {
    /// The transaction id.
    public let txid: Hash256
    /// Nil when the transaction succeeded.
    public let error: ChainError?
    /// Events emitted (empty when failed).
    public let events: [ContractEvent]
    /// The transaction's result value: a WebAssembly contract call's JSON result; nil when it
    /// returned none (null), when it failed, and for native contracts.
    public let value: JSONValue?

    /// Creates a result. A `value` of JSON null is recorded as no value.
    public init(txid: Hash256, error: ChainError?, events: [ContractEvent], value: JSONValue? = nil) {
        self.txid = txid
        self.error = error
        self.events = events
        self.value = value == .null ? nil : value
    }

    /// True when the transaction succeeded.
    public var succeeded: Bool { error == nil }

    /// Canonical bytes: the leaf data of the result root (layout in `docs/proofs.md`).
    public var encoded: [UInt8] {
        var w = BinaryWriter()
        w.hash(txid)
        w.u8(error == nil ? 0 : 1)
        w.string(error?.code.rawValue ?? "")
        w.string(error?.message ?? "")
        w.u32(UInt32(events.count))
        for e in events {
            w.string(e.contract)
            w.string(e.name)
            w.lengthPrefixed(e.data.canonicalBytes)
        }
        // Added with result values: absent when there is none, so every earlier result (and every
        // result without a value) encodes, hashes and decodes exactly as before.
        if let value {
            w.u8(1)
            w.lengthPrefixed(value.canonicalBytes)
        }
        return w.bytes
    }

    /// Decodes `encoded` (the form results are stored and hashed in).
    public init(decoding bytes: [UInt8]) throws(ChainError) {
        var r = BinaryReader(bytes)
        let txid = try r.hash()
        let failed = try r.u8() == 1
        let code = try r.string()
        let message = try r.string()
        let n = try r.u32()
        var events: [ContractEvent] = []
        for _ in 0..<n {
            let contract = try r.string()
            let name = try r.string()
            let data = try JSONParser().parse(try r.lengthPrefixed())
            events.append(ContractEvent(contract: contract, name: name, data: data))
        }
        var value: JSONValue?
        if r.remaining > 0 {
            guard try r.u8() == 1 else { throw .decoding("unknown result value tag") }
            let parsed = try JSONParser().parse(try r.lengthPrefixed())
            // Null is never encoded (it means no value), so its encoding is not canonical.
            guard parsed != .null else { throw .decoding("a result value of null is encoded as none") }
            value = parsed
        }
        try r.finish()
        self.init(
            txid: txid, error: failed ? ChainError(ErrorCode(named: code), message) : nil, events: events, value: value)
    }

    /// The result root of a block's results, in block order.
    public static func root(_ results: [TransactionResult], hasher: ChainHasher) -> Hash256 {
        MerkleTree.root(leaves: results.map(\.encoded), hasher: hasher)
    }
}

/// One state write: a key set to a value, or deleted (nil).
public struct StateWrite: Sendable, Hashable {
    /// Full key, namespaced by contract (`<contract>/<key>`).
    public let key: String
    /// New value, or nil to delete.
    public let value: [UInt8]?

    /// Creates a write.
    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// The running hash of all state writes: each block's writes (sorted by key) fold into it.
public enum StateHash {
    /// Domain tag.
    static let domain = Array("XIANGCHAIN-STATE-V1".utf8)

    /// The state hash of a fresh chain, from the genesis document's hash.
    public static func genesis(_ genesisHash: Hash256, hasher: ChainHasher) -> Hash256 {
        hasher.hash(parts: [domain, genesisHash.bytes])
    }

    /// Folds one block's writes into the previous state hash.
    public static func next(previous: Hash256, height: UInt64, writes: [StateWrite], hasher: ChainHasher) -> Hash256 {
        // By the keys' bytes, each key's bytes made once (not twice per comparison).
        let keyed = writes.map { (key: Array($0.key.utf8), value: $0.value) }.sorted {
            $0.key.lexicographicallyPrecedes($1.key)
        }
        // The write set goes to the hash in pieces of about `piece` bytes: a block of a season's
        // rings (500 to a transaction) writes ~100 MB, which a single buffer held a second time
        // (and grew by copying) at the node's peak of memory (`docs/performance.md`, nineteenth pass).
        let piece = 1 << 16
        let writeSetHash = hasher.hash { feed in
            var w = BinaryWriter()
            w.u32(UInt32(keyed.count))
            for s in keyed {
                w.lengthPrefixed(s.key)
                if let v = s.value {
                    w.u8(1)
                    if v.count >= piece {
                        // Not copied into the piece: its length, then itself.
                        w.u32(UInt32(v.count))
                        feed(w.bytes)
                        w.removeAll()
                        feed(v)
                    } else {
                        w.lengthPrefixed(v)
                    }
                } else {
                    w.u8(0)
                }
                if w.bytes.count >= piece {
                    feed(w.bytes)
                    w.removeAll()
                }
            }
            feed(w.bytes)
        }
        var h = BinaryWriter()
        h.u64(height)
        return hasher.hash(parts: [domain, previous.bytes, h.bytes, writeSetHash.bytes])
    }
}
