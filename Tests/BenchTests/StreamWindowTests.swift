import ChainCore
import Crypto
import Foundation
import Synchronization
import Testing

@testable import Bench

#if canImport(Glibc)
    import Glibc
#endif

/// A submission stream on 127.0.0.1 for one connection that answers as a node does, in order,
/// but only once `hold` messages wait for their answers (or none came for `quietMs`): so the most it
/// ever holds is what the client sent ahead of its answers. `refuseOnce` are answered
/// `mempool_full` the first time they come. Records what came, in order.
final class WindowedStreamServer: Sendable {
    let port: Int
    private let listener: Int32
    private let state = Mutex<(received: [String], mostWaiting: Int, done: Bool)>(([], 0, false))

    init(hold: Int, refuseOnce: Set<String> = [], quietMs: Int32 = 200) throws {
        (listener, port) = try listenOnLoopback()
        let thread = Thread { [self] in serve(hold: hold, refuseOnce: refuseOnce, quietMs: quietMs) }
        thread.start()
    }

    deinit { close(listener) }

    /// The transactions received in order, and the most that waited for an answer at once, once
    /// the client closed the connection.
    func result() -> (received: [String], mostWaiting: Int) {
        for _ in 0..<500 where !state.withLock({ $0.done }) { usleep(10_000) }
        return state.withLock { ($0.received, $0.mostWaiting) }
    }

