import AsyncHTTPClient
import ChainClient
import ChainCore
import ChainTesting
import Dispatch
import Foundation
import Identity
import Node
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What anonymous clients can do to a node's HTTP server, against the real binary.
@Suite(.serialized) struct HostileHTTPTests {
    /// Sends `bytes` on a new connection and reads until the server closes it or `timeout`.
    /// Runs on a dispatch thread (blocking socket calls). Returns what came back and whether the
    /// server closed the connection.
    static func exchange(port: Int, _ bytes: [UInt8], timeout: Double) async -> (reply: String, closed: Bool) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                guard let fd = Self.connectLoopback(port: port) else {
                    return continuation.resume(returning: ("connect failed", true))
                }
                defer { close(fd) }
                var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                var out: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n > 0 {
                        out += buffer[0..<n]
                    } else {
                        continuation.resume(returning: (String(decoding: out, as: UTF8.self), n == 0 || errno == ECONNRESET))
                        return
                    }
                }
            }
        }
    }

    /// A TCP connection to 127.0.0.1:`port` (its receive buffer set first when given); nil when
    /// it cannot be made.
    static func connectLoopback(port: Int, receiveBuffer: Int32? = nil) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// A solo node with small bounds, so that the tests exercise them quickly.
    static func withNode(_ body: (Int, NodeProcess) async throws -> Void) async throws {
        try await withNodeAndDirectory { port, node, _ in try await body(port, node) }
    }

    /// `withNode`, with the directory `xiangchain init` made (its `identities/org0-admin` signs):
    /// node 0 of `orgs` (one validator each; only node 0 runs), its config edited by `configure`
    /// after the small bounds are set.
    static func withNodeAndDirectory(
        orgs: String = "org0", configure: (inout NodeConfig) -> Void = { _ in },
        _ body: (Int, NodeProcess, URL) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { dir in
            let made = try await XiangChainBinary.run(["init", "--dir", dir.path, "--orgs", orgs])
            #expect(made.status == 0, "\(made.output)")
            let configURL = dir.appendingPathComponent("nodes/0/config.json")
            var config = try NodeConfig.load(from: configURL)
            config.httpIdleTimeoutSeconds = 2
            config.maxHTTPConnections = 40
            config.maxBatchBytes = 1 << 20
            configure(&config)
            try config.write(to: configURL)
            let port = freeLocalPort()
            let node = try NodeProcess(home: dir.appendingPathComponent("nodes/0"), port: port)
            try await node.waitUntilReady()
            try await body(port, node, dir)
            #expect(node.stop(signal: SIGTERM) == 0)
        }
    }

    @Test func malformedRequestsGetAnAnswerAndAClose() async throws {
        try await Self.withNode { port, _ in
            let cases: [([UInt8], String)] = [
                (Array("GET /v1/verify?code=x&city=苏州 HTTP/1.1\r\nHost: a\r\n\r\n".utf8), "400"),
                (Array("GET /".utf8) + [UInt8](repeating: 0x61, count: 100_000) + Array(" HTTP/1.1\r\n\r\n".utf8), "431"),
                (
                    Array("GET /v1/status HTTP/1.1\r\nX: ".utf8) + [UInt8](repeating: 0x62, count: 100_000)
                        + Array("\r\n\r\n".utf8), "431"
                ),
                (Array("GARBAGE\r\n\r\n".utf8), "400"),
            ]
            for (bytes, status) in cases {
                let (reply, closed) = await Self.exchange(port: port, bytes, timeout: 5)
                #expect(reply.hasPrefix("HTTP/1.1 \(status)"), "\(reply.prefix(120))")
                #expect(reply.contains("\"error\":{\"code\":"), "\(reply.prefix(200))")
                #expect(closed)
            }
        }
    }

    /// A client keeps an idle keep-alive connection for less time than a node does: one kept as
    /// long could be reused at the moment the node closes it for idleness, and the request would
    /// fail with `remoteConnectionClosed` though the node never saw it (CI saw this once: a
    /// process test's submission after a ~30 s pause).
    @Test func clientsDropIdleConnectionsWellBeforeTheNodeDoes() {
        let node = NodeConfig(nodeId: "node0")
        #expect(HTTPClient.chainIdleTimeout * 2 <= .seconds(node.httpIdleTimeoutSeconds))
    }

    @Test func idleConnectionsAreClosedAndManyOfThemDoNotStopTheNode() async throws {
        try await Self.withNode { port, node in
            // An idle connection (nothing sent) is closed after the idle timeout (2 s here).
            let start = ContinuousClock.now
            let (_, closed) = await Self.exchange(port: port, [], timeout: 15)
            #expect(closed)
            #expect(ContinuousClock.now - start < .seconds(10))
            // 120 idle connections (three times the bound): the status still answers.
            let holders = (0..<120).map { _ in Task { await Self.exchange(port: port, [], timeout: 20) } }
            try await Task.sleep(for: .milliseconds(300))
            let asked = ContinuousClock.now
            let status = try await node.client.fetch("/v1/status")
            #expect(status.status == 200)
            #expect(ContinuousClock.now - asked < .seconds(15))
            for h in holders { _ = await h.value }
        }
    }

    /// A submission stream (`GET /v1/txs/stream`) that sends nothing is closed after the idle
    /// timeout (2 s here; the close handshake then waits at most 15 s for the client's answer),
    /// as an idle HTTP connection is: a stream holds no connection forever.
    @Test func anIdleSubmissionStreamIsClosed() async throws {
        try await Self.withNode { port, _ in
            let start = ContinuousClock.now
            let handshake =
                "GET /v1/txs/stream HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            let (reply, closed) = await Self.exchange(port: port, Array(handshake.utf8), timeout: 40)
            #expect(reply.hasPrefix("HTTP/1.1 101"), "\(reply.prefix(120))")
            #expect(closed)
            #expect(ContinuousClock.now - start < .seconds(25))
        }
    }

    /// A client that floods a submission stream and never reads the answers: once an answer has
    /// waited on it for the idle timeout, the node closes the connection (seen in review: the
    /// stream ended, but its close frame queued behind the unread answers, so the connection and
    /// its slot stayed for as long as the client kept its window shut).
    @Test func aStreamWhoseClientDoesNotReadIsClosed() async throws {
        try await Self.withNode { port, node in
            let pid = node.pid
            let closed = await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    guard let fd = Self.connectLoopback(port: port, receiveBuffer: 4096) else {
                        return continuation.resume(returning: false)
                    }
                    defer { close(fd) }
                    var tv = timeval(tv_sec: 2, tv_usec: 0)
                    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    let handshake = Array(
                        ("GET /v1/txs/stream HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8)
                    _ = handshake.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    var head: [UInt8] = []
                    var byte: UInt8 = 0
                    while !head.suffix(4).elementsEqual([13, 10, 13, 10]), recv(fd, &byte, 1, 0) == 1 { head.append(byte) }
                    guard String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 101") else {
                        return continuation.resume(returning: false)
                    }
                    // Masked one-byte messages ("x", each answered with an error of ~100 bytes)
                    // until the node stops reading or 5 s pass; nothing is ever read.
                    let frame: [UInt8] = [0x81, 0x81, 1, 2, 3, 4, UInt8(ascii: "x") ^ 1]
                    let batch = Array([[UInt8]](repeating: frame, count: 1_000).joined())
                    let start = ContinuousClock.now
                    while ContinuousClock.now - start < .seconds(5) {
                        let n = batch.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                        if n <= 0 { break }
                    }
                    var local = sockaddr_in()
                    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                    _ = withUnsafeMutablePointer(to: &local) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
                    }
                    let clientPort = Int(UInt16(bigEndian: local.sin_port))
                    for _ in 0..<150 {
                        if !Self.holdsConnection(pid: pid, port: port, peerPort: clientPort) {
                            return continuation.resume(returning: true)
                        }
                        usleep(100_000)
                    }
                    continuation.resume(returning: false)
                }
            }
            #expect(closed, "the node still holds the stream of a client that does not read")
            let status = try await node.client.fetch("/v1/status")
            #expect(status.status == 200)
        }
    }

    /// Messages sent on the submission stream before any answer is read are read ahead, admitted
    /// as one batch (one check of their signatures) and answered in order, each with its own
    /// outcome: accepted, a bad signature, a message that is not an envelope, a transaction sent
    /// twice, one for another chain — and the accepted ones commit.
    @Test func messagesSentAheadAreEachAnsweredInOrder() async throws {
        try await Self.withNodeAndDirectory { port, node, dir in
            let signer = try SigningIdentity(directory: dir.appendingPathComponent("identities/org0-admin"))
            func envelope(_ tx: SignedTransaction) throws -> [UInt8] {
                Array(try JSONEncoder().encode(TransactionSubmission(tx)))
            }
            var messages: [[UInt8]] = []
            var expected: [(txid: String?, answer: String)] = []
            var accepted: [String] = []
            for n in 0..<20 {
                let tx = try signer.transaction(
                    chain: "xiangchain-local", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
                messages.append(try envelope(tx))
                expected.append((tx.txid, "accepted"))
                accepted.append(tx.txid)
                switch n {
                case 3:
                    var signature = tx.signature
                    signature[10] ^= 1
                    let other = try signer.transaction(
                        chain: "xiangchain-local", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
                    let bad = SignedTransaction(
                        body: other.body, signature: signature, signerCertificate: other.signerCertificate, hasher: .sha256)
                    messages.append(try envelope(bad))
                    expected.append((bad.txid, "bad_signature"))
                case 7:
                    messages.append(Array("{\"body\": 1}".utf8))
                    expected.append((nil, "malformed"))
                case 11:
                    messages.append(try envelope(tx))
                    expected.append((tx.txid, "duplicate_tx"))
                case 15:
                    let foreign = try signer.transaction(
                        chain: "elsewhere", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
                    messages.append(try envelope(foreign))
                    expected.append((foreign.txid, "wrong_chain"))
                default: break
                }
            }
            let sent = messages
            let answers = try await Task.detached { try Self.streamExchange(port: port, messages: sent) }.value
            #expect(answers.count == messages.count)
            for (answer, want) in zip(answers, expected) {
                let json = try JSONParser().parse(Array(answer.utf8))
                if want.answer == "accepted" {
                    #expect(json["status"]?.stringValue == "accepted" && json["txid"]?.stringValue == want.txid, "\(answer)")
                } else {
                    #expect(json["error"]?["code"]?.stringValue == want.answer, "\(answer) for \(want)")
                    #expect(json["txid"]?.stringValue == want.txid, "\(answer)")
                }
            }
            var committed = false
            let deadline = ContinuousClock.now + .seconds(20)
            while !committed, ContinuousClock.now < deadline {
                var all = true
                for txid in accepted where try await node.client.fetch("/v1/txs/\(txid)").status != 200 {
                    all = false
                    break
                }
                committed = all
                if !committed { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(committed)
        }
    }

    /// Under overload the real binary refuses a stream's message on the event loop that read it
    /// (`QuickRefusal`, placed behind the frame decoder as the upgrade completes), in order with
    /// the stream's own answers: one validator of four (nothing commits), room for two. Messages
    /// sent together while there is room are answered by the stream (two accepted, the rest
    /// refused beyond the room); the next ones, sent once those are answered, are refused where
    /// they are read, whatever they hold — counted in both metrics.
    @Test func aFullValidatorRefusesStreamMessagesWhereItReadsThem() async throws {
        try await Self.withNodeAndDirectory(orgs: "org0,org1,org2,org3", configure: { $0.mempoolCapacity = 2 }) {
            port, node, dir in
            let signer = try SigningIdentity(directory: dir.appendingPathComponent("identities/org0-admin"))
            func envelope() throws -> [UInt8] {
                let tx = try signer.transaction(
                    chain: "xiangchain-local", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
                return Array(try JSONEncoder().encode(TransactionSubmission(tx)))
            }
            let together = try (0..<4).map { _ in try envelope() }
            let first = try await Task.detached { try Self.streamExchange(port: port, messages: together) }.value
            let codes = try first.map { answer -> String in
                let json = try JSONParser().parse(Array(answer.utf8))
                return json["status"]?.stringValue ?? json["error"]?["code"]?.stringValue ?? answer
            }
            #expect(codes == ["accepted", "accepted", "mempool_full", "mempool_full"], "\(first)")
            let later = [try envelope(), Array("not json".utf8), try envelope()]
            let second = try await Task.detached { try Self.streamExchange(port: port, messages: later) }.value
            #expect(second.count == 3)
            for answer in second {
                let json = try JSONParser().parse(Array(answer.utf8))
                #expect(json["error"]?["code"]?.stringValue == "mempool_full" && json["txid"] == nil, "\(answer)")
            }
            let metrics = String(decoding: try await node.client.fetch("/metrics").body, as: UTF8.self)
            #expect(metrics.contains("xiangchain_stream_refused_on_read_total 3"), "\(metrics)")
            #expect(metrics.contains("xiangchain_transactions_refused_total{code=\"mempool_full\"} 5"), "\(metrics)")
            #expect(try await node.client.fetch("/v1/status").status == 200)
        }
    }

    /// Opens `/v1/txs/stream` on loopback, sends every message (masked text frames) in one write
    /// before reading anything, then reads one answer per message.
    static func streamExchange(port: Int, messages: [[UInt8]]) throws -> [String] {
        guard let fd = connectLoopback(port: port) else { throw ChainError(.internalError, "no connection") }
        defer { close(fd) }
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let handshake = Array(
            ("GET /v1/txs/stream HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8)
        var frames: [UInt8] = handshake
        let mask: [UInt8] = [7, 1, 9, 3]
        for payload in messages {
            frames.append(0x81)
            if payload.count < 126 {
                frames.append(0x80 | UInt8(payload.count))
            } else {
                frames += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
            }
            frames += mask
            frames += payload.enumerated().map { $1 ^ mask[$0 % 4] }
        }
        _ = frames.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill(_ count: Int) throws {
            while pending.count < count {
                let n = recv(fd, &chunk, chunk.count, 0)
                guard n > 0 else { throw ChainError(.internalError, "the stream closed after \(pending.count) bytes") }
                pending += chunk[..<n]
            }
        }
        while pending.firstRange(of: [13, 10, 13, 10]) == nil { try fill(pending.count + 1) }
        let head = pending.firstRange(of: [13, 10, 13, 10])!.upperBound
        guard String(decoding: pending[..<head], as: UTF8.self).hasPrefix("HTTP/1.1 101") else {
            throw ChainError(.internalError, "no upgrade: \(String(decoding: pending, as: UTF8.self))")
        }
        pending.removeFirst(head)
        var answers: [String] = []
        while answers.count < messages.count {
            try fill(2)
            var length = Int(pending[1] & 0x7F)
            var start = 2
            if length == 126 {
                try fill(4)
                length = Int(pending[2]) << 8 | Int(pending[3])
                start = 4
            }
            try fill(start + length)
            answers.append(String(decoding: pending[start..<start + length], as: UTF8.self))
            pending.removeFirst(start + length)
        }
        return answers
    }

    /// Whether process `pid` has a socket open for the TCP connection between its `port` and a
    /// peer's `peerPort` on loopback (`/proc/net/tcp`'s inode among its descriptors).
    static func holdsConnection(pid: Int32, port: Int, peerPort: Int) -> Bool {
        guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return false }
        let local = String(format: ":%04X", port)
        let remote = String(format: ":%04X", peerPort)
        var inodes: Set<String> = []
        for line in table.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ")
            if f.count > 9, f[1].hasSuffix(local), f[2].hasSuffix(remote), f[9] != "0" { inodes.insert(String(f[9])) }
        }
        guard !inodes.isEmpty, let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else {
            return false
        }
        return fds.contains { fd in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)") else {
                return false
            }
            return inodes.contains { target == "socket:[\($0)]" }
        }
    }

    @Test func aHugeBatchIsRefusedBeforeItIsRead() async throws {
        try await Self.withNode { port, node in
            let rssBefore = Self.rssMiB(node.pid)
            // Three 40 MB bodies at once, against a 1 MiB batch limit.
            let huge =
                Array(
                    "POST /v1/txs/batch HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\n\r\n{\"txs\":[\""
                        .utf8)
                + [UInt8](repeating: 0x41, count: 40_000_000)
            let replies = await withTaskGroup(of: String.self) { group in
                for _ in 0..<3 { group.addTask { await Self.exchange(port: port, huge, timeout: 30).reply } }
                var out: [String] = []
                for await r in group { out.append(r) }
                return out
            }
            for r in replies { #expect(r.hasPrefix("HTTP/1.1 413"), "\(r.prefix(120))") }
            let grown = Self.rssMiB(node.pid) - rssBefore
            #expect(grown < 100, "RSS grew by \(grown) MiB")
            let after = try await node.client.fetch("/v1/status")
            #expect(after.status == 200)
        }
    }

    static func rssMiB(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kb / 1024
    }
}
