/// An independent PNG reader for tests: checks the structure our encoder promises and unpacks pixels.
///
/// It accepts only what `QRCode.png` writes (1-bit greyscale, filter 0, stored deflate blocks) and
/// verifies every CRC-32 and the Adler-32 with its own bit-by-bit implementations.
struct PNGReader {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A chunk as read from the file.
    struct Chunk {
        let type: String
        let data: [UInt8]
    }

    let width: Int
    let height: Int
    let chunks: [Chunk]
    /// Row-major, `true` for black.
    let black: [Bool]

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 8, Array(bytes[0..<8]) == Self.signature else { throw Failure(description: "bad signature") }
        var offset = 8
        var chunks: [Chunk] = []
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw Failure(description: "truncated chunk header") }
            let length = Int(Self.uint32(bytes, offset))
            guard offset + 12 + length <= bytes.count else { throw Failure(description: "truncated chunk") }
            let typeBytes = Array(bytes[offset + 4..<offset + 8])
            let data = Array(bytes[offset + 8..<offset + 8 + length])
            let stored = Self.uint32(bytes, offset + 8 + length)
            guard stored == Self.crc32(typeBytes + data) else {
                throw Failure(description: "CRC mismatch in chunk \(String(decoding: typeBytes, as: UTF8.self))")
            }
            chunks.append(Chunk(type: String(decoding: typeBytes, as: UTF8.self), data: data))
            offset += 12 + length
        }
        guard chunks.first?.type == "IHDR", chunks.last?.type == "IEND", chunks.last?.data.isEmpty == true else {
            throw Failure(description: "chunks must run IHDR … IEND, got \(chunks.map(\.type))")
        }
        let header = chunks[0].data
        guard header.count == 13 else { throw Failure(description: "IHDR must be 13 bytes") }
        let width = Int(Self.uint32(header, 0))
        let height = Int(Self.uint32(header, 4))
        guard width > 0, height > 0, Array(header[8..<13]) == [1, 0, 0, 0, 0] else {
            throw Failure(description: "expected a 1-bit greyscale, non-interlaced image: \(header)")
        }
        let zlib = chunks.filter { $0.type == "IDAT" }.flatMap(\.data)
        let raw = try Self.inflateStored(zlib)
        let rowBytes = (width + 7) / 8
        guard raw.count == height * (rowBytes + 1) else {
            throw Failure(description: "image data is \(raw.count) bytes, expected \(height * (rowBytes + 1))")
        }
        var black: [Bool] = []
        black.reserveCapacity(width * height)
        for y in 0..<height {
            let row = y * (rowBytes + 1)
            guard raw[row] == 0 else { throw Failure(description: "row \(y) uses filter \(raw[row])") }
            for x in 0..<width {
                let byte = raw[row + 1 + x / 8]
                black.append(byte & (0x80 >> UInt8(x % 8)) == 0)
            }
        }
        self.width = width
        self.height = height
        self.chunks = chunks
        self.black = black
    }

    func isBlack(x: Int, y: Int) -> Bool { black[y * width + x] }

    /// Unpacks a zlib stream made only of stored deflate blocks, checking header and Adler-32.
    static func inflateStored(_ z: [UInt8]) throws -> [UInt8] {
        guard z.count >= 6 else { throw Failure(description: "zlib stream too short") }
        guard z[0] & 0x0F == 8, (Int(z[0]) * 256 + Int(z[1])) % 31 == 0, z[1] & 0x20 == 0 else {
            throw Failure(description: "bad zlib header \(z[0]) \(z[1])")
        }
        var offset = 2
        var out: [UInt8] = []
        var final = false
        while !final {
            guard offset + 5 <= z.count else { throw Failure(description: "truncated deflate block") }
            final = z[offset] & 1 == 1
            guard (z[offset] >> 1) & 3 == 0 else { throw Failure(description: "not a stored block") }
            let len = Int(z[offset + 1]) | Int(z[offset + 2]) << 8
            let nlen = Int(z[offset + 3]) | Int(z[offset + 4]) << 8
            guard len ^ nlen == 0xFFFF else { throw Failure(description: "LEN and NLEN disagree") }
            offset += 5
            guard offset + len <= z.count else { throw Failure(description: "stored block overruns") }
            out += z[offset..<offset + len]
            offset += len
        }
        guard offset + 4 == z.count else { throw Failure(description: "bytes after the last block") }
        guard uint32(z, offset) == adler32(out) else { throw Failure(description: "Adler-32 mismatch") }
        return out
    }

    static func uint32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    /// Bit-at-a-time CRC-32, deliberately unlike the encoder's table version.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~crc
    }

    /// Adler-32 with a modulo after every byte.
    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }
}
