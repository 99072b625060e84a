import GRDB
import GRDBSQLite

/// One prepared statement run once per row with its parameters bound by SQLite's C API, without
/// GRDB's `StatementArguments` (an array of boxed values, and a `Data` copy of every blob, per
/// row): for the bulk loads of `installSnapshot` and the rows of every block commit. Only within
/// the `Database` access it was made in.
struct BulkInsert {
    let statement: Statement
    let db: Database

    init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
        self.db = db
    }

    /// The same with the connection's cached statement for `sql` (prepared once per connection).
    init(_ db: Database, cachedSQL sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        self.db = db
    }

    /// Binds a row's parameters (`bind`, with in-place pointers valid until this returns) and
    /// inserts it. A parameter SQLite could not bind fails the row before it is stepped.
    func row(_ bind: (inout Binder) -> Void) throws {
        let s = statement.sqliteStatement
        defer {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
        }
        var binder = Binder(statement: s)
        bind(&binder)
        try binder.check(db, statement)
        let code = sqlite3_step(s)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql)
        }
    }

    /// Binds the parameters of one row, keeping the first failure (`row` throws it).
    struct Binder {
        let statement: OpaquePointer
        var failure = SQLITE_OK

        mutating func record(_ code: Int32) {
            if code != SQLITE_OK, failure == SQLITE_OK { failure = code }
        }

        func check(_ db: Database, _ s: Statement) throws {
            guard failure == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: failure), message: db.lastErrorMessage, sql: s.sql)
            }
        }

        mutating func int(_ column: Int32, _ value: Int64) { record(sqlite3_bind_int64(statement, column, value)) }

        /// A blob, read in place during the step (`copy` false) or copied at once; an empty one
        /// binds an empty blob, not NULL.
        mutating func blob(_ column: Int32, _ bytes: UnsafeRawBufferPointer, copy: Bool = false) {
            if let base = bytes.baseAddress, !bytes.isEmpty {
                record(sqlite3_bind_blob(statement, column, base, Int32(bytes.count), copy ? BulkInsert.transient : nil))
            } else {
                record(sqlite3_bind_zeroblob(statement, column, 0))
            }
        }

        mutating func blob(_ column: Int32, copying bytes: [UInt8]) {
            bytes.withUnsafeBytes { blob(column, $0, copy: true) }
        }

        /// UTF-8 text read in place during the step, up to its first NUL character as every text
        /// here and in GRDB is bound (`text(_:copying:)`); an empty one binds an empty text, not NULL.
        mutating func text(_ column: Int32, _ bytes: UnsafeRawBufferPointer) {
            let count = bytes.firstIndex(of: 0) ?? bytes.count
            if let base = bytes.baseAddress, count > 0 {
                record(sqlite3_bind_text(statement, column, base.assumingMemoryBound(to: CChar.self), Int32(count), nil))
            } else {
                record(sqlite3_bind_text(statement, column, "", 0, BulkInsert.transient))
            }
        }

        /// A string copied at once, bound exactly as GRDB binds a `String` (as a C string: it ends
        /// at a NUL character), so that a key written here is the key GRDB's reads and deletes
        /// look for.
        mutating func text(_ column: Int32, copying string: String) {
            record(BulkInsert.bindText(statement, column, string))
        }
    }

    /// Binds `string` as GRDB does (a C string, copied): see `Binder.text(_:copying:)`.
    static func bindText(_ statement: OpaquePointer, _ column: Int32, _ string: String) -> Int32 {
        sqlite3_bind_text(statement, column, string, -1, transient)
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the value before the bind returns.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
