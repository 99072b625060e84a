import ChainCore
import Foundation
import Testing

@testable import CodeSheet

/// Encoding through libqrencode, checked against the QR Code structure and decoded by ZBar.
@Suite struct QRCodeTests {
    static let digitalLink = "https://id.example.cn/01/09521234543213/21/ABC123?s=K7Q2M9XP"
    static let chinese = "阳澄湖大闸蟹 · 2026 · 蟹扣 000123 · 苏州市相城区"

    @Test func digitalLinkURIMakesASmallSymbol() throws {
        let code = try QRCode(text: Self.digitalLink)
        #expect(code.level == .medium)
        #expect(code.size == 17 + 4 * code.version)
        // 61 bytes at level M fit version 4 (62 bytes).
        #expect(code.version == 4)
        #expect(code.text == Self.digitalLink)
    }

    @Test func finderPatternsSitInThreeCorners() throws {
        let code = try QRCode(text: Self.digitalLink)
        let last = code.size - 7
        for (ox, oy) in [(0, 0), (last, 0), (0, last)] {
            for y in 0..<7 {
                for x in 0..<7 {
                    // A 7×7 dark ring, a light ring, then a dark 3×3 centre.
                    let ring = max(abs(x - 3), abs(y - 3))
                    #expect(code.isDark(x: ox + x, y: oy + y) == (ring != 2), "finder at \(ox),\(oy) module \(x),\(y)")
                }
            }
        }
        #expect(!code.isDark(x: -1, y: 0))
        #expect(!code.isDark(x: 0, y: code.size))
    }

    @Test func higherLevelsNeedLargerSymbols() throws {
        let versions = try QRCode.ErrorCorrection.allCases.map { try QRCode(text: Self.digitalLink, level: $0).version }
        #expect(versions == versions.sorted())
        #expect(versions.first! < versions.last!)
    }

    @Test func emptyTextIsRefused() {
        #expect(throws: ChainError(.qrTextEmpty, "a QR Code needs at least one byte of text")) {
            try QRCode(text: "")
        }
    }

    @Test(arguments: QRCode.ErrorCorrection.allCases)
    func maximumLengthFitsVersion40AndOneMoreByteDoesNot(level: QRCode.ErrorCorrection) throws {
        let longest = String(repeating: "a", count: level.maximumByteCount)
        let code = try QRCode(text: longest, level: level)
        #expect(code.version == 40)
        #expect(code.size == 177)
        let error = #expect(throws: ChainError.self) { try QRCode(text: longest + "a", level: level) }
        #expect(error?.code.rawValue == "qr_text_too_long")
    }

    @Test func lengthCountsUTF8BytesNotCharacters() {
        // 800 CJK characters are 2400 UTF-8 bytes, more than level M's 2331.
        let error = #expect(throws: ChainError.self) { try QRCode(text: String(repeating: "蟹", count: 800)) }
        #expect(error?.code.rawValue == "qr_text_too_long")
    }

    @Test func textWithNULBytesIsEncodedWhole() throws {
        let withNUL = try QRCode(text: "a\u{0}b")
        let truncated = try QRCode(text: "a")
        #expect(withNUL != truncated)
    }

    // MARK: Decoded by a real reader

    @Test(arguments: [
        digitalLink,
        chinese,
        "HTTPS://ID.EXAMPLE.CN/01/09521234543213/21/ABC123",
        "0123456789",
        "<crab id=\"1\"> & 'ring' ;",
    ])
    func zbarReadsBackTheText(text: String) throws {
        try Self.expectRoundTrip(text, level: .medium, scale: 4)
    }

    @Test(arguments: QRCode.ErrorCorrection.allCases)
    func zbarReadsEveryLevel(level: QRCode.ErrorCorrection) throws {
        try Self.expectRoundTrip(Self.digitalLink, level: level, scale: 3)
    }

    @Test func zbarReadsALongText() throws {
        // A dense version-25 symbol; its PNG spans several stored deflate blocks.
        let text = (0..<100).map { "https://id.example.cn/01/09521234543213/21/\($0)" }.joined(separator: " ").prefix(1000)
        try Self.expectRoundTrip(String(text), level: .medium, scale: 4)
    }

    @Test func zbarReadsTheLongestText() throws {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/?=&")
        let text = String((0..<QRCode.ErrorCorrection.low.maximumByteCount).map { alphabet[$0 * 7 % alphabet.count] })
        try Self.expectRoundTrip(text, level: .low, scale: 4)
    }

    /// Encodes, writes the PNG to a temporary file, and expects `zbarimg` to read the same text.
    static func expectRoundTrip(_ text: String, level: QRCode.ErrorCorrection, scale: Int) throws {
        guard ZBar.executable != nil else {
            Issue.record(Comment(rawValue: ZBar.Missing().description))
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("codesheet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("code.png")
        let code = try QRCode(text: text, level: level)
        try code.writePNG(to: file, scale: scale)
        #expect(try ZBar.decode(file) == text)
    }
}

/// The sheet's per-label PNG files, read back by ZBar.
@Suite struct CodeSheetPNGTests {
    @Test func writesOneDecodablePNGPerLabelInOrder() throws {
        guard ZBar.executable != nil else {
            Issue.record(Comment(rawValue: ZBar.Missing().description))
            return
        }
        var labels = (1...11).map(SVGTests.label)
        labels[1].shortCode = "a/b c.蟹"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("codesheet-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try CodeSheet(title: "t", labels: labels).writePNGs(to: directory, scale: 4)
        #expect(files.map(\.lastPathComponent).prefix(3) == ["01-R000001-K7Q2.png", "02-a_b_c__.png", "03-R000003-K7Q2.png"])
        #expect(files.count == labels.count)
        for (label, file) in zip(labels, files) {
            #expect(try ZBar.decode(file) == label.uri)
        }
    }
}
