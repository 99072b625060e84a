import ChainCore
import ChainTesting
import Foundation
import Identity
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Node
import Prometheus
import Testing

@testable import API

/// `QuickRefusal` on the submission stream's pipeline (an embedded channel; the node and its
/// mempool real, SQLite files): a message is refused by the event loop that read it only when the
/// mempool is full and every message passed on before it has its answer; otherwise it reaches the
/// stream, so that answers stay in order.
@Suite struct QuickRefusalTests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium() }

    /// A node with room for one transaction, full, its refusals counted in `registry`; `body` gets
    /// the channel with the handler and the stream's watch.
    func withFullNode(
        _ body: (EmbeddedChannel, ChainNode, PrometheusCollectorRegistry, StallWatch) throws -> Void
    ) async throws {
        var config = NodeConfig(nodeId: "node0")
        config.mempoolCapacity = 1
        try await withTemporaryDirectory { dir in
            let registry = PrometheusCollectorRegistry()
            let node = try consortium.node(
                in: dir, config: config, metrics: NodeMetrics(factory: PrometheusMetricsFactory(registry: registry)))
            let id = try consortium.identity(.farm)
            try node.submit(
                try id.transaction(
                    chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(),
                    timestamp: Fixtures.now))
            #expect(throws: ChainError.self) { try node.mempool.room() }
            let watch = StallWatch(clientsTurn: true)
            let channel = EmbeddedChannel(handler: QuickRefusal(node: node, watch: watch, maxMessageBytes: 1_000))
            try body(channel, node, registry, watch)
            _ = try? channel.finish()
        }
    }

    static func frame(
        _ text: String, opcode: WebSocketOpcode = .text, fin: Bool = true, masked: Bool = true
    ) -> WebSocketFrame {
        WebSocketFrame(
            fin: fin, opcode: opcode, maskKey: masked ? WebSocketMaskingKey([1, 2, 3, 4]) : nil,
            data: ByteBuffer(string: text))
    }

    /// The frames written toward the client so far (flushed or not), as text.
    static func written(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let frame = try channel.readOutbound(as: WebSocketFrame.self) {
            out.append(String(buffer: frame.data))
        }
        return out
    }

    static func isFull(_ answer: String) throws -> Bool {
        let json = try JSONParser().parse(Array(answer.utf8))
        return json["error"]?["code"]?.stringValue == "mempool_full" && json["txid"] == nil
    }

    @Test func aFullMempoolRefusesWhereTheMessageIsReadAndFlushesOncePerRead() async throws {
        try await withFullNode { channel, _, registry, _ in
            // Three messages in one read — an envelope-shaped one, text that is not JSON, binary:
            // none reaches the stream, each gets the refusal, one flush when the read completes.
            try channel.writeInbound(Self.frame(#"{"body":"x","signature":"y","signer":"z"}"#))
            try channel.writeInbound(Self.frame("not json"))
            try channel.writeInbound(Self.frame("\u{1}", opcode: .binary))
            #expect(try channel.readInbound(as: WebSocketFrame.self) == nil)
            let answers = try Self.written(channel)
            #expect(answers.count == 3)
            #expect(try answers.allSatisfy(Self.isFull), "\(answers)")
            let scraped = String(decoding: registry.emitToBuffer(), as: UTF8.self)
            #expect(scraped.contains("xiangchain_stream_refused_on_read_total 3"), "\(scraped)")
            #expect(scraped.contains("xiangchain_transactions_refused_total{code=\"mempool_full\"} 3"), "\(scraped)")
        }
    }

    @Test func refusalsWaitForEveryAnswerOwedBeforeThem() async throws {
        try await withFullNode { channel, _, _, _ in
            // A message in two fragments goes to the stream (which reads fragments); then a whole
            // message arrives while the first is unanswered: refused here, its answer would pass
            // the first's, so it goes to the stream too.
            try channel.writeInbound(Self.frame("{\"bo", fin: false))
            try channel.writeInbound(Self.frame("dy\"}", opcode: .continuation))
            try channel.writeInbound(Self.frame("second"))
            #expect(try channel.readInbound(as: WebSocketFrame.self)?.opcode == .text)
            #expect(try channel.readInbound(as: WebSocketFrame.self)?.opcode == .continuation)
            #expect(String(buffer: try #require(try channel.readInbound(as: WebSocketFrame.self)).data) == "second")
            #expect(try Self.written(channel).isEmpty)
            // The stream answers the first: the second is still owed, so a third goes on too.
            try channel.writeOutbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "first's answer")))
            try channel.writeInbound(Self.frame("third"))
            #expect(try channel.readInbound(as: WebSocketFrame.self) != nil)
            // Both answered (a ping between changes nothing): the next is refused here, after them.
            try channel.writeOutbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "second's answer")))
            try channel.writeOutbound(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer()))
            try channel.writeOutbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "third's answer")))
            try channel.writeInbound(Self.frame("fourth"))
            #expect(try channel.readInbound(as: WebSocketFrame.self) == nil)
            let written = try Self.written(channel)
            #expect(written.count == 5)
            #expect(Array(written.prefix(2)) == ["first's answer", "second's answer"] && written[3] == "third's answer")
            #expect(try Self.isFull(written[4]), "\(written)")
        }
    }

    @Test func roomOrAnythingOutOfTheOrdinaryGoesToTheStream() async throws {
        // Room: the stream admits it.
        var config = NodeConfig(nodeId: "node0")
        config.mempoolCapacity = 1
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir, config: config)
            let channel = EmbeddedChannel(
                handler: QuickRefusal(node: node, watch: StallWatch(clientsTurn: true), maxMessageBytes: 1_000))
            try channel.writeInbound(Self.frame("with room"))
            #expect(try channel.readInbound(as: WebSocketFrame.self) != nil)
            #expect(try Self.written(channel).isEmpty)
            _ = try? channel.finish()
        }
        // Full, but: unmasked, reserved bits, too large, not writable — each passed on (the stream
        // or the WebSocket handler deals with it), and nothing is written here.
        try await withFullNode { channel, _, _, _ in
            var reserved = Self.frame("rsv")
            reserved.rsv1 = true
            let odd = [Self.frame("unmasked", masked: false), reserved, Self.frame(String(repeating: "a", count: 1_001))]
            for (n, frame) in odd.enumerated() {
                try channel.writeInbound(frame)
                #expect(try channel.readInbound(as: WebSocketFrame.self) != nil, "frame \(n)")
                try channel.writeOutbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "answer \(n)")))
            }
            channel.isWritable = false
            try channel.writeInbound(Self.frame("unwritable"))
            #expect(try channel.readInbound(as: WebSocketFrame.self) != nil)
            #expect(try Self.written(channel) == ["answer 0", "answer 1", "answer 2"])
        }
    }

    @Test func nothingIsRefusedHereOnceTheCloseHandshakeBegins() async throws {
        for closeFromClient in [true, false] {
            try await withFullNode { channel, _, _, _ in
                try channel.writeInbound(Self.frame("before"))
                #expect(try channel.readInbound(as: WebSocketFrame.self) == nil)
                if closeFromClient {
                    try channel.writeInbound(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer()))
                    #expect(try channel.readInbound(as: WebSocketFrame.self)?.opcode == .connectionClose)
                } else {
                    try channel.writeOutbound(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer()))
                }
                try channel.writeInbound(Self.frame("after"))
                #expect(try channel.readInbound(as: WebSocketFrame.self) != nil, "close from client: \(closeFromClient)")
                #expect(try Self.written(channel).count == (closeFromClient ? 1 : 2))
            }
        }
    }

    @Test func aRefusalHereIsTheClientsTurnForTheIdleWatch() async throws {
        try await withFullNode { channel, _, _, watch in
            // The watch closes a stream whose client has had its turn for the idle limit; a client
            // that sends only refused messages is sending, so each restarts its turn.
            let began = try #require(watch.clientsTurnBegan)
            let before = ContinuousClock.now
            #expect(before > began)
            try channel.writeInbound(Self.frame("refused"))
            #expect(try Self.written(channel).count == 1)
            #expect(try #require(watch.clientsTurnBegan) >= before)
        }
    }
}
