import ChainCore
import Crypto
import Foundation
import Synchronization
import Testing

@testable import Bench

#if canImport(Glibc)
    import Glibc
#endif

/// A WebSocket server on 127.0.0.1 for one connection: reads the handshake, answers it (with the
/// right `Sec-WebSocket-Accept` unless told otherwise) followed by canned frames, then records
/// everything the client sends until it closes.
final class CannedWebSocketServer: Sendable {
    let port: Int
    private let listener: Int32
    private let sent = Mutex<[UInt8]>([])
    private let done = Atomic<Bool>(false)

    init(status: String = "101 Switching Protocols", rightAccept: Bool = true, frames: [UInt8]) throws {
        (listener, port) = try listenOnLoopback()
        let thread = Thread { [self] in serve(status: status, rightAccept: rightAccept, frames: frames) }
        thread.start()
    }

    deinit { close(listener) }

    /// What the client sent after its handshake, once it closed the connection.
    func clientBytes() -> [UInt8] {
        for _ in 0..<500 where !done.load(ordering: .relaxed) { usleep(10_000) }
        return sent.withLock { $0 }
    }

    private func serve(status: String, rightAccept: Bool, frames: [UInt8]) {
        let c = accept(listener, nil, nil)
        guard c >= 0 else { return }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while pending.firstRange(of: [13, 10, 13, 10]) == nil {
            let n = recv(c, &chunk, chunk.count, 0)
            if n <= 0 { break }
            pending += chunk[..<n]
        }
        let end = pending.firstRange(of: [13, 10, 13, 10])?.upperBound ?? pending.count
        let head = String(decoding: pending[..<end], as: UTF8.self)
        pending.removeFirst(end)
        let key =
            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-key:") }
            .map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) } ?? ""
        let accept = Data(Insecure.SHA1.hash(data: Array((key + (rightAccept ? PlainWebSocket.guid : "x")).utf8)))
            .base64EncodedString()
        let answer =
            Array(
                "HTTP/1.1 \(status)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n".utf8)
            + frames
        _ = answer.withUnsafeBytes { send(c, $0.baseAddress!, answer.count, Int32(MSG_NOSIGNAL)) }
        // Nothing more comes from this side: a truncated frame ends at the end of the connection.
        shutdown(c, Int32(SHUT_WR))
        while true {
            let n = recv(c, &chunk, chunk.count, 0)
            if n <= 0 { break }
            pending += chunk[..<n]
        }
        sent.withLock { $0 = pending }
        close(c)
        done.store(true, ordering: .relaxed)
    }
}

