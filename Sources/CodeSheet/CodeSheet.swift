import ChainCore

/// A printable sheet of QR Code labels: a title, then a grid of labels with cut guides.
///
/// The output is SVG in millimetres, so it prints at true size from a browser or any SVG tool.
/// ```swift
/// let sheet = CodeSheet(title: "阳澄湖大闸蟹 2026", labels: [
///     CodeLabel(uri: "https://id.example.cn/01/09521234543213/21/ABC123?s=K7Q2M9XP",
///               shortCode: "ABC123", caption: "阳澄湖大闸蟹 · 2026 · ring 000123"),
/// ])
/// let page = try sheet.svg()
/// ```
public struct CodeSheet: Sendable, Hashable {
    /// Printed at the top of every page.
    public var title: String
    /// The labels, in reading order (left to right, then top to bottom).
    public var labels: [CodeLabel]
    /// Page size and grid.
    public var layout: Layout
    /// Error correction level of every symbol.
    public var level: QRCode.ErrorCorrection

    /// Creates a sheet; the default layout is A4 with 4 × 5 labels.
    public init(
        title: String, labels: [CodeLabel], layout: Layout = .a4(), level: QRCode.ErrorCorrection = .medium
    ) {
        self.title = title
        self.labels = labels
        self.layout = layout
        self.level = level
    }

    /// Pages needed for all labels; at least one.
    public var pageCount: Int {
        let perPage = max(1, layout.labelsPerPage)
        return max(1, (labels.count + perPage - 1) / perPage)
    }

    /// The sheet as one SVG document; throws `sheet_overflow` if the labels need more than one page.
    public func svg() throws(ChainError) -> String {
        try layout.validate()
        guard labels.count <= layout.labelsPerPage else {
            throw ChainError(
                .sheetOverflow,
                "\(labels.count) labels need \(pageCount) pages of \(layout.labelsPerPage); use svgPages()"
            )
        }
        return try svgPages()[0]
    }

    /// The QR code of one label; an encoding error names the label.
    func encode(_ label: CodeLabel, number: Int) throws(ChainError) -> QRCode {
        do throws(ChainError) {
            return try QRCode(text: label.uri, level: level)
        } catch {
            throw ChainError(error.code, "label \(number) (\(label.shortCode)): \(error.message)")
        }
    }

    /// One SVG document per page, each holding up to `layout.labelsPerPage` labels.
    ///
    /// Throws the errors of ``QRCode/init(text:level:)`` for a label whose URI cannot be encoded,
    /// `qr_too_dense` when a symbol's modules would print smaller than the layout allows, and
    /// `bad_sheet_layout` for a grid with no room for symbols.
    public func svgPages() throws(ChainError) -> [String] {
        try layout.validate()
        var codes: [QRCode] = []
        codes.reserveCapacity(labels.count)
        for (index, label) in labels.enumerated() {
            let code = try encode(label, number: index + 1)
            let module = layout.symbolSide / Double(code.size + 2 * Self.quietZone)
            guard module >= layout.minimumModuleSize else {
                throw ChainError(
                    .qrTooDense,
                    "label \(index + 1) (\(label.shortCode)): its \(code.size)-module symbol would print with "
                        + "\(SVGNumber.format(module)) mm modules, under \(SVGNumber.format(layout.minimumModuleSize)) mm; "
                        + "shorten the URI or use fewer columns or rows"
                )
            }
            codes.append(code)
        }
        return (0..<pageCount).map { page in
            let start = page * layout.labelsPerPage
            let end = min(labels.count, start + layout.labelsPerPage)
            return renderPage(page, entries: Array(zip(labels[start..<end], codes[start..<end])))
        }
    }

    /// Modules of light margin around each symbol, as the standard asks.
    static let quietZone = 4

    private static let textFont = "'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei',sans-serif"
    private static let codeFont = "'DejaVu Sans Mono','Liberation Mono',monospace"

