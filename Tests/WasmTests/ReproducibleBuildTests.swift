import ChainCore
import ChainTesting
import ContractSDK
import Foundation
import Testing

/// The committed modules are what their sources build to with the SDK (CI has the toolchain;
/// `contracts/build-all.sh --check` compares every module, this test the counter, quickly).
@Suite struct ReproducibleBuildTests {
    @Test func rebuildingTheCounterGivesTheCommittedBytes() throws {
        let source = ContractFixtures.contractsDirectory.appendingPathComponent("counter.swift")
        let rebuilt = try ContractSDK.build(sources: [source], toolchain: try ContractSDK.Toolchain.find())
        #expect(rebuilt == (try ContractFixtures.module("counter")), "run contracts/build-all.sh after changing counter")
    }

    @Test func aContractThatDoesNotCompileFailsWithTheCompilersMessage() throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("xc-bad-\(UUID().uuidString).swift")
        try Data("func dispatch(_ call: Call) throws(XCError) -> JSON { return undefinedThing }\n".utf8).write(to: bad)
        defer { try? FileManager.default.removeItem(at: bad) }
        do {
            _ = try ContractSDK.build(sources: [bad], toolchain: try ContractSDK.Toolchain.find())
            Issue.record("built a contract that does not compile")
        } catch let error as ChainError {
            #expect(error.code == .buildFailed)
            #expect(error.message.contains("undefinedThing"))
            #expect(error.message.contains(bad.path))
        }
    }
}
