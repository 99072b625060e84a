import ChainCore

/// A native contract whose read-only lookups WebAssembly contracts may make during a transaction
/// (host function `query`, `docs/contracts.md`).
///
/// The contract names the queries it offers; that list is the chain's allow-list for it, so it is
/// part of the chain's rules. Each offered query must be a lookup of a fixed number of keys (its
/// cost cannot grow with the state, so one flat fuel price is fair), of records the chain already
/// shows to anyone, and deterministic: it reads only through the ``QueryState`` it is given.
public protocol QueryableContract: Contract {
    /// The methods offered to WebAssembly contracts.
    var contractQueries: Set<String> { get }

    /// Runs the offered query `method` with `args` against `state`. Throw a `ChainError` for a
    /// malformed query: it is handed to the calling contract. An absent record is `null`, not an error.
    func contractQuery(method: String, args: JSONValue, state: QueryState) throws -> JSONValue
}

/// What a native query reads: the queried contract's own keys, as of the running transaction
/// (committed state plus the writes of the block's earlier successful transactions).
public struct QueryState {
    /// The queried contract; keys are namespaced under it.
    public let contract: String
    let reader: (String) throws -> [UInt8]?

    /// A view of `contract`'s keys through `read`, which takes full keys (`<contract>/<key>`).
    public init(contract: String, read: @escaping (String) throws -> [UInt8]?) {
        self.contract = contract
        self.reader = read
    }

    /// The value under `key` in the contract's state.
    public func get(_ key: String) throws -> [UInt8]? {
        // Never written (`StateKey.holdsNUL`): not asked of the store, which would cut it short.
        guard !StateKey.holdsNUL(key) else { return nil }
        return try reader("\(contract)/\(key)")
    }

    /// The JSON value under `key` (state that does not parse is a fault of the node).
    public func getJSON(_ key: String) throws -> JSONValue? {
        guard let raw = try get(key) else { return nil }
        do {
            return try JSONParser().parse(raw)
        } catch {
            throw StateReadFault(underlying: error)
        }
    }
}

extension ContractRegistry {
    /// Runs `contract`'s query `method` with `args` against `read` (full keys), refusing a contract
    /// that does not exist (`unknown_contract`) and a query it does not offer (`query_not_allowed`).
    public func nativeQuery(
        contract: String, method: String, args: JSONValue, read: @escaping (String) throws -> [UInt8]?
    ) throws -> JSONValue {
        guard let target = self[contract] else {
            throw ChainError(.unknownContract, "no native contract named \"\(contract)\"")
        }
        guard let queryable = target as? any QueryableContract, queryable.contractQueries.contains(method) else {
            let offered = offeredQueries
            throw ChainError(
                .queryNotAllowed,
                "contract \(contract) offers no query \"\(method)\" to contracts; the chain offers "
                    + (offered.isEmpty ? "none" : offered.joined(separator: ", ")))
        }
        return try queryable.contractQuery(method: method, args: args, state: QueryState(contract: contract, read: read))
    }

    /// Every query offered to WebAssembly contracts, as `contract.method`, sorted.
    public var offeredQueries: [String] {
        names.flatMap { name in
            ((self[name] as? any QueryableContract)?.contractQueries ?? []).map { "\(name).\($0)" }
        }.sorted()
    }
}
