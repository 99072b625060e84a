import ChainCore
import Foundation
import Testing

@testable import CodeSheet

/// The hand-written PNG encoder, read back by the independent reader in `PNGReader.swift`.
@Suite struct PNGTests {
    @Test func checksumsMatchKnownValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(Adler32.checksum(Array("Wikipedia".utf8)) == 0x11E6_0398)
        let long = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(Adler32.checksum(long) == PNGReader.adler32(long))
        #expect(CRC32.checksum(long) == PNGReader.crc32(long))
    }

    @Test func pngHasValidStructureAndExactPixels() throws {
        let code = try QRCode(text: QRCodeTests.digitalLink)
        let scale = 3
        let quiet = 4
        let png = try PNGReader(code.png(scale: scale, quietZone: quiet))
        #expect(png.chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])
        #expect(png.width == (code.size + 2 * quiet) * scale)
        #expect(png.height == png.width)
        for y in 0..<png.height {
            for x in 0..<png.width where png.isBlack(x: x, y: y) != code.isDark(x: x / scale - quiet, y: y / scale - quiet) {
                Issue.record("pixel \(x),\(y) differs from its module")
                return
            }
        }
    }

    @Test func largeImagesSpanSeveralStoredBlocks() throws {
        let code = try QRCode(text: String(repeating: "9", count: 2000), level: .low)
        let bytes = try code.png(scale: 8)
        let png = try PNGReader(bytes)
        let rawSize = png.height * ((png.width + 7) / 8 + 1)
        #expect(rawSize > PNGEncoder.maximumStoredBlock)
        #expect(png.width == (code.size + 8) * 8)
        #expect(png.isBlack(x: 4 * 8, y: 4 * 8))
        #expect(!png.isBlack(x: 0, y: 0))
    }

    @Test func zlibStoredHandlesEmptyAndExactBlockSizes() throws {
        for count in [0, 1, 65_535, 65_536, 131_070, 131_071] {
            let data = (0..<count).map { UInt8(truncatingIfNeeded: $0) }
            #expect(try PNGReader.inflateStored(PNGEncoder.zlibStored(data)) == data, "\(count) bytes")
        }
    }

    @Test func widthsThatAreNotAMultipleOfEightArePadded() throws {
        let bytes = PNGEncoder.blackAndWhite(width: 11, height: 3) { x, y in (x + y) % 2 == 0 }
        let png = try PNGReader(bytes)
        #expect(png.width == 11)
        for y in 0..<3 {
            for x in 0..<11 { #expect(png.isBlack(x: x, y: y) == ((x + y) % 2 == 0)) }
        }
    }

    @Test func corruptedChunkIsDetectedByTheReader() throws {
        var bytes = try QRCode(text: "crab").png(scale: 2)
        bytes[40] ^= 0xFF
        #expect(throws: PNGReader.Failure.self) { try PNGReader(bytes) }
    }

    @Test func writePNGWritesTheSameBytes() throws {
        let code = try QRCode(text: QRCodeTests.chinese)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("codesheet-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: file) }
        try code.writePNG(to: file, scale: 5, quietZone: 2)
        #expect(try [UInt8](Data(contentsOf: file)) == code.png(scale: 5, quietZone: 2))
    }

    @Test func renderSizesAreChecked() throws {
        let code = try QRCode(text: "crab")
        for (scale, quiet) in [(0, 4), (101, 4), (4, -1), (4, 41)] {
            let error = #expect(throws: ChainError.self) { try code.png(scale: scale, quietZone: quiet) }
            #expect(error?.code.rawValue == "qr_bad_render_size")
        }
    }
}
