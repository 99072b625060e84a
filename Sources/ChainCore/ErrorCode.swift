/// What kind of failure an error code reports. The API edge turns each kind into one HTTP status
/// (`APIError`); everything else only reads the code.
public enum ErrorKind: String, Sendable, CaseIterable {
    /// The input is malformed or out of range (400).
    case invalid
    /// The caller could not be authenticated: signature, certificate, session (401).
    case unauthenticated
    /// The caller is known but may not do this (403).
    case forbidden
    /// No such resource (404).
    case notFound
    /// The route exists, not for this method (405).
    case methodNotAllowed
    /// The request asks for a version or representation the node does not serve (406).
    case notAcceptable
    /// The request conflicts with what already exists (409).
    case conflict
    /// The resource existed and was removed on purpose (410): a pruned block body, an expired transaction.
    case gone
    /// Too large (413).
    case tooLarge
    /// The body's media type is not one the route takes (415).
    case unsupportedMediaType
    /// Well-formed, but refused by a contract's rules (422).
    case rejected
    /// The account is locked for a while (423).
    case locked
    /// Too many requests from this client; retry later (429).
    case rateLimited
    /// A peer or upstream node misbehaved or failed (502).
    case peer
    /// The node cannot serve this now; retry later (503).
    case unavailable
    /// A fault inside the node (500): a bug, or damaged storage.
    case fault
}

/// A stable, machine-readable error code with its kind. The codes are part of the public contract
/// (API clients and tests match on them); `ErrorCatalogue.swift` lists every one, and
/// `docs/errors.md` documents them. Two codes are equal when their names are.
public struct ErrorCode: Sendable, Hashable, CustomStringConvertible {
    /// The snake_case name, as it appears on the wire and on chain.
    public let rawValue: String
    /// The kind, which decides the HTTP status.
    public let kind: ErrorKind
    /// The catalogue section it belongs to ("" for codes outside the catalogue).
    public let area: String
    /// One line saying what it means.
    public let summary: String

    init(_ rawValue: String, _ kind: ErrorKind, area: String, _ summary: String) {
        self.rawValue = rawValue
        self.kind = kind
        self.area = area
        self.summary = summary
    }

    /// The catalogue's code named `raw`; a name outside the catalogue (a code recorded by a
    /// contract that defines its own, or answered by a newer node) keeps its name with `unknownKind`.
    public init(named raw: String, unknownKind: ErrorKind = .rejected) {
        self = Self.byName[raw] ?? ErrorCode(raw, unknownKind, area: "", "")
    }

    /// The catalogue entry named `raw`, if any.
    public static func known(_ raw: String) -> ErrorCode? { byName[raw] }

    private static let byName: [String: ErrorCode] = Dictionary(
        catalogue.map { ($0.rawValue, $0) }, uniquingKeysWith: { first, _ in first })

    public static func == (a: ErrorCode, b: ErrorCode) -> Bool { a.rawValue == b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public var description: String { rawValue }
}
