import ChainCore
import NIOCore
import NIOEmbedded
import Testing

@testable import P2P

@Suite struct FramingTests {
    private func frame(_ payload: [UInt8]) -> ByteBuffer {
        ByteBuffer(bytes: FrameParser.header(length: payload.count) + payload)
    }

    private func errorCode(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "(no error)"
        } catch let e as ChainError {
            return e.code.rawValue
        } catch {
            return "\(error)"
        }
    }

    @Test func parsesWholeFramesAndWaitsForPartialOnes() throws {
        var parser = FrameParser(maxFrameSize: 1024)
        var buffer = frame([1, 2, 3])
        buffer.writeImmutableBuffer(frame([9]))
        buffer.writeBytes([0, 0, 0, 5, 0xAA])  // a third frame, incomplete
        #expect(try parser.next(from: &buffer).map { Array($0.readableBytesView) } == [1, 2, 3])
        #expect(try parser.next(from: &buffer).map { Array($0.readableBytesView) } == [9])
        #expect(try parser.next(from: &buffer) == nil)
        buffer.writeBytes([0xBB, 0xCC, 0xDD, 0xEE])
        #expect(try parser.next(from: &buffer).map { Array($0.readableBytesView) } == [0xAA, 0xBB, 0xCC, 0xDD, 0xEE])
        #expect(buffer.readableBytes == 0)
    }

    @Test func lengthPrefixSplitAcrossReadsIsAwaited() throws {
        var parser = FrameParser(maxFrameSize: 1024)
        var buffer = ByteBuffer(bytes: [0, 0])
        #expect(try parser.next(from: &buffer) == nil)
        buffer.writeBytes([0, 2, 7])
        #expect(try parser.next(from: &buffer) == nil)
        buffer.writeBytes([8])
        #expect(try parser.next(from: &buffer).map { Array($0.readableBytesView) } == [7, 8])
    }

    @Test func hugeLengthIsRefusedBeforeAnyPayloadArrives() {
        var parser = FrameParser(maxFrameSize: 16 << 20)
        for length: UInt32 in [UInt32.max, 0x8000_0000, (16 << 20) + 1] {
            var buffer = ByteBuffer()
            buffer.writeInteger(length, endianness: .big)
            #expect(errorCode { _ = try parser.next(from: &buffer) } == "frame_too_large")
        }
        var exact = ByteBuffer()
        exact.writeInteger(UInt32(16 << 20), endianness: .big)
        #expect(errorCode { _ = try parser.next(from: &exact) } == "(no error)")
    }

    @Test func zeroLengthFrameIsMalformed() {
        var parser = FrameParser(maxFrameSize: 1024)
        var buffer = ByteBuffer(bytes: [0, 0, 0, 0])
        #expect(errorCode { _ = try parser.next(from: &buffer) } == "malformed_frame")
    }

    @Test func firstFrameHasItsOwnSmallerLimit() throws {
        var parser = FrameParser(maxFrameSize: 4096, firstFrameLimit: 16)
        var big = frame([UInt8](repeating: 1, count: 17))
        #expect(errorCode { _ = try parser.next(from: &big) } == "frame_too_large")
        var parser2 = FrameParser(maxFrameSize: 4096, firstFrameLimit: 16)
        var buffer = frame([UInt8](repeating: 1, count: 16))
        buffer.writeImmutableBuffer(frame([UInt8](repeating: 2, count: 100)))
        #expect(try parser2.next(from: &buffer)?.readableBytes == 16)
        #expect(try parser2.next(from: &buffer)?.readableBytes == 100)
    }

    @Test func truncatedStreamIsReportedAtEnd() throws {
        let parser = FrameParser(maxFrameSize: 1024)
        #expect(errorCode { try parser.finish(remaining: ByteBuffer(bytes: [0, 0, 0, 9, 1])) } == "truncated_frame")
        #expect(errorCode { try parser.finish(remaining: ByteBuffer(bytes: [0, 0])) } == "truncated_frame")
        #expect(errorCode { try parser.finish(remaining: ByteBuffer()) } == "(no error)")
    }

    @Test func randomGarbageNeverCrashesAndNeverBuffersPastTheLimit() {
        var rng = SystemRandomNumberGenerator()
        let limit = 64 * 1024
        for _ in 0..<2000 {
            var parser = FrameParser(maxFrameSize: limit)
            let count = Int.random(in: 0..<300, using: &rng)
            var buffer = ByteBuffer(bytes: (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) })
            do {
                while let payload = try parser.next(from: &buffer) {
                    #expect(payload.readableBytes > 0 && payload.readableBytes <= limit)
                }
                // Waiting for more: never more than one frame's worth is pending.
                #expect(buffer.readableBytes < limit + 4)
            } catch {
                #expect(["frame_too_large", "malformed_frame"].contains(error.code.rawValue))
            }
        }
    }

    @Test func decoderInAChannelFailsOnHostileBytes() throws {
        let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(FrameDecoder(maxFrameSize: 1024))])
        try channel.writeInbound(frame([1, 2]))
        #expect(try channel.readInbound(as: ByteBuffer.self).map { Array($0.readableBytesView) } == [1, 2])
        var huge = ByteBuffer()
        huge.writeInteger(UInt32.max, endianness: .big)
        #expect(throws: ChainError(.frameTooLarge, "frame of 4294967295 bytes exceeds the limit of 1024")) {
            try channel.writeInbound(huge)
        }
        _ = try? channel.finish()
    }

    @Test func decoderReportsATruncatedFrameAtEndOfStream() throws {
        let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(FrameDecoder(maxFrameSize: 1024))])
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 10, 1, 2, 3]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(throws: ChainError.self) { _ = try channel.finish() }
    }

    @Test func encoderPrefixesTheLengthAndRefusesOversizedPayloads() throws {
        let channel = EmbeddedChannel(handlers: [FrameEncoder(maxFrameSize: 8)])
        try channel.writeOutbound(ByteBuffer(bytes: [5, 6, 7]))
        var written = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { written.writeBuffer(&part) }
        #expect(Array(written.readableBytesView) == [0, 0, 0, 3, 5, 6, 7])
        #expect(throws: ChainError.self) { try channel.writeOutbound(ByteBuffer(bytes: [UInt8](repeating: 0, count: 9))) }
        _ = try? channel.finish()
    }
}

