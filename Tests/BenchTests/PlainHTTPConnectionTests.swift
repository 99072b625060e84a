import ChainCore
import ChainTesting
import Foundation
import Synchronization
import Testing

@testable import Bench

#if canImport(Glibc)
    import Glibc
#endif

/// A listening TCP socket on 127.0.0.1 at a free port: (socket, port).
func listenOnLoopback() throws -> (Int32, Int) {
    let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(s, 8) == 0 else {
        close(s)
        throw ChainError(.internalError, "cannot listen")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) }
    }
    return (s, Int(UInt16(bigEndian: address.sin_port)))
}

/// A TCP server on 127.0.0.1 that answers each connection's requests with canned bytes, written
/// in pieces of `piece` bytes (1: byte by byte), and records the requests it read.
final class CannedServer: Sendable {
    let port: Int
    private let listener: Int32
    private let requests = Mutex<[String]>([])
    private let connections = Atomic<Int>(0)

    /// `answers[c][r]`: what connection `c` answers to its request `r`; a connection closes after its last.
    init(answers: [[[UInt8]]], piece: Int = 1 << 20) throws {
        (listener, port) = try listenOnLoopback()
        let thread = Thread { [self] in serve(answers, piece: piece) }
        thread.start()
    }

    deinit { close(listener) }

    var received: [String] { requests.withLock { $0 } }
    var accepted: Int { connections.load(ordering: .relaxed) }

    private func serve(_ answers: [[[UInt8]]], piece: Int) {
        for answersOfConnection in answers {
            let c = accept(listener, nil, nil)
            guard c >= 0 else { return }
            connections.add(1, ordering: .relaxed)
            var pending: [UInt8] = []
            for answer in answersOfConnection {
                // Read one request: head up to CRLFCRLF, then Content-Length bytes.
                var request: [UInt8] = []
                while true {
                    if let end = pending.firstRange(of: [13, 10, 13, 10]) {
                        let head = String(decoding: pending[..<end.upperBound], as: UTF8.self)
                        let length =
                            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                        if pending.count >= end.upperBound + length {
                            request = Array(pending[..<(end.upperBound + length)])
                            pending.removeFirst(end.upperBound + length)
                            break
                        }
                    }
                    var chunk = [UInt8](repeating: 0, count: 4096)
                    let n = recv(c, &chunk, chunk.count, 0)
                    if n <= 0 { break }
                    pending += chunk[..<n]
                }
                requests.withLock { $0.append(String(decoding: request, as: UTF8.self)) }
                var at = 0
                while at < answer.count {
                    let n = min(piece, answer.count - at)
                    _ = answer.withUnsafeBytes { send(c, $0.baseAddress! + at, n, Int32(MSG_NOSIGNAL)) }
                    at += n
                }
            }
            close(c)
        }
    }
}

