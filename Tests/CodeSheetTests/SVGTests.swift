import ChainCore
import Foundation
import Testing

@testable import CodeSheet

/// SVG output: well-formed XML, the right modules, every label and its escaped text.
@Suite struct SVGTests {
    static func darkModules(of code: QRCode, offset: Int) -> Set<[Int]> {
        var set: Set<[Int]> = []
        for y in 0..<code.size {
            for x in 0..<code.size where code.isDark(x: x, y: y) { set.insert([x + offset, y + offset]) }
        }
        return set
    }

    static func label(_ n: Int) -> CodeLabel {
        let serial = String(repeating: "0", count: 6 - String(n).count) + String(n)
        return CodeLabel(
            uri: "https://id.example.cn/01/09521234543213/21/R\(serial)?s=K7Q2M9XP",
            shortCode: "R\(serial)-K7Q2",
            caption: "阳澄湖大闸蟹 · 2026 · ring \(serial)"
        )
    }

    @Test func symbolSVGIsWellFormedWithOnePathOfTheDarkModules() throws {
        let code = try QRCode(text: QRCodeTests.digitalLink)
        let svg = try code.svg(moduleSize: 5, quietZone: 4)
        let document = try SVGDocument(svg)
        let root = try #require(document.elements.first)
        #expect(root.name == "svg")
        let side = code.size + 8
        #expect(root.attributes["viewBox"] == "0 0 \(side) \(side)")
        #expect(root.attributes["width"] == "\(side * 5)")
        #expect(root.attributes["shape-rendering"] == "crispEdges")
        let paths = document.elements(named: "path")
        #expect(paths.count == 1)
        let d = try #require(paths.first?.attributes["d"])
        #expect(try SVGDocument.modules(ofPath: d) == Self.darkModules(of: code, offset: 4))
    }

    @Test func symbolSVGEscapesItsTitle() throws {
        let text = "a<b>&\"c\"'d'"
        let document = try SVGDocument(QRCode(text: text).svg())
        #expect(document.elements(named: "title").first?.text == text)
    }

    @Test func xmlEscapingDropsCharactersXMLCannotCarry() {
        #expect(XMLText.escaped("a\u{1}b\u{FFFE}c\td") == "abc\td")
        #expect(XMLText.escaped("<&>\"'蟹🦀") == "&lt;&amp;&gt;&quot;&apos;蟹🦀")
    }

    @Test func sheetIsAnA4SVGWithEveryLabel() throws {
        var labels = (1...19).map(Self.label)
        labels.append(CodeLabel(uri: "https://id.example.cn/01/1?s=<&>", shortCode: "<X&Y>", caption: "\"Crab\" & 'co' </text>"))
        let sheet = CodeSheet(title: "阳澄湖大闸蟹 2026 · 蟹扣 <batch & 7>", labels: labels)
        let svg = try sheet.svg()
        let document = try SVGDocument(svg)
        let root = try #require(document.elements.first)
        #expect(root.attributes["width"] == "210mm")
        #expect(root.attributes["height"] == "297mm")
        #expect(root.attributes["viewBox"] == "0 0 210 297")
        #expect(document.elements(named: "title").first?.text == sheet.title)

        let texts = document.elements(named: "text").map(\.text)
        #expect(texts.contains(sheet.title))
        #expect(texts.contains("page 1 of 1 · 20 labels"))
        let groups = document.elements.filter { $0.name == "g" && $0.attributes["class"] == "label" }
        #expect(groups.count == labels.count)
        for label in labels {
            #expect(texts.contains(label.shortCode), "short code \(label.shortCode)")
            #expect(texts.contains(label.caption), "caption \(label.caption)")
        }

        // Each label's path paints exactly its own URI's modules, in reading order.
        let paths = document.elements(named: "path")
        #expect(paths.count == labels.count)
        for (label, path) in zip(labels, paths) {
            let code = try QRCode(text: label.uri)
            let d = try #require(path.attributes["d"])
            #expect(try SVGDocument.modules(ofPath: d) == Self.darkModules(of: code, offset: CodeSheet.quietZone))
        }
    }

