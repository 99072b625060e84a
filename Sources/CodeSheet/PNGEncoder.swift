/// Writes 1-bit greyscale PNG images (PNG 1.2 / ISO 15948) without a compression library.
///
/// The image data goes into a zlib stream of stored (uncompressed) deflate blocks; a QR Code at
/// 1 bit per pixel stays small without compression, and the encoder stays a few dozen lines.
enum PNGEncoder {
    /// The eight bytes every PNG file starts with.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The largest payload of one stored deflate block.
    static let maximumStoredBlock = 65_535

    /// Encodes a `width × height` image in which `isBlack(x, y)` picks black, else white.
    static func blackAndWhite(width: Int, height: Int, isBlack: (Int, Int) -> Bool) -> [UInt8] {
        let rowBytes = (width + 7) / 8
        var raw: [UInt8] = []
        raw.reserveCapacity(height * (rowBytes + 1))
        for y in 0..<height {
            raw.append(0)  // filter type None
            var byte: UInt8 = 0
            for x in 0..<width {
                // Greyscale 1 is white, 0 is black; pixels fill each byte from the high bit.
                if !isBlack(x, y) { byte |= 0x80 >> UInt8(x % 8) }
                if x % 8 == 7 || x == width - 1 {
                    raw.append(byte)
                    byte = 0
                }
            }
        }

        var header: [UInt8] = []
        header += bigEndian(UInt32(width))
        header += bigEndian(UInt32(height))
        // Bit depth 1, colour type 0 (greyscale), deflate, adaptive filtering, no interlace.
        header += [1, 0, 0, 0, 0]

        var png = signature
        png += chunk("IHDR", header)
        png += chunk("IDAT", zlibStored(raw))
        png += chunk("IEND", [])
        return png
    }

    /// One chunk: length, type, data and the CRC-32 of type and data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        var crc = CRC32()
        crc.update(typeBytes)
        crc.update(data)
        return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(crc.value)
    }

    /// A zlib stream (RFC 1950) holding `data` in stored deflate blocks (RFC 1951 §3.2.4).
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        // CMF 0x78: deflate with a 32 KiB window; FLG 0x01 makes CMF·256 + FLG a multiple of 31.
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(maximumStoredBlock, data.count - offset)
            let isFinal = offset + length == data.count
            out.append(isFinal ? 1 : 0)  // BFINAL, BTYPE 00; the rest of the byte is padding
            let len = UInt16(length)
            out += [UInt8(len & 0xFF), UInt8(len >> 8), UInt8(~len & 0xFF), UInt8(~len >> 8)]
            out += data[offset..<offset + length]
            offset += length
        } while offset < data.count
        out += bigEndian(Adler32.checksum(data))
        return out
    }

    /// The four bytes of `value`, most significant first.
    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
