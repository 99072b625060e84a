import ChainCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One keep-alive HTTP/1.1 connection over a blocking TCP socket: how the load generator's
/// clients submit to `http://` nodes. It writes a request and reads its answer; nothing else runs
/// per request. AsyncHTTPClient, which the clients used before, took about an eighth of this
/// 2-core machine at ~1,500 submissions a second (`docs/performance.md`, fourteenth pass) — CPU
/// the nodes under test did not get. Blocking: use it on a thread of its own
/// (`BenchRunner.onThreads`), never on the cooperative pool. `https://` targets keep the
/// AsyncHTTPClient clients.
///
/// The answer is read as RFC 9112 frames it: a `Content-Length` body, a chunked body (trailers
/// skipped), or, with neither, a body up to the end of the connection. A connection the node
/// closes (`Connection: close`, or after a body read to the end) is opened again for the next
/// request; a request is never sent twice.
final class PlainHTTPConnection {
    let host: String
    let port: Int
    /// Largest status line and headers, and largest body, of an answer.
    static let maxHeadBytes = 64 * 1024
    static let maxBodyBytes = 64 * 1024 * 1024
    /// Socket send and receive timeout.
    let timeoutSeconds: Int

    private var fd: Int32 = -1
    /// Bytes read and not yet consumed: `buffer[consumed...]`.
    private var buffer: [UInt8] = []
    private var consumed = 0

    /// A connection to `url` (`http://host:port`), opened at the first request.
    init(url: URL, timeoutSeconds: Int = 60) throws(ChainError) {
        guard url.scheme == "http", let host = url.host, !host.isEmpty else {
            throw ChainError(.badConfig, "a plain HTTP connection needs an http:// URL, not \(url.absoluteString)")
        }
        self.host = host
        self.port = url.port ?? 80
        // A node behind a reverse proxy under a path (`http://host/chain`): requests go below it.
        basePath = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
        self.timeoutSeconds = timeoutSeconds
    }

    /// The path the node's URL carries, without a trailing slash ("" for none); request paths go below it.
    let basePath: String

    /// The `Host` header's value: an IPv6 literal in brackets (RFC 9110, 7.2), then the port.
    var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    deinit { close() }

    /// Whether a socket is open.
    var isConnected: Bool { fd >= 0 }

