import ChainCore
import Execution
import Identity

/// One method of the crab contract: its name, the roles that may call it, the CBV 2.0 business
/// step its history entries carry (nil: none, e.g. membership and season administration), and
/// what it does. `CrabTraceContract.methods` lists them all; admission, execution and history
/// read that one table.
public struct CrabMethod: Sendable {
    /// The method name transactions use.
    public let name: String
    /// Roles allowed to call it (admission checks them, and execution again).
    public let roles: Set<Role>
    /// The CBV 2.0 business step of its history entries, if any.
    public let bizStep: String?
    /// Runs the method on a step in progress.
    let run: @Sendable (CrabTraceContract, JSONValue, CrabStep) throws -> Void

    init(
        _ name: String, roles: Set<Role>, bizStep: String?,
        _ run: @escaping @Sendable (CrabTraceContract, JSONValue, CrabStep) throws -> Void
    ) {
        self.name = name
        self.roles = roles
        self.bizStep = bizStep
        self.run = run
    }
}
