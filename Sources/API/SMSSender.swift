import ChainCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sends a text message to a consumer's phone: the plug-in point for an SMS provider
/// (`docs/crabtrace.md`, "SMS sender"). The phone is normalised (`PhoneNumber`, `+86…` or `+…`).
/// An implementation returns once the provider has taken the message, throws when it has not
/// (the route answers `sms_failed` and voids the code), and never logs the text or the phone in
/// clear: a one-time code in a log is a code anyone with the log can use.
public protocol SMSSender: Sendable {
    /// Sends `text` to `phone`; throws when the provider did not take it.
    func send(phone: String, text: String) async throws
}

/// The devnet's SMS sender: appends one JSON line `{at, to, text}` per message to
/// `<node home>/sms.log` (0600), where a tester (or the browser tests) reads the codes. Not for
/// production: the file holds phones and live codes in clear.
public struct FileSMSSender: SMSSender {
    /// The log file.
    public let fileURL: URL

    /// A sender appending to `<home>/sms.log`.
    public init(home: URL) {
        fileURL = home.appendingPathComponent("sms.log")
    }

    /// Appends the message as one line.
    public func send(phone: String, text: String) async throws {
        let line =
            JSONValue.object([
                "at": .int(Int64(Date().timeIntervalSince1970 * 1000)), "to": .string(phone), "text": .string(text),
            ]).canonicalBytes + [0x0A]
        let fd = open(fileURL.path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw ChainError(.smsFailed, "cannot open \(fileURL.lastPathComponent): errno \(errno)") }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else {
            throw ChainError(.smsFailed, "cannot append to \(fileURL.lastPathComponent): errno \(errno)")
        }
    }
}