@Suite struct HelloTests {
    @Test func helloMatchesTheDocumentedVector() throws {
        let bytes = PeerHello(chainId: "test-chain", nodeId: "node0").encode()
        #expect(
            Hex.encode(FrameParser.header(length: bytes.count) + bytes)
                == "0000001e" + "01" + "5843484e" + "0001" + "0000000a" + "746573742d636861696e" + "00000005" + "6e6f646530")
        #expect(try PeerHello.decode(bytes) == PeerHello(chainId: "test-chain", nodeId: "node0"))
    }

    @Test func malformedHellosAreRefused() {
        let good = PeerHello(chainId: "c", nodeId: "n").encode()
        func code(_ bytes: [UInt8]) -> String {
            do {
                _ = try PeerHello.decode(bytes)
                return "(no error)"
            } catch {
                return error.code.rawValue
            }
        }
        #expect(code([]) == "bad_hello")
        #expect(code([FrameKind.data.rawValue] + good.dropFirst()) == "bad_hello")
        #expect(code(Array(good.dropLast())) == "bad_hello")
        #expect(code(good + [0]) == "bad_hello")
        var badMagic = good
        badMagic[1] = 0x59
        #expect(code(badMagic) == "bad_hello")
        var futureVersion = good
        futureVersion[6] = 3
        #expect(code(futureVersion) == "unsupported_version")
        // Version 2 (sm2 chains) carries a transport binding; without one it is refused.
        var noBinding = good
        noBinding[6] = 2
        #expect(code(noBinding) == "bad_hello")
        let bound = PeerHello(chainId: "c", nodeId: "n", binding: [1, 2, 3])
        #expect(bound.version == 2)
        #expect((try? PeerHello.decode(bound.encode())) == bound)
        #expect(code(Array(bound.encode().dropLast())) == "bad_hello")
        var hugeName = Array(good.prefix(7))
        hugeName += [0xFF, 0xFF, 0xFF, 0xFF]
        #expect(code(hugeName) == "bad_hello")
        #expect(code(PeerHello(chainId: "c", nodeId: String(repeating: "x", count: 300)).encode()) == "bad_hello")
    }
}

@Suite struct AddressAndBackoffTests {
    @Test func addressesParse() throws {
        let a = try PeerAddress(parsing: "127.0.0.1:7000")
        #expect(a.host == "127.0.0.1" && a.port == 7000 && a.description == "127.0.0.1:7000")
        let b = try PeerAddress(parsing: "[::1]:7001")
        #expect(b.host == "::1" && b.port == 7001 && b.description == "[::1]:7001")
        let c = try PeerAddress(parsing: "validator-3.example.org:443")
        #expect(c.host == "validator-3.example.org" && c.port == 443)
        for bad in ["", "7000", "host:", ":7000", "host:70000", "host:-1", "host:7a", "::1:7000", "[::1]7000", "host:+80"] {
            #expect(throws: ChainError.self, "\(bad)") { try PeerAddress(parsing: bad) }
        }
    }

    @Test func backoffGrowsIsCappedAndJittered() {
        let policy = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(2), multiplier: 2, jitter: 0.5)
        #expect(policy.delay(afterFailures: 0, random: 0) == .milliseconds(100))
        #expect(policy.delay(afterFailures: 1, random: 0) == .milliseconds(200))
        #expect(policy.delay(afterFailures: 3, random: 0) == .milliseconds(800))
        #expect(policy.delay(afterFailures: 5, random: 0) == .seconds(2))
        #expect(policy.delay(afterFailures: 10_000, random: 0) == .seconds(2))
        #expect(policy.delay(afterFailures: 10_000, random: 0.999_999) > .milliseconds(999))
        for failures in 0..<40 {
            let d = policy.delay(afterFailures: failures, random: Double.random(in: 0..<1))
            #expect(d > .zero && d <= .seconds(2))
        }
    }
}
