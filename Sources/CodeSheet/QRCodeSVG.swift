import ChainCore

extension QRCode {
    /// A standalone SVG image of the symbol: a white square with every dark module in one path.
    ///
    /// `moduleSize` is the side of one module in CSS pixels and `quietZone` the light margin in
    /// modules (the standard asks for 4). Edges are drawn crisp, so the image stays sharp at any
    /// zoom and when printed.
    public func svg(moduleSize: Int = 8, quietZone: Int = 4) throws(ChainError) -> String {
        try Self.checkRenderSize(moduleSize: moduleSize, quietZone: quietZone)
        let side = size + 2 * quietZone
        let pixels = side * moduleSize
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(pixels)" height="\(pixels)" \
            viewBox="0 0 \(side) \(side)" shape-rendering="crispEdges">
            <title>\(XMLText.escaped(text))</title>
            <rect width="\(side)" height="\(side)" fill="#fff"/>
            <path fill="#000" d="\(pathData(originX: quietZone, originY: quietZone))"/>
            </svg>

            """
    }

    /// SVG path data for the dark modules, one unit per module, the symbol's corner at the origin.
    ///
    /// Neighbouring dark modules of a row merge into one rectangle, which keeps the path short and
    /// leaves no hairline seams between modules.
    func pathData(originX: Int, originY: Int) -> String {
        var parts: [String] = []
        for y in 0..<size {
            var x = 0
            while x < size {
                guard isDark(x: x, y: y) else {
                    x += 1
                    continue
                }
                let start = x
                while x < size && isDark(x: x, y: y) { x += 1 }
                let run = x - start
                parts.append("M\(originX + start) \(originY + y)h\(run)v1h-\(run)z")
            }
        }
        return parts.joined()
    }
}
