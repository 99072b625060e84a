import ChainCore
import Execution

/// The crab contract's lookups offered to WebAssembly contracts (`docs/contracts.md`): `member
/// {org}`, the member record of an org (the record `GET /v1/crab/members/{org}` shows anyone), or
/// null. One key read, so its cost does not depend on the state. The 三资 contract uses it to check
/// that a pond's tenant is a registered crab farm.
extension CrabTraceContract: QueryableContract {
    public var contractQueries: Set<String> { ["member"] }

    public func contractQuery(method: String, args: JSONValue, state: QueryState) throws -> JSONValue {
        switch method {
        case "member":
            let a = try Arguments(args, allowed: ["org"])
            let org = try a.identifier("org")
            return try state.getJSON(CrabKeys.member(org)) ?? .null
        default:
            throw ChainError(.queryNotAllowed, "contract crab offers no query \"\(method)\" to contracts")
        }
    }
}
