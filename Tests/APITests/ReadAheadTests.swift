import HummingbirdWebSocket
import Testing

@testable import API

/// The submission stream's read-ahead (`ReadAhead`): the reader waits while the bound is reached
/// (by count or by bytes; one message of any size is always taken), the server takes all that
/// wait at once, and either side's end wakes the other.
@Suite struct ReadAheadTests {
    static func message(_ n: Int) -> WebSocketMessage { .text("m\(n)") }

    @Test func theServerTakesAllThatWaitAndNeverMoreThanTheCount() async throws {
        let queue = ReadAhead(maxCount: 4, maxBytes: 1 << 20)
        let reader = Task {
            for n in 0..<10 { #expect(await queue.put(Self.message(n), size: 10)) }
            queue.finish()
        }
        var taken: [WebSocketMessage] = []
        while let batch = try await queue.takeAll() {
            #expect(!batch.isEmpty && batch.count <= 4)
            taken += batch
        }
        await reader.value
        #expect(taken == (0..<10).map(Self.message))
    }

    @Test func theBytesBoundHoldsAndOneLargeMessageIsAlwaysTaken() async throws {
        let queue = ReadAhead(maxCount: 64, maxBytes: 100)
        let reader = Task {
            for (n, size) in [60, 60, 500, 30, 30, 30].enumerated() { #expect(await queue.put(Self.message(n), size: size)) }
            queue.finish()
        }
        var batches: [[WebSocketMessage]] = []
        while let batch = try await queue.takeAll() { batches.append(batch) }
        await reader.value
        // 60 + 60 > 100 and 500 alone; the three of 30 may come together.
        #expect(batches.joined().map { $0 } == (0..<6).map(Self.message))
        #expect(batches.count >= 3)
        #expect(batches[0] == [Self.message(0)])
        #expect(batches[1] == [Self.message(1)])
        #expect(batches[2] == [Self.message(2)])
    }

    struct Broken: Error {}

    @Test func whatEndedTheReaderComesAfterTheMessagesBeforeIt() async throws {
        let queue = ReadAhead(maxCount: 8, maxBytes: 1 << 20)
        #expect(await queue.put(Self.message(0), size: 1))
        #expect(await queue.put(Self.message(1), size: 1))
        queue.finish(.failure(Broken()))
        #expect(try await queue.takeAll() == [Self.message(0), Self.message(1)])
        await #expect(throws: Broken.self) { try await queue.takeAll() }
        // Taken no more once ended.
        #expect(await !queue.put(Self.message(2), size: 1))
    }

    @Test func theServerStoppingReleasesAReaderWaitingForRoom() async throws {
        let queue = ReadAhead(maxCount: 1, maxBytes: 1 << 20)
        #expect(await queue.put(Self.message(0), size: 1))
        let waiting = Task { await queue.put(Self.message(1), size: 1) }
        queue.finish()
        #expect(await waiting.value == false)
    }

    @Test func cancellingAWaitingServerEndsItsWait() async throws {
        let queue = ReadAhead(maxCount: 1, maxBytes: 1 << 20)
        let server = Task { try await queue.takeAll() }
        server.cancel()
        await #expect(throws: CancellationError.self) { try await server.value }
        #expect(await !queue.put(Self.message(0), size: 1))
    }
}