    private func serve(hold: Int, refuseOnce: Set<String>, quietMs: Int32) {
        let c = accept(listener, nil, nil)
        guard c >= 0 else { return }
        defer {
            close(c)
            state.withLock { $0.done = true }
        }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill(timeoutMs: Int32) -> Bool {
            var p = pollfd(fd: c, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, timeoutMs) > 0 else { return true }
            let n = recv(c, &chunk, chunk.count, 0)
            if n <= 0 { return false }
            pending += chunk[..<n]
            return true
        }
        while pending.firstRange(of: [13, 10, 13, 10]) == nil { guard fill(timeoutMs: 5000) else { return } }
        let end = pending.firstRange(of: [13, 10, 13, 10])!.upperBound
        let head = String(decoding: pending[..<end], as: UTF8.self)
        pending.removeFirst(end)
        let key =
            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-key:") }
            .map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) } ?? ""
        let accept = Data(Insecure.SHA1.hash(data: Array((key + PlainWebSocket.guid).utf8))).base64EncodedString()
        write(
            Array(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n"
                    .utf8))
        var waiting: [String] = []
        var refused = Set<String>()
        var open = true
        while open || !waiting.isEmpty {
            // Every whole masked frame received so far.
            while let (txid, used) = Self.message(pending) {
                pending.removeFirst(used)
                waiting.append(txid)
                state.withLock {
                    $0.received.append(txid)
                    $0.mostWaiting = max($0.mostWaiting, waiting.count)
                }
            }
            let before = pending.count
            if open, waiting.count < hold {
                open = fill(timeoutMs: quietMs)
                if open, pending.count > before { continue }
            }
            // `hold` waiting, or quiet for `quietMs`: answer them all, in order.
            for txid in waiting {
                let answer: String
                if refuseOnce.contains(txid), refused.insert(txid).inserted {
                    answer = #"{"error":{"code":"mempool_full","message":"full"},"txid":"\#(txid)"}"#
                } else {
                    answer = #"{"status":"accepted","txid":"\#(txid)"}"#
                }
                write(PlainWebSocketTests.frame(0x1, Array(answer.utf8)))
            }
            waiting.removeAll()
            if !open { return }
        }

        func write(_ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes { send(c, $0.baseAddress!, bytes.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// The transaction id of the first whole frame in `bytes` (`{"tx":"…"}`, masked, short) and its
    /// length; nil until one is whole, or for a close frame.
    static func message(_ bytes: [UInt8]) -> (String, Int)? {
        guard bytes.count >= 6, bytes[0] & 0x0F == 0x1 else { return nil }
        let length = Int(bytes[1] & 0x7F)
        guard length < 126, bytes.count >= 6 + length else { return nil }
        let mask = Array(bytes[2..<6])
        let payload = (0..<length).map { bytes[6 + $0] ^ mask[$0 % 4] }
        let txid = (try? JSONParser().parse(payload))?["tx"]?.stringValue ?? "?"
        return (txid, 6 + length)
    }
}

extension ClientPlan {
    /// A plan of one message `{"tx":"<id>"}` per id, starting now, for 60 s (at max when
    /// `perSecond` is nil).
    static func canned(_ txids: [String], perSecond: Int? = nil) -> ClientPlan {
        let requests = Presigned(
            bodies: txids.map { Array("{\"tx\":\"\($0)\"}".utf8) }, txids: txids, batch: 1, calls: [], chain: "c",
            signedAt: .now, restampAfter: .seconds(3600))
        return ClientPlan(
            requests: requests, watcher: CommitWatcher(ids: txids, fromHeight: 1), counter: Counter(), start: .now,
            duration: .seconds(60), perSecond: perSecond, batch: 1)
    }
}

/// The load generator's stream client with several messages in flight (`--window`).
@Suite struct StreamWindowTests {
    static func plan(_ txids: [String], perSecond: Int? = nil) -> ClientPlan {
        ClientPlan.canned(txids, perSecond: perSecond)
    }

    static func socket(_ port: Int) throws -> PlainWebSocket {
        try PlainWebSocket(url: URL(string: "http://127.0.0.1:\(port)")!, path: "/v1/txs/stream", timeoutSeconds: 5)
    }

    static let txids = (0..<10).map { String(format: "%02x", $0) }

    /// A client sends up to its window ahead of the answers, never more, and counts every answer
    /// against the transaction it sent in that place.
    @Test(arguments: [1, 4]) func aClientKeepsItsWindowInFlightAndNoMore(window: Int) throws {
        let server = try WindowedStreamServer(hold: window)
        let done = try BenchRunner.client(try Self.socket(server.port), plan: Self.plan(Self.txids), window: window)
        #expect(done.map(\.index) == Array(0..<10))
        #expect(done.allSatisfy { $0.accepted })
        let seen = server.result()
        #expect(seen.received == Self.txids)
        #expect(seen.mostWaiting == window)
    }

    /// At a fixed rate a message goes at its slot while the answer to the one before is still
    /// awaited (the window has room): this server answers the first only once two wait (or after
    /// 3 s of quiet), which they do only if the client sent the second at its slot, 0.3 s after
    /// the first, instead of waiting for the first answer.
    @Test func atAFixedRateAMessageGoesAtItsSlotWhileAnswersAreAwaited() throws {
        let server = try WindowedStreamServer(hold: 2, quietMs: 3000)
        let txids = Array(Self.txids.prefix(2))
        let done = try BenchRunner.client(
            try Self.socket(server.port), plan: Self.plan(txids, perSecond: 3), window: 2)
        #expect(done.map(\.index) == Array(0..<2))
        #expect(done.allSatisfy { $0.accepted })
        let seen = server.result()
        #expect(seen.received == txids)
        #expect(seen.mostWaiting == 2)
    }

    /// A refusal for lack of room at max: that transaction goes again after the pause, before any
    /// new one, while the answers to those already sent are read; all end accepted.
    @Test func aRefusedTransactionGoesAgainBeforeNewOnes() throws {
        let server = try WindowedStreamServer(hold: 1, refuseOnce: ["01"])
        let txids = Array(Self.txids.prefix(6))
        let done = try BenchRunner.client(try Self.socket(server.port), plan: Self.plan(txids), window: 3)
        #expect(done.map(\.index).sorted() == Array(0..<6))
        #expect(done.allSatisfy { $0.accepted })
        // 00 01 02 sent; 00's answer frees a place for 03; 01 refused: no new one until it went again.
        #expect(server.result().received == ["00", "01", "02", "03", "01", "04", "05"])
    }
}
