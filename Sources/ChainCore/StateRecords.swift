// Plain records of committed state and events, shared by the store that keeps them and the
// code that reads them.

/// One committed state entry.
public struct StateEntry: Sendable, Equatable {
    /// The full key (contract name, slash, contract key).
    public let key: String
    /// The stored bytes.
    public let value: [UInt8]

    /// Creates an entry.
    public init(key: String, value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

/// A committed contract event with its position in the chain.
public struct StoredEvent: Sendable, Equatable {
    /// Block height.
    public let height: UInt64
    /// Transaction index in the block.
    public let index: Int
    /// Event index within the transaction's result.
    public let seq: Int
    /// Emitting contract.
    public let contract: String
    /// Event name.
    public let name: String
    /// Event data, canonical JSON text.
    public let data: String

    /// Creates an event record.
    public init(height: UInt64, index: Int, seq: Int, contract: String, name: String, data: String) {
        self.height = height
        self.index = index
        self.seq = seq
        self.contract = contract
        self.name = name
        self.data = data
    }
}