    @Test func labelsStayInsideThePage() throws {
        let sheet = CodeSheet(title: "t", labels: (1...20).map(Self.label))
        let document = try SVGDocument(sheet.svg())
        let cells = document.elements.filter { $0.name == "rect" && $0.attributes["stroke"] != nil }
        #expect(cells.count == 20)
        for cell in cells {
            let x = try #require(cell.attributes["x"].flatMap(Double.init))
            let y = try #require(cell.attributes["y"].flatMap(Double.init))
            let w = try #require(cell.attributes["width"].flatMap(Double.init))
            let h = try #require(cell.attributes["height"].flatMap(Double.init))
            #expect(x >= 10 && y >= 10 && x + w <= 200.001 && y + h <= 287.001)
        }
    }

    @Test func longCaptionsAreSqueezedToTheLabel() throws {
        let long = CodeLabel(
            uri: "https://id.example.cn/01/1", shortCode: "S1",
            caption: "阳澄湖大闸蟹 · 苏州市相城区阳澄湖镇 · 2026 年 10 月 · ring 000123 · 公蟹 4.5 两")
        let document = try SVGDocument(CodeSheet(title: "t", labels: [long, Self.label(1)]).svg())
        let captions = document.elements(named: "text").filter { $0.text.contains("阳澄湖") }
        #expect(captions.count == 2)
        #expect(captions[0].attributes["textLength"] != nil)
        #expect(captions[1].attributes["textLength"] == nil)
    }

    @Test func tooManyLabelsForOnePageAreSplitIntoPages() throws {
        let sheet = CodeSheet(title: "t", labels: (1...45).map(Self.label))
        #expect(sheet.pageCount == 3)
        let error = #expect(throws: ChainError.self) { try sheet.svg() }
        #expect(error?.code.rawValue == "sheet_overflow")
        let pages = try sheet.svgPages()
        #expect(pages.count == 3)
        let counts = try pages.map { try SVGDocument($0).elements(named: "path").count }
        #expect(counts == [20, 20, 5])
        #expect(pages[2].contains("R000045-K7Q2"))
        #expect(pages[2].contains("page 3 of 3 · 45 labels"))
    }

    @Test func emptySheetIsOnePageWithTheTitle() throws {
        let document = try SVGDocument(CodeSheet(title: "empty", labels: []).svg())
        #expect(document.elements(named: "path").isEmpty)
        #expect(document.elements(named: "text").map(\.text).contains("empty"))
    }

    @Test func unencodableLabelNamesTheLabel() throws {
        let sheet = CodeSheet(title: "t", labels: [Self.label(1), CodeLabel(uri: "", shortCode: "BAD", caption: "")])
        let error = #expect(throws: ChainError.self) { try sheet.svgPages() }
        #expect(error?.code.rawValue == "qr_text_empty")
        #expect(error?.message.contains("label 2 (BAD)") == true)
    }

    @Test func symbolsTooDenseToPrintAreRefused() throws {
        let uri = "https://id.example.cn/01/09521234543213/21/" + String(repeating: "X", count: 1200)
        let sheet = CodeSheet(
            title: "t", labels: [CodeLabel(uri: uri, shortCode: "D", caption: "")], layout: .a4(columns: 8, rows: 10))
        let error = #expect(throws: ChainError.self) { try sheet.svg() }
        #expect(error?.code.rawValue == "qr_too_dense")
    }

    @Test func gridWithoutRoomIsRefused() throws {
        for layout in [CodeSheet.Layout.a4(columns: 0), .a4(rows: 40)] {
            let error = #expect(throws: ChainError.self) {
                try CodeSheet(title: "t", labels: [Self.label(1)], layout: layout).svg()
            }
            #expect(error?.code.rawValue == "bad_sheet_layout")
        }
    }

    @Test func numbersAreWrittenPlainly() {
        #expect(SVGNumber.format(38.6) == "38.6")
        #expect(SVGNumber.format(12) == "12")
        #expect(SVGNumber.format(0.0004) == "0")
        #expect(SVGNumber.format(-1.25) == "-1.25")
        #expect(SVGNumber.format(0.9414634, digits: 6) == "0.941463")
    }
}
