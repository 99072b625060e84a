import ChainCore
import NIOCore

/// Pure parsing of the length-prefixed frame format: a u32 big-endian length, then that many bytes.
///
/// The length is checked before any payload byte is buffered, so a hostile length never causes a
/// large allocation; a zero length is malformed (every frame carries at least its kind byte).
struct FrameParser: Sendable {
    /// Largest accepted frame length, in bytes, once the first frame has been read.
    let maxFrameSize: Int
    /// Largest accepted length for the next frame (smaller for the first frame, the hello).
    private(set) var nextFrameLimit: Int

    /// A parser whose first frame may be at most `firstFrameLimit` bytes and later ones `maxFrameSize`.
    init(maxFrameSize: Int, firstFrameLimit: Int? = nil) {
        self.maxFrameSize = maxFrameSize
        self.nextFrameLimit = min(firstFrameLimit ?? maxFrameSize, maxFrameSize)
    }

    /// Removes and returns the next whole frame's payload from `buffer`, or nil when more bytes are needed.
    ///
    /// Throws `frame_too_large` or `malformed_frame` as soon as the length field is readable.
    mutating func next(from buffer: inout ByteBuffer) throws(ChainError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return nil
        }
        guard length > 0 else { throw ChainError(.malformedFrame, "zero-length frame") }
        guard UInt64(length) <= UInt64(nextFrameLimit) else {
            throw ChainError(.frameTooLarge, "frame of \(length) bytes exceeds the limit of \(nextFrameLimit)")
        }
        let size = Int(length)
        guard buffer.readableBytes - 4 >= size else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let payload = buffer.readSlice(length: size) else { return nil }
        nextFrameLimit = maxFrameSize
        return payload
    }

    /// Checks what is left when the stream ends: a partial frame is `truncated_frame`.
    func finish(remaining buffer: ByteBuffer) throws(ChainError) {
        guard buffer.readableBytes == 0 else {
            throw ChainError(.truncatedFrame, "stream ended inside a frame (\(buffer.readableBytes) bytes left over)")
        }
    }

    /// The 4-byte length prefix of a payload of `length` bytes.
    static func header(length: Int) -> [UInt8] {
        let n = UInt32(truncatingIfNeeded: length)
        return [
            UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n),
        ]
    }
}

/// The channel handler that splits inbound bytes into frame payloads with a `FrameParser`.
struct FrameDecoder: ByteToMessageDecoder {
    /// Frame payloads (the length prefix removed).
    typealias InboundOut = ByteBuffer

    private var parser: FrameParser

    /// A decoder with the given limits (see `FrameParser`).
    init(maxFrameSize: Int, firstFrameLimit: Int? = nil) {
        parser = FrameParser(maxFrameSize: maxFrameSize, firstFrameLimit: firstFrameLimit)
    }

    /// Emits every whole frame in `buffer`.
    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let payload = try parser.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(payload))
        return .continue
    }

    /// Emits the frames left at end of stream, then fails on a partial frame.
    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        try parser.finish(remaining: buffer)
        return .needMoreData
    }
}

/// Writes each outbound payload as one frame: its u32 big-endian length, then the payload (no copy).
final class FrameEncoder: ChannelOutboundHandler, Sendable {
    /// Frame payloads.
    typealias OutboundIn = ByteBuffer
    /// Raw bytes.
    typealias OutboundOut = ByteBuffer

    /// Largest payload this encoder writes; larger ones fail the write with `frame_too_large`.
    let maxFrameSize: Int

    /// An encoder refusing payloads over `maxFrameSize` bytes.
    init(maxFrameSize: Int) { self.maxFrameSize = maxFrameSize }

    /// Writes the length prefix and the payload.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload = Self.unwrapOutboundIn(data)
        guard payload.readableBytes > 0, payload.readableBytes <= maxFrameSize else {
            promise?.fail(
                ChainError(
                    .frameTooLarge, "refusing to write a frame of \(payload.readableBytes) bytes (limit \(maxFrameSize))"))
            return
        }
        var header = context.channel.allocator.buffer(capacity: 4)
        header.writeInteger(UInt32(payload.readableBytes), endianness: .big)
        context.write(Self.wrapOutboundOut(header), promise: nil)
        context.write(Self.wrapOutboundOut(payload), promise: promise)
    }
}
