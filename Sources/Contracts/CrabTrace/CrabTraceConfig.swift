/// Deployment settings of the crab contract that are not season data.
public struct CrabTraceConfig: Sendable, Hashable {
    /// Host of the GS1 Digital Link resolver printed in codes, e.g. "id.xiangchain.example".
    public var resolver: String

    /// Creates a configuration.
    public init(resolver: String = "id.xiangchain.example") {
        self.resolver = resolver
    }
}
