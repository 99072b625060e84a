import ChainCore
import Crypto
import Foundation

/// One WebSocket (RFC 6455) over a blocking TCP socket: how the load generator's clients use a
/// node's submission stream (`GET /v1/txs/stream`) with `--stream`. Like `PlainHTTPConnection`,
/// whose socket it uses, it is blocking: use it on a thread of its own.
///
/// The client side of the protocol only: the opening handshake (its `Sec-WebSocket-Accept`
/// checked), masked frames out, unmasked frames in; fragmented messages are joined, a ping is
/// answered with its pong, a close frame ends the connection with an error that carries the
/// node's close code. Everything a node sends is bounded: a message (and every frame of it) at
/// most `maxMessageBytes`, control frames at most 125 bytes and never fragmented; a frame the
/// protocol forbids (masked, reserved bits or opcodes, a continuation with nothing to continue)
/// fails with `malformed`.
final class PlainWebSocket {
    /// Largest message accepted from the node.
    static let maxMessageBytes = 1024 * 1024
    /// The GUID of RFC 6455 § 1.3.
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    let connection: PlainHTTPConnection
    let path: String
    var host: String { connection.host }
    var port: Int { connection.port }

    /// A WebSocket to `path` on `url`'s node (`http://host:port`), opened by `open()`.
    init(url: URL, path: String, timeoutSeconds: Int = 60) throws(ChainError) {
        connection = try PlainHTTPConnection(url: url, timeoutSeconds: timeoutSeconds)
        self.path = path
    }

    /// Connects and upgrades.
    func open() throws(ChainError) {
        connection.close()
        try connection.open()
        var nonce = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in nonce.indices { nonce[i] = UInt8.random(in: 0...255, using: &rng) }
        let key = Data(nonce).base64EncodedString()
        let request =
            "GET \(connection.basePath)\(path) HTTP/1.1\r\nHost: \(connection.hostHeader)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        do throws(ChainError) {
            try connection.write(Array(request.utf8))
            var headBytes = 0
            let (statusLine, headers) = try connection.readHead(used: &headBytes)
            let accept = headers.first { $0.name == "sec-websocket-accept" }?.value
            let upgrade = headers.contains { $0.name == "upgrade" && $0.value.lowercased() == "websocket" }
            guard statusLine.hasPrefix("HTTP/1.1 101") else {
                throw ChainError(
                    .upstreamUnavailable, "\(host):\(port) did not open a WebSocket at \(path): \(statusLine.prefix(80))")
            }
            let expected = Data(Insecure.SHA1.hash(data: Array((key + Self.guid).utf8))).base64EncodedString()
            guard upgrade, accept == expected else {
                throw ChainError(
                    .malformed, "\(host):\(port) answered the WebSocket handshake without the right Sec-WebSocket-Accept")
            }
        } catch {
            connection.close()
            throw error
        }
    }

    /// Closes the socket (without a close frame: the node sees the end of the connection).
    func close() { connection.close() }

    /// Sends `payload` as one text message (a single masked frame).
    func send(text payload: [UInt8]) throws(ChainError) {
        try write(opcode: 0x1, payload)
    }

    /// The next text or binary message's payload, answering pings on the way.
    func receive() throws(ChainError) -> [UInt8] {
        var message: [UInt8] = []
        var inMessage = false
        while true {
            let head = try connection.take(2)
            let b0 = head[head.startIndex]
            let b1 = head[head.startIndex + 1]
            let fin = b0 & 0x80 != 0
            let opcode = b0 & 0x0F
            guard b0 & 0x70 == 0 else { throw ChainError(.malformed, "\(host):\(port) sent a frame with reserved bits set") }
            guard b1 & 0x80 == 0 else { throw ChainError(.malformed, "\(host):\(port) sent a masked frame") }
            var length = UInt64(b1 & 0x7F)
            if length == 126 {
                length = try connection.take(2).reduce(0) { $0 << 8 | UInt64($1) }
            } else if length == 127 {
                length = try connection.take(8).reduce(0) { $0 << 8 | UInt64($1) }
            }
            let isControl = opcode & 0x8 != 0
            if isControl {
                guard fin, length <= 125 else {
                    throw ChainError(.malformed, "\(host):\(port) sent a fragmented or oversized control frame")
                }
            } else {
                guard length <= UInt64(Self.maxMessageBytes - message.count) else {
                    throw ChainError(.malformed, "\(host):\(port) sent a message over \(Self.maxMessageBytes) bytes")
                }
            }
            let payload = Array(try connection.take(Int(length)))
            switch opcode {
            case 0x1, 0x2:
                guard !inMessage else { throw ChainError(.malformed, "\(host):\(port) began a message inside another") }
                message = payload
                inMessage = true
            case 0x0:
                guard inMessage else { throw ChainError(.malformed, "\(host):\(port) sent a continuation of no message") }
                message += payload
            case 0x8:
                guard payload.count != 1 else { throw ChainError(.malformed, "\(host):\(port) sent a close frame of one byte") }
                let code = payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : 1005
                let reason = payload.count > 2 ? String(decoding: payload[2...], as: UTF8.self) : ""
                connection.close()
                throw ChainError(
                    .upstreamUnavailable, "\(host):\(port) closed the WebSocket (\(code)\(reason.isEmpty ? "" : ": \(reason)"))")
            case 0x9:
                try write(opcode: 0xA, payload)
                continue
            case 0xA:
                continue
            default:
                throw ChainError(.malformed, "\(host):\(port) sent a frame of reserved opcode \(opcode)")
            }
            if fin { return message }
        }
    }

    /// One masked frame, FIN set.
    private func write(opcode: UInt8, _ payload: [UInt8]) throws(ChainError) {
        var frame: [UInt8] = []
        frame.reserveCapacity(payload.count + 14)
        frame.append(0x80 | opcode)
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame.append(0x80 | 126)
            frame.append(UInt8(payload.count >> 8))
            frame.append(UInt8(payload.count & 0xFF))
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                frame.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF))
            }
        }
        // A fresh masking key per frame (RFC 6455 § 5.3).
        var rng = SystemRandomNumberGenerator()
        let mask = rng.next() as UInt32
        let key: [UInt8] = [UInt8(mask >> 24), UInt8((mask >> 16) & 0xFF), UInt8((mask >> 8) & 0xFF), UInt8(mask & 0xFF)]
        frame += key
        let start = frame.count
        frame += payload
        frame.withUnsafeMutableBufferPointer { f in
            for i in 0..<payload.count { f[start + i] ^= key[i & 3] }
        }
        do throws(ChainError) {
            try connection.write(frame)
        } catch {
            connection.close()
            throw error
        }
    }
}
