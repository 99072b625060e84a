import ChainCore

/// A host and TCP port, written `host:port` (an IPv6 host in brackets: `[::1]:7000`).
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address literal, without brackets.
    public let host: String
    /// TCP port, 0–65535 (0 lets the system choose when listening).
    public let port: Int

    /// An address from its parts; fails on a port outside 0–65535 or an empty host.
    public init(host: String, port: Int) throws(ChainError) {
        guard !host.isEmpty else { throw ChainError(.badAddress, "empty host") }
        guard (0...65535).contains(port) else { throw ChainError(.badAddress, "port \(port) is outside 0–65535") }
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[ipv6]:port`.
    public init(parsing text: String) throws(ChainError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ChainError(.badAddress, "\"\(text)\" is not [ipv6]:port")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw ChainError(.badAddress, "\"\(text)\" is not host:port")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), portText.count <= 5,
            let port = Int(portText)
        else {
            throw ChainError(.badAddress, "\"\(text)\" has no valid port")
        }
        try self.init(host: String(host), port: port)
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
