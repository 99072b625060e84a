import ChainCore
import ChainTesting
import Identity
import Synchronization
import Testing

@testable import Execution

/// What one block's execution remembers of the state it reads: committed values asked of the
/// store once, records parsed once while their bytes stay the same, within a budget.
@Suite struct BlockStateTests {
    /// Committed state that counts the reads asked of it.
    final class CountingState: StateReader {
        let values: [String: [UInt8]]
        let reads = Mutex<[String: Int]>([:])
        init(_ values: [String: [UInt8]]) { self.values = values }
        func read(_ key: String) throws -> [UInt8]? {
            reads.withLock { $0[key, default: 0] += 1 }
            return values[key]
        }
        func count(_ key: String) -> Int { reads.withLock { $0[key] ?? 0 } }
    }

    static let member = JSONValue.object(["role": .string("merchant"), "salesRegion": .array([.string("Suzhou")])])

    func context(_ state: BlockState, _ n: Int) -> ExecutionContext {
        let caller = SignerIdentity(
            org: "org\(n)", role: .merchant, subject: "s\(n)", certificateHash: Hash256.sha256([UInt8(n)]))
        return ExecutionContext(
            contract: "crab", caller: caller, txid: Hash256.sha256([UInt8(n)]), height: 1, blockTime: 1, blockState: state)
    }

    /// Applies a context's writes to the block, as the executor does for a transaction that succeeded.
    func commit(_ ctx: ExecutionContext, to state: BlockState) {
        for k in ctx.writeOrder { state.overlay[StateKey(k)] = ctx.writes[StateKey(k)]! }
    }

    @Test func aRecordManyTransactionsReadIsAskedOfTheStoreAndParsedOnce() throws {
        let store = CountingState(["crab/member/a": Self.member.canonicalBytes])
        let block = BlockState(committed: store)
        for n in 0..<50 {
            #expect(try context(block, n).getJSON("member/a") == Self.member)
            #expect(try context(block, n).getJSON("member/none") == nil)
        }
        #expect(store.count("crab/member/a") == 1)
        #expect(store.count("crab/member/none") == 1)
        #expect(block.storeReads == 2)
        #expect(block.parses == 1)
    }

    @Test func aValueWrittenSinceIsReadAnewAndAFailedTransactionsWritesAreSeenByNoOther() throws {
        let store = CountingState(["crab/counter": JSONValue.int(1).canonicalBytes])
        let block = BlockState(committed: store)
        // A transaction writes, reads its own write, and fails: its writes never reach the block.
        let failed = context(block, 0)
        #expect(try failed.getJSON("counter") == .int(1))
        failed.putJSON("counter", .int(99))
        #expect(try failed.getJSON("counter") == .int(99))
        #expect(try context(block, 1).getJSON("counter") == .int(1))
        // One that succeeds is seen by the next ones, each value parsed once.
        let ok = context(block, 2)
        ok.putJSON("counter", .int(2))
        commit(ok, to: block)
        #expect(try context(block, 3).getJSON("counter") == .int(2))
        #expect(try context(block, 4).getJSON("counter") == .int(2))
        #expect(store.count("crab/counter") == 1)
        // 1, 99 (the failed one's own write), 1 again (what it replaced in memory), 2 once for two readers.
        #expect(block.parses == 4)
        // A deletion hides the committed value, remembered or not.
        let deleting = context(block, 5)
        deleting.delete("counter")
        commit(deleting, to: block)
        #expect(try context(block, 6).getJSON("counter") == nil)
    }

    @Test func aDamagedRecordFailsEveryReadAsAFaultOfTheNode() throws {
        let store = CountingState(["crab/bad": Array("{\"a\":".utf8)])
        let block = BlockState(committed: store)
        for n in 0..<3 {
            #expect(throws: StateReadFault.self) { try context(block, n).getJSON("bad") }
        }
        #expect(store.count("crab/bad") == 1)
        #expect(block.parses == 0)
    }

    @Test func theMemoriesStayWithinTheirBudgetAndReadsPastItStillSeeTheState() throws {
        var values: [String: [UInt8]] = [:]
        for i in 0..<100 {
            values["crab/r\(i)"] =
                JSONValue.object(["i": .int(i), "pad": .string(String(repeating: "x", count: 200))]).canonicalBytes
        }
        let store = CountingState(values)
        let block = BlockState(committed: store, memoryBudget: 4_096)
        for round in 0..<2 {
            for i in 0..<100 {
                #expect(try context(block, round).getJSON("r\(i)")?["i"] == .int(i))
                #expect(block.memoryUsed <= 4_096)
            }
        }
        // What fitted was asked once; the rest once per read.
        let once = (0..<100).filter { store.count("crab/r\($0)") == 1 }.count
        #expect(once > 0 && once < 100)
        #expect((0..<100).allSatisfy { store.count("crab/r\($0)") <= 2 })
        #expect(block.storeReads == 100 + (100 - once))
    }
}
