import ChainCore

/// Who signed the call, as the host established it from a verified certificate.
public struct WasmSigner: Sendable, Hashable {
    /// Organisation (certificate subject O).
    public var org: String
    /// Role (subject OU), as its raw string.
    public var role: String
    /// Account name (subject CN).
    public var subject: String
    /// Lowercase hex SHA-256 of the certificate's DER bytes.
    public var certificateFingerprint: String

    /// Creates a signer.
    public init(org: String, role: String, subject: String, certificateFingerprint: String) {
        self.org = org
        self.role = role
        self.subject = subject
        self.certificateFingerprint = certificateFingerprint
    }
}

/// What a call runs in: the signer, the transaction and the block.
public struct WasmCallContext: Sendable, Hashable {
    /// Who signed the transaction (for a query, who asked).
    public var signer: WasmSigner
    /// The transaction id (lowercase hex); empty for a query.
    public var transactionID: String
    /// Height of the block being executed (for a query, of the latest committed block).
    public var blockHeight: UInt64
    /// Timestamp of that block, unix milliseconds: the only clock a contract sees.
    public var blockTime: Int64

    /// Creates a context.
    public init(signer: WasmSigner, transactionID: String, blockHeight: UInt64, blockTime: Int64) {
        self.signer = signer
        self.transactionID = transactionID
        self.blockHeight = blockHeight
        self.blockTime = blockTime
    }
}

/// One state entry, with its key relative to the contract's namespace.
public struct WasmStateEntry: Sendable, Hashable {
    /// The key (UTF-8 bytes, without the contract's namespace prefix).
    public var key: [UInt8]
    /// The value.
    public var value: [UInt8]

    /// Creates an entry.
    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

/// What the embedder provides to a running contract: reads of the contract's own state and
/// read-only queries of native contracts. The plug-in point between ``WasmRuntime`` and a chain.
///
/// Writes never reach the host during a call: the runtime buffers them and hands them back in
/// ``WasmCallOutcome/writes`` only when the call succeeds. Reads must see the state as of this
/// transaction (committed state plus the writes of the block's earlier successful transactions);
/// the runtime adds the call's own writes on top.
///
/// Any error other than a `ChainError` from `queryNative` is treated as a fault of the node, not of
/// the contract: the runtime rethrows it as ``WasmHostFault`` so the embedder can stop the block
/// rather than record a failure other nodes would not see.
public protocol WasmHost {
    /// The value under `key` in the contract's namespace, or nil.
    func read(_ key: [UInt8]) throws -> [UInt8]?

    /// Up to `limit` entries whose key starts with `prefix` and is greater than `after` (when
    /// given), in ascending byte order of the key.
    func scan(prefix: [UInt8], after: [UInt8]?, limit: Int) throws -> [WasmStateEntry]

    /// Runs a read-only query of a native contract. Throw a `ChainError` for a failed query (it is
    /// handed to the contract); anything else stops the call as a host fault.
    func queryNative(contract: String, method: String, args: JSONValue) throws -> JSONValue
}

/// A failure of the host (for example, state that cannot be read), raised out of a call instead
/// of a result: recording it would make nodes diverge.
public struct WasmHostFault: Error {
    /// The underlying error.
    public let underlying: any Error
}