@Suite struct PlainWebSocketTests {
    static func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var f: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            f.append(UInt8(payload.count))
        } else {
            f += [126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        return f + payload
    }

    /// Decodes the client's masked frames: (opcode, unmasked payload) each.
    static func clientFrames(_ bytes: [UInt8]) throws -> [(UInt8, [UInt8])] {
        var out: [(UInt8, [UInt8])] = []
        var i = 0
        while i < bytes.count {
            let opcode = bytes[i] & 0x0F
            #expect(bytes[i + 1] & 0x80 != 0, "client frames are masked")
            var length = Int(bytes[i + 1] & 0x7F)
            i += 2
            if length == 126 {
                length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
                i += 2
            } else if length == 127 {
                length = bytes[i..<(i + 8)].reduce(0) { $0 << 8 | Int($1) }
                i += 8
            }
            let mask = Array(bytes[i..<(i + 4)])
            i += 4
            out.append((opcode, (0..<length).map { bytes[i + $0] ^ mask[$0 & 3] }))
            i += length
        }
        return out
    }

    func socket(_ server: CannedWebSocketServer) throws(ChainError) -> PlainWebSocket {
        try PlainWebSocket(url: URL(string: "http://127.0.0.1:\(server.port)")!, path: "/v1/txs/stream", timeoutSeconds: 5)
    }

    /// A message in fragments with a ping between them, then a binary one of 300 bytes (a 16-bit
    /// length): both read whole, the ping answered with its payload; what the client sends is one
    /// masked frame per message, lengths of 7, 16 and 64 bits.
    @Test func messagesAreFramedAsRFC6455Says() throws {
        let big = [UInt8](repeating: 7, count: 300)
        let server = try CannedWebSocketServer(
            frames: Self.frame(0x1, Array("ab".utf8), fin: false) + Self.frame(0x0, Array("c".utf8), fin: false)
                + Self.frame(0x9, Array("p".utf8)) + Self.frame(0x0, Array("d".utf8)) + Self.frame(0x2, big))
        let ws = try socket(server)
        try ws.open()
        #expect(try ws.receive() == Array("abcd".utf8))
        #expect(try ws.receive() == big)
        let sizes = [5, 300, 70_000]
        for n in sizes { try ws.send(text: [UInt8](repeating: UInt8(n & 0x7F), count: n)) }
        ws.close()
        let frames = try Self.clientFrames(server.clientBytes())
        #expect(frames.map(\.0) == [0xA, 0x1, 0x1, 0x1])
        #expect(frames.first?.1 == Array("p".utf8))
        #expect(frames.dropFirst().map(\.1.count) == sizes)
        #expect(frames.dropFirst().allSatisfy { f in f.1.allSatisfy { $0 == UInt8(f.1.count & 0x7F) } })
    }

    /// What a node (or something posing as one) may send that breaks the protocol or the bounds:
    /// each fails with a stable code, none is taken as a message.
    @Test(
        arguments: [
            (
                Self.frame(0x1, [1]).enumerated().map { $0.offset == 1 ? $0.element | 0x80 : $0.element } + [0, 0, 0, 0],
                "malformed"
            ),
            ([0xC1, 0x00], "malformed"),
            ([0x81, 127, 0, 0, 1, 0, 0, 0, 0, 0], "malformed"),
            (Self.frame(0x9, [UInt8](repeating: 0, count: 126)), "malformed"),
            (Self.frame(0x9, [1], fin: false), "malformed"),
            (Self.frame(0x0, [1]), "malformed"),
            (Self.frame(0x1, [1], fin: false) + Self.frame(0x1, [2]), "malformed"),
            (Self.frame(0x3, [1]), "malformed"),
            (Self.frame(0x8, [0x03, 0xF1] + Array("too big".utf8)), "upstream_unavailable"),
            (Self.frame(0x8, [0x03]), "malformed"),
            (Self.frame(0x1, [1, 2, 3]).dropLast(), "upstream_unavailable"),
        ] as [([UInt8], String)])
    func hostileFramesFailWithAStableCode(frames: [UInt8], code: String) throws {
        let server = try CannedWebSocketServer(frames: frames)
        let ws = try socket(server)
        try ws.open()
        do {
            let message = try ws.receive()
            Issue.record("read \(message) from \(frames)")
        } catch {
            #expect(error.code.rawValue == code, "\(error)")
            if frames.first == 0x88, code == "upstream_unavailable" { #expect(error.message.contains("1009")) }
        }
        ws.close()
    }

    /// A handshake the node did not complete: another status, or the wrong accept value.
    @Test func aHandshakeMustBeCompleted() throws {
        let refused = try CannedWebSocketServer(status: "404 Not Found", frames: [])
        #expect(throws: ChainError.self) { try socket(refused).open() }
        let wrong = try CannedWebSocketServer(rightAccept: false, frames: [])
        do {
            try socket(wrong).open()
            Issue.record("a wrong Sec-WebSocket-Accept was taken")
        } catch {
            #expect(error.code == .malformed)
        }
    }

    /// The load generator's stream client: answers come in order, so one naming another
    /// transaction than the one sent is a broken stream (`bench_failed`), not a count.
    @Test func anAnswerForAnotherTransactionStopsTheStreamClient() throws {
        func plan(_ txids: [String]) -> ClientPlan { ClientPlan.canned(txids) }
        let answers = [#"{"status":"accepted","txid":"aa"}"#, #"{"status":"accepted","txid":"cc"}"#]
        let frames = answers.flatMap { Self.frame(0x1, Array($0.utf8)) }
        let server = try CannedWebSocketServer(frames: frames)
        do {
            let done = try BenchRunner.client(try socket(server), plan: plan(["aa", "bb"]))
            Issue.record("counted \(done.count) submissions")
        } catch let error as ChainError {
            #expect(error.code == .benchFailed, "\(error)")
            #expect(error.message.contains("cc") && error.message.contains("bb"), "\(error)")
        }
        // In order and matching: both counted.
        let good = try CannedWebSocketServer(frames: frames)
        let counted = try BenchRunner.client(try socket(good), plan: plan(["aa", "cc"]))
        #expect(counted.map(\.accepted) == [true, true])
    }

    /// When one client fails, the others get no further request (the run ends with the error at
    /// once instead of after its window).
    @Test func aStoppedPlanHandsOutNoMoreRequests() throws {
        let txids = ["aa", "bb", "cc"]
        let requests = Presigned(
            bodies: txids.map { Array($0.utf8) }, txids: txids, batch: 1, calls: [], chain: "c", signedAt: .now,
            restampAfter: .seconds(3600))
        let plan = ClientPlan(
            requests: requests, watcher: CommitWatcher(ids: txids, fromHeight: 1), counter: Counter(), start: .now,
            duration: .seconds(60), perSecond: nil, batch: 1)
        #expect(try plan.next()?.txids == ["aa"])
        plan.counter.stop()
        #expect(try plan.next() == nil)
    }
}