    private func renderPage(_ page: Int, entries: [(CodeLabel, QRCode)]) -> String {
        let l = layout
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(n(l.pageWidth))mm" \
            height="\(n(l.pageHeight))mm" viewBox="0 0 \(n(l.pageWidth)) \(n(l.pageHeight))">
            <title>\(XMLText.escaped(title))</title>
            <rect width="\(n(l.pageWidth))" height="\(n(l.pageHeight))" fill="#fff"/>
            <text x="\(n(l.margin))" y="\(n(l.margin + 6))" font-family="\(Self.textFont)" font-size="6" \
            font-weight="bold" fill="#000">\(XMLText.escaped(title))</text>
            <text x="\(n(l.pageWidth - l.margin))" y="\(n(l.margin + 6))" font-family="\(Self.textFont)" \
            font-size="3" text-anchor="end" fill="#555">page \(page + 1) of \(pageCount) · \(labels.count) labels</text>

            """
        for (index, entry) in entries.enumerated() {
            let column = index % l.columns
            let row = index / l.columns
            let x = l.margin + Double(column) * l.cellWidth
            let y = l.margin + l.headerHeight + Double(row) * l.cellHeight
            out += renderLabel(entry.0, code: entry.1, x: x, y: y)
        }
        out += "</svg>\n"
        return out
    }

    private func renderLabel(_ label: CodeLabel, code: QRCode, x: Double, y: Double) -> String {
        let l = layout
        let side = l.symbolSide
        let module = side / Double(code.size + 2 * Self.quietZone)
        let symbolX = x + (l.cellWidth - side) / 2
        let symbolY = y + l.cellPadding
        let centre = x + l.cellWidth / 2
        let textWidth = l.cellWidth - 2 * l.cellPadding
        let codeY = symbolY + side + 4.2
        let captionY = codeY + 4
        return """
            <g class="label">
            <rect x="\(n(x))" y="\(n(y))" width="\(n(l.cellWidth))" height="\(n(l.cellHeight))" fill="none" \
            stroke="#bbb" stroke-width="0.1" stroke-dasharray="1 1"/>
            <g transform="translate(\(n(symbolX)) \(n(symbolY))) scale(\(n(module, digits: 6)))" shape-rendering="crispEdges">
            <path fill="#000" d="\(code.pathData(originX: Self.quietZone, originY: Self.quietZone))"/>
            </g>
            \(textLine(label.shortCode, x: centre, y: codeY, size: 3.6, monospace: true, width: textWidth))
            \(textLine(label.caption, x: centre, y: captionY, size: 2.5, monospace: false, width: textWidth))
            </g>

            """
    }

    /// A centred line of text, squeezed to `width` when it would run wider.
    ///
    /// The short code is set bold in a monospaced font, the caption in a CJK-capable sans-serif.
    private func textLine(_ text: String, x: Double, y: Double, size: Double, monospace: Bool, width: Double) -> String {
        let font = monospace ? Self.codeFont : Self.textFont
        var attributes = "x=\"\(n(x))\" y=\"\(n(y))\" font-family=\"\(font)\" font-size=\"\(n(size))\" text-anchor=\"middle\""
        if monospace { attributes += " font-weight=\"bold\"" }
        if Self.estimatedEms(text, monospace: monospace) * size > width {
            attributes += " textLength=\"\(n(width))\" lengthAdjust=\"spacingAndGlyphs\""
        }
        return "<text \(attributes) fill=\"#000\">\(XMLText.escaped(text))</text>"
    }

    /// A number for an SVG attribute.
    private func n(_ value: Double, digits: Int = 3) -> String { SVGNumber.format(value, digits: digits) }

    /// A rough printed width in ems: wide East Asian characters take a full em; other characters
    /// 0.6 in a monospaced font, and in a proportional one 0.3 for a space and 0.55 for the rest.
    static func estimatedEms(_ text: String, monospace: Bool) -> Double {
        text.unicodeScalars.reduce(0) { sum, scalar in
            let v = scalar.value
            let wide =
                (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
            if wide { return sum + 1 }
            if monospace { return sum + 0.6 }
            return sum + (scalar == " " ? 0.3 : 0.55)
        }
    }
}
