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

    /// Binds a blob that SQLite copies at once (the bytes need not outlive the call); an empty one
    /// binds an empty blob, not NULL.
    static func blob(_ s: OpaquePointer, _ column: Int32, copying bytes: [UInt8]) {
        bytes.withUnsafeBytes { b in
            if let base = b.baseAddress, !b.isEmpty {
                sqlite3_bind_blob(s, column, base, Int32(b.count), transient)
            } else {
                sqlite3_bind_zeroblob(s, column, 0)
            }
        }
    }

    /// Binds text that SQLite copies at once (its UTF-8 bytes).
    static func text(_ s: OpaquePointer, _ column: Int32, copying string: String) {
        var string = string
        string.withUTF8 { b in
            if let base = b.baseAddress, !b.isEmpty {
                let chars = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
                sqlite3_bind_text(s, column, chars, Int32(b.count), transient)
            } else {
                sqlite3_bind_text(s, column, "", 0, transient)
            }
        }
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the value before the bind returns.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds UTF-8 text that SQLite reads in place during the step; an empty one binds an empty
    /// text (copied), not NULL.
    static func text(_ s: OpaquePointer, _ column: Int32, _ bytes: UnsafeRawBufferPointer) {
        if let base = bytes.baseAddress, !bytes.isEmpty {
            sqlite3_bind_text(s, column, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
        } else {
            sqlite3_bind_text(s, column, "", 0, transient)
        }
    }

    /// Binds a blob that SQLite reads in place during the step; an empty one binds an empty
    /// blob, not NULL.
    static func blob(_ s: OpaquePointer, _ column: Int32, _ bytes: UnsafeRawBufferPointer) {
        if let base = bytes.baseAddress, !bytes.isEmpty {
            sqlite3_bind_blob(s, column, base, Int32(bytes.count), nil)
        } else {
            sqlite3_bind_zeroblob(s, column, 0)
        }
    }

    /// Binds a row's parameters (`bind`, with pointers valid until this returns) and inserts it.
    func row(_ bind: (OpaquePointer) -> Void) throws {
        let s = statement.sqliteStatement
        bind(s)
        let code = sqlite3_step(s)
        sqlite3_reset(s)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql)
        }
    }
}
