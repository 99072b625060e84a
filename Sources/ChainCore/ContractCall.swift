/// One call of a contract method with its arguments, not yet signed: what typed call builders
/// (such as `CrabCall`) return and `SigningIdentity.transaction(chain:call:)` signs.
public struct ContractCall: Sendable, Hashable {
    /// Target contract name.
    public var contract: String
    /// Contract method name.
    public var method: String
    /// Method arguments; a JSON object.
    public var args: JSONValue

    /// Creates a call of `contract.method(args)`.
    public init(contract: String, method: String, args: JSONValue) {
        self.contract = contract
        self.method = method
        self.args = args
    }
}
