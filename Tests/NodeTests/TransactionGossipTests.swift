import ChainCore
import Synchronization
import Testing

@testable import Node

@Suite struct TransactionGossipTests {
    static func tx(_ i: Int) -> SignedTransaction {
        SignedTransaction(
            body: Array("{\"n\":\(i)}".utf8), signature: [UInt8(i & 0xff)], signerCertificate: [1, 2, 3], hasher: .sha256)
    }

    static func decode(_ messages: [[UInt8]]) throws -> [SignedTransaction] {
        try messages.flatMap { m -> [SignedTransaction] in
            #expect(m.first == 2)
            return try TransactionBatch.decode(Array(m.dropFirst()), maxCount: 1024, hasher: .sha256)
        }
    }

    @Test func fullBatchesGoAtOnceAndTheRestAfterTheDelay() async throws {
        let sent = Mutex<[[UInt8]]>([])
        let gossip = TransactionGossip(maxBatch: 256, flushDelay: .milliseconds(5)) { m in sent.withLock { $0.append(m) } }
        let runner = Task { await gossip.run() }
        let txs = (0..<600).map(Self.tx)
        for t in txs { gossip.add(t) }
        // Two full batches leave without waiting for the timer.
        #expect(sent.withLock { $0.count } >= 2)
        var waited = 0
        while try Self.decode(sent.withLock { $0 }).count < txs.count, waited < 200 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        let messages = sent.withLock { $0 }
        // Every transaction is delivered exactly once, in admission order, in batches of at most 256.
        #expect(try Self.decode(messages) == txs)
        #expect(
            try messages.allSatisfy {
                try TransactionBatch.decode(Array($0.dropFirst()), maxCount: 1024, hasher: .sha256).count <= 256
            })
        #expect(messages.count == 3)
        gossip.finish()
        runner.cancel()
        await runner.value
    }

    @Test func aLoneTransactionIsSentAfterTheDelay() async throws {
        let sent = Mutex<[[UInt8]]>([])
        let gossip = TransactionGossip(maxBatch: 256, flushDelay: .milliseconds(5)) { m in sent.withLock { $0.append(m) } }
        let runner = Task { await gossip.run() }
        gossip.add(Self.tx(1))
        var waited = 0
        while sent.withLock({ $0.isEmpty }), waited < 200 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(try Self.decode(sent.withLock { $0 }) == [Self.tx(1)])
        // Later transactions start a new batch and are flushed too.
        gossip.add(Self.tx(2))
        gossip.add(Self.tx(3))
        waited = 0
        while try Self.decode(sent.withLock { $0 }).count < 3, waited < 200 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(try Self.decode(sent.withLock { $0 }) == [Self.tx(1), Self.tx(2), Self.tx(3)])
        gossip.finish()
        await runner.value
    }
}
