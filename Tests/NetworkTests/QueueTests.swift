import NIOCore
import Testing

@testable import P2P

@Suite struct OutboundQueueTests {
    @Test func boundedByMessagesAndBytes() async {
        let q = OutboundQueue(maxMessages: 3, maxBytes: 10)
        #expect(q.offer(ByteBuffer(bytes: [UInt8](repeating: 0, count: 4))) == .queued)
        #expect(q.offer(ByteBuffer(bytes: [UInt8](repeating: 0, count: 4))) == .queued)
        #expect(q.offer(ByteBuffer(bytes: [UInt8](repeating: 0, count: 4))) == .full)  // 12 bytes > 10
        #expect(q.offer(ByteBuffer(bytes: [1])) == .queued)
        #expect(q.offer(ByteBuffer(bytes: [1])) == .full)  // 3 messages
        #expect(q.queued.messages == 3 && q.queued.bytes == 9)
        var it = q.frames.makeAsyncIterator()
        if let f = await it.next() { q.didDequeue(f) }
        #expect(q.offer(ByteBuffer(bytes: [2])) == .queued)
        q.close()
        #expect(q.offer(ByteBuffer(bytes: [3])) == .closed)
    }

    @Test func oneOversizedMessageFitsAnEmptyQueue() {
        let q = OutboundQueue(maxMessages: 3, maxBytes: 10)
        #expect(q.offer(ByteBuffer(bytes: [UInt8](repeating: 0, count: 50))) == .queued)
        #expect(q.offer(ByteBuffer(bytes: [1])) == .full)
    }
}

@Suite struct InboxTests {
    @Test func roundRobinAcrossPeersAndFifoWithinOne() async {
        let inbox = Inbox(laneMessages: 10, laneBytes: 1000)
        inbox.register(producer: 1, nodeId: "a")
        inbox.register(producer: 2, nodeId: "b")
        for i: UInt8 in 0..<3 { #expect(await inbox.push([i], from: "a", producer: 1)) }
        for i: UInt8 in 10..<12 { #expect(await inbox.push([i], from: "b", producer: 2)) }
        var got: [String] = []
        for _ in 0..<5 {
            if let m = await inbox.next() { got.append("\(m.from)\(m.bytes[0])") }
        }
        #expect(got == ["a0", "b10", "a1", "b11", "a2"])
    }

    @Test func aPeersMessagesStayInOrderAcrossAReconnect() async {
        let inbox = Inbox(laneMessages: 10, laneBytes: 1000)
        inbox.register(producer: 1, nodeId: "a")
        #expect(await inbox.push([1], from: "a", producer: 1))
        #expect(await inbox.push([2], from: "a", producer: 1))
        inbox.unregister(producer: 1, nodeId: "a")
        #expect(await inbox.push([9], from: "a", producer: 1) == false)
        inbox.register(producer: 2, nodeId: "a")
        #expect(await inbox.push([3], from: "a", producer: 2))
        var got: [UInt8] = []
        for _ in 0..<3 { got += await inbox.next()?.bytes ?? [] }
        #expect(got == [1, 2, 3])
    }

    @Test func fullLaneSuspendsItsProducerUntilTheConsumerTakes() async {
        let inbox = Inbox(laneMessages: 2, laneBytes: 1000)
        inbox.register(producer: 1, nodeId: "a")
        #expect(await inbox.push([1], from: "a", producer: 1))
        #expect(await inbox.push([2], from: "a", producer: 1))
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await inbox.push([3], from: "a", producer: 1) }
            // The third push cannot complete until a message is taken.
            try? await Task.sleep(for: .milliseconds(50))
            #expect(inbox.laneUsage("a").messages == 2)
            #expect(await inbox.next()?.bytes == [1])
            #expect(await group.next() == true)
        }
        #expect(await inbox.next()?.bytes == [2])
        #expect(await inbox.next()?.bytes == [3])
    }

    @Test func laneIsAlsoBoundedInBytes() async {
        let inbox = Inbox(laneMessages: 100, laneBytes: 10)
        inbox.register(producer: 1, nodeId: "a")
        #expect(await inbox.push([UInt8](repeating: 0, count: 30), from: "a", producer: 1))  // one always fits
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await inbox.push([1], from: "a", producer: 1) }
            try? await Task.sleep(for: .milliseconds(30))
            #expect(inbox.laneUsage("a").bytes == 30)
            #expect(await inbox.next()?.bytes.count == 30)
            #expect(await group.next() == true)
        }
    }

    @Test func cancellationReleasesSuspendedProducersAndConsumers() async {
        let inbox = Inbox(laneMessages: 1, laneBytes: 1000)
        inbox.register(producer: 1, nodeId: "a")
        #expect(await inbox.push([1], from: "a", producer: 1))
        let producer = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await inbox.push([2], from: "a", producer: 1) }
            group.cancelAll()
            return await group.next() ?? true
        }
        #expect(producer == false)
        let empty = Inbox(laneMessages: 1, laneBytes: 1000)
        let consumer = await withTaskGroup(of: InboundMessage?.self) { group in
            group.addTask { await empty.next() }
            try? await Task.sleep(for: .milliseconds(20))
            group.cancelAll()
            return await group.next() ?? nil
        }
        #expect(consumer == nil)
    }

    @Test func unregisteringWakesAWaitingProducerAndKeepsWhatItAdded() async {
        let inbox = Inbox(laneMessages: 1, laneBytes: 1000)
        inbox.register(producer: 7, nodeId: "x")
        #expect(await inbox.push([1], from: "x", producer: 7))
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await inbox.push([2], from: "x", producer: 7) }
            try? await Task.sleep(for: .milliseconds(20))
            inbox.unregister(producer: 7, nodeId: "x")
            #expect(await group.next() == false)
        }
        #expect(await inbox.next()?.bytes == [1])
        inbox.finish()
        #expect(await inbox.next() == nil)
    }

    @Test func finishWakesWaitingConsumers() async {
        let inbox = Inbox(laneMessages: 4, laneBytes: 1000)
        await withTaskGroup(of: InboundMessage?.self) { group in
            group.addTask { await inbox.next() }
            try? await Task.sleep(for: .milliseconds(20))
            inbox.finish()
            #expect(await group.next() == .some(nil))
        }
    }
}
