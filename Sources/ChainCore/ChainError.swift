/// An error with a stable, machine-readable code and a human message.
///
/// The code is part of the public contract (API clients and tests match on it; every code is in
/// `ErrorCatalogue.swift` and `docs/errors.md`); the message is for people. A failed transaction's
/// code and message are both hashed into its block's result root, so a contract's messages must be
/// deterministic and change only with a contract upgrade. The HTTP status is chosen once, at the
/// API edge, from the code's kind.
public struct ChainError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable code, for example `bad_signature`.
    public let code: ErrorCode
    /// Human-readable explanation.
    public let message: String

    /// Creates an error with a stable code and a message.
    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`, for logs.
    public var description: String { "\(code.rawValue): \(message)" }
}

extension ChainError {
    /// Malformed input: bad encoding, wrong types, missing fields.
    public static func malformed(_ message: String) -> ChainError { ChainError(.malformed, message) }
    /// Binary data that ends early or carries impossible lengths.
    public static func decoding(_ message: String) -> ChainError { ChainError(.decodingFailed, message) }
}
