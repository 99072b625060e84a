import ChainCore

extension CodeSheet {
    /// The page and the grid the labels sit in; lengths are millimetres.
    public struct Layout: Sendable, Hashable {
        /// Page width.
        public var pageWidth: Double
        /// Page height.
        public var pageHeight: Double
        /// Blank border on every side of the page.
        public var margin: Double
        /// Height of the title band above the grid.
        public var headerHeight: Double
        /// Labels per row.
        public var columns: Int
        /// Rows of labels per page.
        public var rows: Int
        /// Smallest printed module side accepted; phone cameras struggle below about 0.25 mm.
        public var minimumModuleSize: Double

        /// A4 portrait with a `columns × rows` grid (4 × 5 by default: labels of 47.5 × 52.6 mm).
        public static func a4(columns: Int = 4, rows: Int = 5) -> Layout {
            Layout(
                pageWidth: 210, pageHeight: 297, margin: 10, headerHeight: 14,
                columns: columns, rows: rows, minimumModuleSize: 0.25
            )
        }

        /// Creates a layout.
        public init(
            pageWidth: Double, pageHeight: Double, margin: Double, headerHeight: Double,
            columns: Int, rows: Int, minimumModuleSize: Double
        ) {
            self.pageWidth = pageWidth
            self.pageHeight = pageHeight
            self.margin = margin
            self.headerHeight = headerHeight
            self.columns = columns
            self.rows = rows
            self.minimumModuleSize = minimumModuleSize
        }

        /// Labels that fit on one page.
        public var labelsPerPage: Int { columns * rows }

        /// Width of one grid cell.
        var cellWidth: Double { (pageWidth - 2 * margin) / Double(columns) }
        /// Height of one grid cell.
        var cellHeight: Double { (pageHeight - 2 * margin - headerHeight) / Double(rows) }
        /// Padding inside a cell, around the symbol and the text.
        var cellPadding: Double { 2 }
        /// Height of the two text lines under the symbol.
        var textHeight: Double { 10 }
        /// Side of the printed symbol, quiet zone included.
        var symbolSide: Double { min(cellWidth - 2 * cellPadding, cellHeight - 2 * cellPadding - textHeight) }

        /// Refuses grids that leave no room for a symbol.
        func validate() throws(ChainError) {
            guard (1...50).contains(columns), (1...50).contains(rows) else {
                throw ChainError(.badSheetLayout, "the grid needs 1 to 50 columns and rows, not \(columns) × \(rows)")
            }
            guard pageWidth.isFinite, pageHeight.isFinite, margin >= 0, headerHeight >= 0, symbolSide > 0 else {
                throw ChainError(.badSheetLayout, "a \(columns) × \(rows) grid leaves no room for a QR Code on the page")
            }
        }
    }
}