    /// Closes the socket (the next request opens another).
    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
        buffer.removeAll(keepingCapacity: true)
        consumed = 0
    }

    /// `POST path` with a JSON body; the answer's status and body.
    func post(_ path: String, body: [UInt8]) throws(ChainError) -> (status: Int, body: [UInt8]) {
        // A kept connection the node closed meanwhile (its idle timeout) is opened again before
        // the request is written, so the request still goes out once.
        if fd >= 0, !isOpen() { close() }
        if fd < 0 { try open() }
        var request = Array(
            "POST \(basePath)\(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
                .utf8)
        request.append(contentsOf: body)
        do {
            try write(request)
            return try readResponse()
        } catch {
            close()
            throw error
        }
    }

    func open() throws(ChainError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw ChainError(.upstreamUnavailable, "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        var last: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let a = entry {
            let s = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if s >= 0 {
                if connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                    var one: Int32 = 1
                    setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    var t = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
                    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &t, socklen_t(MemoryLayout<timeval>.size))
                    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &t, socklen_t(MemoryLayout<timeval>.size))
                    fd = s
                    return
                }
                last = errno
                _ = Glibc.close(s)
            } else {
                last = errno
            }
            entry = a.pointee.ai_next
        }
        throw ChainError(.upstreamUnavailable, "cannot connect to \(host):\(port): \(String(cString: strerror(last)))")
    }

    /// Whether bytes can be read without waiting past `deadline`: some are buffered, or the socket
    /// becomes readable (or reports its end or an error, which the read then reports) by then.
    func readable(before deadline: ContinuousClock.Instant) -> Bool {
        if consumed < buffer.count || fd < 0 { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let left = deadline - .now
            let ms = left <= .zero ? 0 : Int32(min((left / .milliseconds(1)).rounded(.up), 60_000))
            let n = poll(&p, 1, ms)
            if n > 0 { return true }
            if n < 0, errno != EINTR { return true }
            if n == 0, ContinuousClock.now >= deadline { return false }
        }
    }

    /// Whether the kept connection is still open: nothing to read (an answer is never pending
    /// between requests), no end of file, no error.
    private func isOpen() -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    func write(_ bytes: [UInt8]) throws(ChainError) {
        var sent = 0
        while sent < bytes.count {
            // MSG_NOSIGNAL: a node that closed the connection is an error here, not SIGPIPE.
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                throw ChainError(.upstreamUnavailable, "sending to \(host):\(port) failed: \(String(cString: strerror(e)))")
            }
            guard n > 0 else { throw ChainError(.upstreamUnavailable, "sending to \(host):\(port) made no progress") }
            sent += n
        }
    }

    /// Reads more bytes into the buffer; false at the end of the connection.
    private func fill() throws(ChainError) -> Bool {
        if consumed > 0, consumed == buffer.count || consumed >= 64 * 1024 {
            buffer.removeFirst(consumed)
            consumed = 0
        }
        let chunk = 16 * 1024
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: chunk))
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + old, chunk, 0) }
            let e = errno
            if n < 0, e == EINTR { continue }
            if n < 0 {
                buffer.removeLast(chunk)
                let what =
                    e == EAGAIN || e == EWOULDBLOCK
                    ? "no answer within \(timeoutSeconds) s" : String(cString: strerror(e))
                throw ChainError(.upstreamUnavailable, "reading from \(host):\(port) failed: \(what)")
            }
            buffer.removeLast(chunk - n)
            return n > 0
        }
    }

    /// The index just past the next CRLF at or after `consumed` (reading more as needed), within `limit` bytes.
    private func line(limit: Int) throws(ChainError) -> Range<Int> {
        // Bytes after `consumed` already looked at (`fill` may move the buffer's start).
        var scanned = 0
        while true {
            var i = consumed + scanned
            while i + 1 < buffer.count {
                if buffer[i] == 13, buffer[i + 1] == 10 { return consumed..<i }
                i += 1
            }
            scanned = max(0, buffer.count - 1 - consumed)
            guard buffer.count - consumed <= limit else {
                throw ChainError(.malformed, "\(host):\(port) sent a line longer than \(limit) bytes")
            }
            guard try fill() else { throw ChainError(.upstreamUnavailable, "\(host):\(port) closed the connection mid-answer") }
        }
    }

    /// The next line as text, consumed with its CRLF.
    func takeLine(limit: Int) throws(ChainError) -> String {
        let r = try line(limit: limit)
        consumed = r.upperBound + 2
        return String(decoding: buffer[r], as: UTF8.self)
    }

    /// Exactly `count` bytes.
    func take(_ count: Int) throws(ChainError) -> ArraySlice<UInt8> {
        while buffer.count - consumed < count {
            guard try fill() else { throw ChainError(.upstreamUnavailable, "\(host):\(port) closed the connection mid-body") }
        }
        defer { consumed += count }
        return buffer[consumed..<(consumed + count)]
    }

    /// One answer's head: its status line, then its header lines up to the empty one, as
    /// (lowercased name, value trimmed of spaces). `used` counts the head bytes read so far for
    /// this answer; past `maxHeadBytes` in all, the answer is refused.
    func readHead(used: inout Int) throws(ChainError) -> (statusLine: String, headers: [(name: String, value: String)]) {
        let statusLine = try headLine(used: &used)
        var headers: [(name: String, value: String)] = []
        while true {
            let h = try headLine(used: &used)
            if h.isEmpty { break }
            guard let colon = h.firstIndex(of: ":") else {
                throw ChainError(.malformed, "\(host):\(port) sent a header line without a colon")
            }
            headers.append((h[..<colon].lowercased(), h[h.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return (statusLine, headers)
    }

    /// One line of a head (or of a chunked body's trailers), counted in `used`.
    private func headLine(used: inout Int) throws(ChainError) -> String {
        let l = try takeLine(limit: max(0, Self.maxHeadBytes - used))
        used += l.utf8.count + 2
        guard used <= Self.maxHeadBytes else {
            throw ChainError(.malformed, "\(host):\(port) sent a head over \(Self.maxHeadBytes) bytes")
        }
        return l
    }

    func readResponse() throws(ChainError) -> (status: Int, body: [UInt8]) {
        // Bounded over the whole answer, interim heads (100 Continue) included.
        var headBytes = 0
        while true {
            let (statusLine, headers) = try readHead(used: &headBytes)
            let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0", parts[1].utf8.count == 3,
                let status = Int(parts[1]), (100...599).contains(status)
            else {
                throw ChainError(.malformed, "\(host):\(port) answered with a bad status line: \(statusLine.prefix(80))")
            }
            var length: Int?
            var chunked = false
            var closes = parts[0] == "HTTP/1.0"
            for (name, raw) in headers {
                let value = raw.lowercased()
                switch name {
                case "content-length":
                    guard let n = Int(value), n >= 0, length == nil || length == n else {
                        throw ChainError(.malformed, "\(host):\(port) sent a bad Content-Length")
                    }
                    length = n
                case "transfer-encoding":
                    chunked = value.split(separator: ",").last?.trimmingCharacters(in: .whitespaces) == "chunked"
                case "connection":
                    closes = closes || value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "close" }
                default: break
                }
            }
            // An interim answer (100 Continue) is followed by the real one.
            if (100..<200).contains(status) { continue }
            var body: [UInt8] = []
            if status == 204 || status == 304 {
                // No body.
            } else if chunked {
                while true {
                    let sizeLine = try takeLine(limit: 1024)
                    let hex = sizeLine.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
                    guard let size = Int(hex.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0,
                        size <= Self.maxBodyBytes - body.count
                    else { throw ChainError(.malformed, "\(host):\(port) sent a bad chunk size") }
                    if size == 0 {
                        // Trailers, within the head's budget, are skipped.
                        while try !headLine(used: &headBytes).isEmpty {}
                        break
                    }
                    body.append(contentsOf: try take(size))
                    guard try takeLine(limit: 2).isEmpty else {
                        throw ChainError(.malformed, "\(host):\(port) sent a chunk without its CRLF")
                    }
                }
            } else if let length {
                guard length <= Self.maxBodyBytes else {
                    throw ChainError(.malformed, "\(host):\(port) announced a body of \(length) bytes")
                }
                body = Array(try take(length))
            } else {
                // Delimited by the end of the connection.
                while try fill() {
                    guard buffer.count - consumed <= Self.maxBodyBytes else {
                        throw ChainError(.malformed, "\(host):\(port) sent a body over \(Self.maxBodyBytes) bytes")
                    }
                }
                body = Array(buffer[consumed...])
                consumed = buffer.count
                closes = true
            }
            if closes { close() }
            return (status, body)
        }
    }
}