@Suite struct PlainHTTPConnectionTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    static let accepted = bytes(
        "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\ncontent-length: 11\r\n\r\n{\"txid\":1}\n")

    func connection(_ server: CannedServer, timeout: Int = 5) throws -> PlainHTTPConnection {
        try PlainHTTPConnection(url: URL(string: "http://127.0.0.1:\(server.port)")!, timeoutSeconds: timeout)
    }

    /// Keep-alive: three requests on one connection, answers with a Content-Length body, a chunked
    /// body (with a chunk extension and a trailer) and an interim 100 before the final answer;
    /// each request goes out once, whole, with its Host and Content-Length.
    @Test(arguments: [1, 7, 1 << 20]) func answersAreFramedAsRFC9112Says(piece: Int) throws {
        let server = try CannedServer(
            answers: [
                [
                    Self.accepted,
                    Self.bytes(
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nX-Trailer: 1\r\n\r\n"
                    ),
                    Self.bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}"),
                ]
            ], piece: piece)
        let c = try connection(server)
        let a = try c.post("/v1/txs", body: Self.bytes("{\"n\":1}"))
        #expect(a.status == 202 && a.body == Self.bytes("{\"txid\":1}\n"))
        let b = try c.post("/v1/txs/batch", body: Self.bytes("{}"))
        #expect(b.status == 200 && b.body == Self.bytes("{\"a\":1}"))
        let d = try c.post("/v1/txs", body: [])
        #expect(d.status == 503 && d.body == Self.bytes("{}"))
        #expect(server.accepted == 1)
        let sent = server.received
        #expect(sent.count == 3)
        #expect(sent.first?.hasPrefix("POST /v1/txs HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n") == true)
        #expect(sent.first?.hasSuffix("Content-Length: 7\r\n\r\n{\"n\":1}") == true)
    }

    /// `Connection: close`, and a body delimited by the end of the connection: the next request
    /// opens a new connection.
    @Test func aClosedConnectionIsOpenedAgainForTheNextRequest() throws {
        let server = try CannedServer(answers: [
            [Self.bytes("HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")],
            [Self.bytes("HTTP/1.0 200 OK\r\n\r\nuntil the end")],
            [Self.accepted],
        ])
        let c = try connection(server)
        #expect(try c.post("/a", body: []).status == 202)
        #expect(try c.post("/b", body: []).body == Self.bytes("until the end"))
        #expect(try c.post("/c", body: []).status == 202)
        #expect(server.accepted == 3)
    }

    /// A kept connection the node closed between two requests (its idle timeout) is noticed before
    /// the next request is written: that request goes out once, on a new connection.
    @Test func aKeptConnectionTheNodeClosedIsOpenedAgain() throws {
        let server = try CannedServer(answers: [[Self.accepted], [Self.accepted]])
        let c = try connection(server)
        #expect(try c.post("/a", body: []).status == 202)
        // The server closes its side after its one answer.
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try c.post("/b", body: []).status == 202)
        #expect(server.accepted == 2)
        #expect(server.received.count == 2)
    }

    /// Hostile or broken answers fail the request with a stable code; none crashes or hangs.
    @Test(arguments: [
        ("HTTP/1.1 20 OK\r\n\r\n", "malformed"),
        ("HTTP/2 200 OK\r\n\r\n", "malformed"),
        ("garbage\r\n\r\n", "malformed"),
        ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed"),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "malformed"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "malformed"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", "malformed"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n", "malformed"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "upstream_unavailable"),
        ("HTTP/1.1 200 OK\r\nContent-Le", "upstream_unavailable"),
        ("", "upstream_unavailable"),
    ])
    func brokenAnswersAreRefused(answer: String, code: String) throws {
        let server = try CannedServer(answers: [[Self.bytes(answer)]])
        let c = try connection(server)
        #expect(errorCode { _ = try c.post("/v1/txs", body: []) } == code)
    }

    /// A status line and headers longer than the limit are refused, not buffered without end.
    @Test func anEndlessHeadIsRefused() throws {
        let head = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-A: b\r\n", count: 10_000)
        let server = try CannedServer(answers: [[Self.bytes(head)]], piece: 4096)
        let c = try connection(server)
        #expect(errorCode { _ = try c.post("/v1/txs", body: []) } == "malformed")
    }

    /// A node that never answers: the request fails after the timeout instead of hanging.
    @Test func aSilentNodeTimesOut() throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(s, 1)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) }
        }
        let c = try PlainHTTPConnection(
            url: URL(string: "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))")!, timeoutSeconds: 1)
        let start = ContinuousClock.now
        #expect(errorCode { _ = try c.post("/v1/txs", body: []) } == "upstream_unavailable")
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    /// Nothing listening, and URLs that are not plain HTTP.
    @Test func refusedConnectionsAndOtherSchemes() throws {
        let c = try PlainHTTPConnection(url: URL(string: "http://127.0.0.1:1")!)
        #expect(errorCode { _ = try c.post("/", body: []) } == "upstream_unavailable")
        #expect(errorCode { _ = try PlainHTTPConnection(url: URL(string: "https://127.0.0.1:8443")!) } == "bad_config")
    }

    /// A node behind a proxy under a path gets its requests below that path; an IPv6 literal is
    /// bracketed in the Host header (and only there: the resolver takes it bare).
    @Test func requestsGoBelowTheURLsPathAndIPv6HostsAreBracketed() throws {
        let server = try CannedServer(answers: [[Self.accepted]])
        let c = try PlainHTTPConnection(url: URL(string: "http://127.0.0.1:\(server.port)/chain/")!, timeoutSeconds: 5)
        #expect(try c.post("/v1/txs", body: Self.bytes("{}")).status == 202)
        let request = server.received.first ?? ""
        #expect(request.hasPrefix("POST /chain/v1/txs HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n"), "\(request)")
        let v6 = try PlainHTTPConnection(url: URL(string: "http://[::1]:8080")!)
        #expect(v6.host == "::1" && v6.hostHeader == "[::1]:8080" && v6.basePath == "")
    }
}
