import ChainCore
import Identity

/// A native contract: a named set of methods that read and write state only through the
/// execution context. Implementations must be deterministic: the same calls on the same state
/// give the same writes, events and errors on every node.
public protocol Contract: Sendable {
    /// The name transactions use in their `contract` field.
    var name: String { get }

    /// Runs `method` with `args`. Throw a `ChainError` to fail the transaction: it is then
    /// recorded with that code and message, and none of its writes are kept.
    func execute(method: String, args: JSONValue, context: ExecutionContext) throws

    /// The roles allowed to call `method`, or nil when the method does not exist. Checked at
    /// admission (so a wrong role is refused before it reaches a block) and again by the method.
    func allowedRoles(method: String) -> Set<Role>?
}

/// The contracts a chain runs, by name.
public struct ContractRegistry: Sendable {
    private var contracts: [String: any Contract] = [:]

    /// Registers the given contracts.
    public init(_ contracts: [any Contract]) {
        for c in contracts { self.contracts[c.name] = c }
    }

    /// The contract with this name.
    public subscript(name: String) -> (any Contract)? { contracts[name] }

    /// Registered names, sorted.
    public var names: [String] { contracts.keys.sorted() }
}

/// Reads and checks contract arguments, failing with `bad_args` and a message that names the field.
public struct Arguments {
    let object: [String: JSONValue]

    /// Wraps a call's args; refuses members other than `allowed`.
    public init(_ args: JSONValue, allowed: Set<String>) throws(ChainError) {
        guard let o = args.objectValue else { throw ChainError(.badArgs, "args must be an object") }
        if let extra = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw ChainError(.badArgs, "unknown argument \"\(extra)\"")
        }
        object = o
    }

    /// A required string of 1...maxLength characters.
    public func string(_ name: String, maxLength: Int = 256) throws(ChainError) -> String {
        guard let s = object[name]?.stringValue else { throw ChainError(.badArgs, "\"\(name)\" must be a string") }
        guard !s.isEmpty, s.unicodeScalars.count <= maxLength else {
            throw ChainError(.badArgs, "\"\(name)\" must be 1–\(maxLength) characters (Unicode code points)")
        }
        return s
    }

    /// An optional string.
    public func optionalString(_ name: String, maxLength: Int = 256) throws(ChainError) -> String? {
        guard object[name] != nil, object[name] != .null else { return nil }
        return try string(name, maxLength: maxLength)
    }

    /// A required integer within `range`.
    public func int(_ name: String, in range: ClosedRange<Int64>) throws(ChainError) -> Int64 {
        guard let v = object[name]?.int64Value, range.contains(v) else {
            throw ChainError(.badArgs, "\"\(name)\" must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    /// An optional JSON object.
    public func optionalObject(_ name: String) throws(ChainError) -> [String: JSONValue]? {
        guard let v = object[name], v != .null else { return nil }
        guard let o = v.objectValue else { throw ChainError(.badArgs, "\"\(name)\" must be an object") }
        return o
    }

    /// The raw value of a member.
    public subscript(name: String) -> JSONValue? { object[name] }
}
