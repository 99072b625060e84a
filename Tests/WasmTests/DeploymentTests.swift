import ChainCore
import ChainTesting
import Execution
import Testing
import WAT

/// What deployment refuses, and why.
@Suite struct DeploymentTests {
    let runtime = WasmRuntime()

    func refusal(_ bytes: [UInt8], runtime: WasmRuntime = WasmRuntime()) -> ChainError? {
        do {
            _ = try runtime.deploy(bytes)
            return nil
        } catch {
            return error
        }
    }

    /// A minimal valid contract in text form, with `extra` spliced into the module.
    func module(_ extra: String = "", memory: String = "(memory (export \"memory\") 1)", start: String = "") throws -> [UInt8] {
        try wat2wasm(
            """
            (module
              \(extra)
              \(memory)
              (func (export "xc_alloc") (param i32) (result i32) i32.const 1024)
              (func (export "xc_call") (param i32 i32 i32 i32) (result i32) i32.const 0)
              \(start)
            )
            """)
    }

    @Test func acceptsTheSampleContracts() throws {
        for name in ["counter", "probe", "loop", "trap", "membomb", "recursion"] {
            #expect(refusal(try ContractFixtures.module(name)) == nil, "\(name)")
        }
        #expect(refusal(try module()) == nil)
    }

    @Test func refusesAForbiddenImport() throws {
        let error = refusal(try ContractFixtures.module("forbidden"))
        #expect(error?.code.rawValue == "forbidden_import")
        #expect(error?.message.contains("wasi_snapshot_preview1.clock_time_get") == true)
    }

    @Test func refusesAnUnknownHostFunctionAndAWrongSignature() throws {
        let unknown = try module(#"(import "xc" "random" (func (result i64)))"#)
        #expect(refusal(unknown)?.code.rawValue == "forbidden_import")
        let wrongType = try module(#"(import "xc" "block_time" (func (result i32)))"#)
        #expect(refusal(wrongType)?.code.rawValue == "forbidden_import")
        let importedMemory = try module(memory: #"(import "xc" "memory" (memory 1)) (export "memory" (memory 0))"#)
        #expect(refusal(importedMemory)?.code.rawValue == "forbidden_import")
    }

    @Test func refusesFloatingPoint() throws {
        let error = refusal(try ContractFixtures.module("floats"))
        #expect(error?.code.rawValue == "float_instruction")
        let add = try module("(func (param i32) (result i32) local.get 0 f32.convert_i32_s f32.const 1 f32.add i32.trunc_f32_s)")
        #expect(refusal(add)?.code.rawValue == "float_instruction")
        let local = try module("(func (local f64))")
        #expect(refusal(local)?.code.rawValue == "float_instruction")
        let global = try module("(global f32 (f32.const 0))")
        #expect(refusal(global)?.code.rawValue == "float_instruction")
        let reinterpret = try module("(func (param i32) (result i32) local.get 0 f32.reinterpret_i32 i32.reinterpret_f32)")
        #expect(refusal(reinterpret)?.code.rawValue == "float_instruction")
    }

    @Test func refusesAnOversizedModule() throws {
        let counter = try ContractFixtures.module("counter")
        // A custom section ("pad") of 600 KiB keeps the module valid but makes it too large.
        let padding = [UInt8](repeating: 0, count: 600 * 1024)
        var section: [UInt8] = [3] + Array("pad".utf8) + padding
        var length = section.count
        var leb: [UInt8] = []
        repeat {
            var byte = UInt8(length & 0x7f)
            length >>= 7
            if length != 0 { byte |= 0x80 }
            leb.append(byte)
        } while length != 0
        section = [0] + leb + section
        let oversized = counter + section
        #expect(refusal(oversized)?.code.rawValue == "module_too_large")
        var limits = WasmLimits()
        limits.maxModuleBytes = 1024 * 1024
        #expect(refusal(oversized, runtime: WasmRuntime(limits: limits)) == nil)
    }

    @Test func refusesAStartFunction() throws {
        let bytes = try module("(func $init)", start: "(start $init)")
        #expect(refusal(bytes)?.code.rawValue == "start_function")
    }

    @Test func refusesMissingOrMistypedExports() throws {
        let noCall = try wat2wasm(
            #"(module (memory (export "memory") 1) (func (export "xc_alloc") (param i32) (result i32) i32.const 0))"#)
        #expect(refusal(noCall)?.code.rawValue == "bad_export")
        let noMemory = try module(memory: "(memory 1)")
        #expect(refusal(noMemory)?.code.rawValue == "bad_export")
        let badAlloc = try wat2wasm(
            #"""
            (module (memory (export "memory") 1)
              (func (export "xc_alloc") (param i64) (result i32) i32.const 0)
              (func (export "xc_call") (param i32 i32 i32 i32) (result i32) i32.const 0))
            """#)
        #expect(refusal(badAlloc)?.code.rawValue == "bad_export")
    }

    @Test func refusesTooMuchInitialMemory() throws {
        #expect(refusal(try module(memory: #"(memory (export "memory") 65)"#))?.code.rawValue == "memory_limit")
        #expect(refusal(try module(memory: #"(memory (export "memory") 64)"#)) == nil)
    }

    @Test func refusesBytesThatAreNotWebAssembly() {
        #expect(refusal(Array("hello".utf8))?.code.rawValue == "invalid_module")
        #expect(refusal([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0x0a, 0xff])?.code.rawValue == "invalid_module")
    }

    @Test func refusesAFunctionBodyThatDoesNotValidate() throws {
        // Well-formed but ill-typed: i32.add with one operand. Only full validation catches it.
        let bytes = try wat2wasm(
            #"""
            (module (memory (export "memory") 1)
              (func (export "xc_alloc") (param i32) (result i32) i32.const 0)
              (func (export "xc_call") (param i32 i32 i32 i32) (result i32) i32.const 0)
              (func (result i32) i32.const 1 i32.add))
            """#, options: .init(nameSection: false))
        #expect(refusal(bytes)?.code.rawValue == "invalid_module")
    }
}
