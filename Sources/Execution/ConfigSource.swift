import ChainCore
import Identity

/// Where the chain configuration in force comes from: the `governance` contract's state
/// (`governance/config`, written when a proposal passes), or the genesis configuration before any
/// change. Execution reads it once per block, from the committed state the block starts from.
public struct ConfigSource: Sendable {
    /// The full state key of the stored configuration.
    public static let stateKey = "governance/config"

    /// The genesis configuration.
    public let initial: ChainConfig
    /// Membership services by configuration (the latest one also serves admission).
    public let memberships: MembershipCache

    /// A source starting from `initial`.
    public init(initial: ChainConfig) throws(ChainError) {
        self.initial = initial
        memberships = try MembershipCache(initial)
    }

    /// The configuration in force over `state`.
    public func config(in state: any StateReader) throws -> ChainConfig {
        let raw: [UInt8]?
        do {
            raw = try state.read(Self.stateKey)
        } catch {
            throw StateReadFault(underlying: error)
        }
        guard let raw else { return initial }
        return try ChainConfig(canonical: raw)
    }

    /// The membership service of `config`.
    public func membership(for config: ChainConfig) throws(ChainError) -> MembershipService {
        try memberships.service(for: config)
    }
}
