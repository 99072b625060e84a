import ChainCore
import WasmParser
import WasmTypes

/// What deployment learned about a module by reading its sections, before WasmKit validates it.
struct ModuleFacts {
    /// Host functions the module imports, by name.
    var importedFunctions: [String] = []
    /// Initial size of its memory, in pages.
    var initialMemoryPages: Int = 0
    /// Export names of the module's mutable globals, when every one is exported.
    var mutableGlobalExports: [String] = []
    /// Whether an instance can be reset to its initial state after a call and used again: every
    /// mutable global is exported (so it can be restored) and no instruction changes tables or
    /// drops segments (which a reset could not undo).
    var reusable = true
}

/// Reads a module section by section and applies the chain's deployment rules that WasmKit does not:
/// imports only from the host ABI, the required exports, no start function, bounded memory and
/// tables, and no floating-point types or instructions anywhere.
enum ModuleInspection {
    /// The WebAssembly features a contract may use beyond the 1.0 core: reference types (LLVM
    /// encodes `call_indirect`'s table index the wide way). WasmKit always accepts bulk memory,
    /// sign extension, multi-value and the saturating conversions; SIMD, threads, exceptions,
    /// tail calls, memory64, multi-memory and GC stay off, so such modules fail to parse.
    static let features: WasmFeatureSet = [.referenceTypes]

    static func inspect(_ bytes: [UInt8], limits: WasmLimits) throws(ChainError) -> ModuleFacts {
        guard bytes.count <= limits.maxModuleBytes else {
            throw ChainError(
                .moduleTooLarge, "the module is \(bytes.count) bytes; the limit is \(limits.maxModuleBytes)")
        }
        let sections: Sections
        do {
            sections = try readSections(bytes)
        } catch {
            throw ChainError(.invalidModule, "not a valid WebAssembly module: \(error)")
        }
        if sections.hasStart {
            throw ChainError(.startFunction, "the module has a start function, which would run at instantiation")
        }
        if sections.hasTags { throw ChainError(.invalidModule, "exception tags are not allowed") }
        for table in sections.tables where table.type.limits.min > UInt64(limits.maxTableElements) {
            throw ChainError(
                .tableLimit, "a table starts with \(table.type.limits.min) elements; the limit is \(limits.maxTableElements)")
        }
        for global in sections.globals where isFloat(global.type.valueType) {
            throw ChainError(.floatInstruction, "a global has a floating-point type")
        }
        var facts = ModuleFacts()
        for (index, code) in sections.codes.enumerated() {
            let scanner = try scan(code, functionIndex: sections.imports.count + index)
            if scanner.changesTablesOrSegments { facts.reusable = false }
        }
        let types = sections.types
        let imports = sections.imports
        let functionTypeIndices = sections.functionTypeIndices
        let memories = sections.memories
        let exports = sections.exports
        for (index, global) in sections.globals.enumerated() where global.type.mutability == .variable {
            if let export = exports.first(where: { $0.descriptor == .global(UInt32(index)) }) {
                facts.mutableGlobalExports.append(export.name)
            } else {
                facts.reusable = false
            }
        }

        // Types: no float parameter or result anywhere, and nothing but function types.
        for type in types {
            guard case .function(let f) = type else {
                throw ChainError(.invalidModule, "only function types are allowed")
            }
            if (f.parameters + f.results).contains(where: isFloat) {
                throw ChainError(.floatInstruction, "a function type has a floating-point parameter or result")
            }
        }
        func functionType(_ index: TypeIndex) throws(ChainError) -> FunctionType {
            guard Int(index) < types.count, case .function(let f) = types[Int(index)] else {
                throw ChainError(.invalidModule, "type index \(index) is out of range")
            }
            return f
        }

        // Imports: host functions of module "xc" only, each with its ABI type.
        var importedFunctionTypes: [FunctionType] = []
        for item in imports {
            guard item.module == HostABI.importModule else {
                throw ChainError(
                    .forbiddenImport,
                    "import \(item.module).\(item.name): only module \"\(HostABI.importModule)\" may be imported")
            }
            guard case .function(let typeIndex) = item.descriptor else {
                throw ChainError(.forbiddenImport, "import \(item.module).\(item.name): only functions may be imported")
            }
            guard let expected = HostABI.functions[item.name] else {
                throw ChainError(.forbiddenImport, "import \(item.module).\(item.name): no such host function")
            }
            let actual = try functionType(typeIndex)
            guard actual == expected else {
                throw ChainError(
                    .forbiddenImport, "import \(item.module).\(item.name) has type \(actual); the ABI says \(expected)")
            }
            importedFunctionTypes.append(actual)
            facts.importedFunctions.append(item.name)
        }

        // Memory: exactly one, 32-bit, not shared, starting within the limit.
        guard memories.count == 1, let memory = memories.first else {
            throw ChainError(.invalidModule, "the module must define exactly one memory")
        }
        guard !memory.isMemory64, !memory.shared else {
            throw ChainError(.invalidModule, "the memory must be a 32-bit, unshared memory")
        }
        guard memory.min <= UInt64(limits.maxMemoryPages) else {
            throw ChainError(
                .memoryLimit, "the memory starts at \(memory.min) pages; the limit is \(limits.maxMemoryPages)")
        }
        facts.initialMemoryPages = Int(memory.min)

        // Exports: memory, allocator and entry point, with their types.
        var definedTypes: [FunctionType] = []
        for index in functionTypeIndices { definedTypes.append(try functionType(index)) }
        let allFunctionTypes = importedFunctionTypes + definedTypes
        func exportedFunction(_ name: String, _ type: FunctionType) throws(ChainError) {
            guard let export = exports.first(where: { $0.name == name }) else {
                throw ChainError(.badExport, "the module must export function \"\(name)\"")
            }
            guard case .function(let index) = export.descriptor, Int(index) < allFunctionTypes.count,
                allFunctionTypes[Int(index)] == type
            else {
                throw ChainError(.badExport, "export \"\(name)\" must be a function of type \(type)")
            }
        }
        guard let memoryExport = exports.first(where: { $0.name == HostABI.memoryExport }),
            case .memory = memoryExport.descriptor
        else {
            throw ChainError(.badExport, "the module must export its memory as \"\(HostABI.memoryExport)\"")
        }
        try exportedFunction(HostABI.allocExport, HostABI.allocType)
        try exportedFunction(HostABI.callExport, HostABI.callType)
        return facts
    }

    /// The sections deployment looks at.
    struct Sections {
        var types: [CompositeType] = []
        var imports: [Import] = []
        var functionTypeIndices: [TypeIndex] = []
        var tables: [WasmParser.Table] = []
        var memories: [MemoryType] = []
        var globals: [WasmParser.Global] = []
        var exports: [Export] = []
        var codes: [Code] = []
        var hasStart = false
        var hasTags = false
    }

    static func readSections(_ bytes: [UInt8]) throws(WasmParserError) -> Sections {
        var parser = Parser(bytes: bytes, features: features)
        var sections = Sections()
        while let payload = try parser.parseNext() {
            switch payload {
            case .typeSection(let groups):
                for group in groups {
                    for sub in group.types { sections.types.append(sub.body) }
                }
            case .importSection(let list): sections.imports = list
            case .functionSection(let list): sections.functionTypeIndices = list
            case .tableSection(let list): sections.tables = list
            case .memorySection(let list): sections.memories = list.map(\.type)
            case .globalSection(let list): sections.globals = list
            case .exportSection(let list): sections.exports = list
            case .startSection: sections.hasStart = true
            case .tagSection: sections.hasTags = true
            case .codeSection(let list): sections.codes = list
            case .header, .customSection, .elementSection, .dataSection, .dataCount: break
            }
        }
        return sections
    }

    static func isFloat(_ type: ValueType) -> Bool {
        type == .f32 || type == .f64 || type == .v128
    }

    /// Refuses a function body that declares a floating-point local or uses a floating-point
    /// instruction; returns what the scan found out about the body.
    static func scan(_ code: Code, functionIndex: Int) throws(ChainError) -> InstructionScanner {
        if code.locals.contains(where: isFloat) {
            throw ChainError(.floatInstruction, "function \(functionIndex) has a floating-point local")
        }
        var scanner = InstructionScanner()
        var expression = ExpressionParser(code: code)
        do {
            while let visit = try expression.parse() {
                visit(visitor: &scanner)
            }
        } catch {
            throw ChainError(.invalidModule, "function \(functionIndex) cannot be decoded: \(error)")
        }
        if let found = scanner.found {
            throw ChainError(.floatInstruction, "function \(functionIndex) uses the floating-point instruction \(found)")
        }
        return scanner
    }
}

/// Finds the first floating-point instruction in a function body, and notes instructions that
/// change tables or drop segments.
struct InstructionScanner: AnyInstructionVisitor {
    typealias VisitorError = Never
    var binaryOffset: Int = 0
    /// The first floating-point instruction seen, named as WasmParser names it.
    var found: String?
    /// Whether the body changes a table or drops or re-initialises a segment.
    var changesTablesOrSegments = false

    static let loads: [Instruction.Load] = [.f32Load, .f64Load]
    static let stores: [Instruction.Store] = [.f32Store, .f64Store]
    static let comparisons: [Instruction.Cmp] = [
        .f32Eq, .f32Ne, .f32Lt, .f32Gt, .f32Le, .f32Ge, .f64Eq, .f64Ne, .f64Lt, .f64Gt, .f64Le, .f64Ge,
    ]
    static let unaries: [Instruction.Unary] = [
        .f32Abs, .f32Neg, .f32Ceil, .f32Floor, .f32Trunc, .f32Nearest, .f32Sqrt,
        .f64Abs, .f64Neg, .f64Ceil, .f64Floor, .f64Trunc, .f64Nearest, .f64Sqrt,
    ]
    static let binaries: [Instruction.Binary] = [
        .f32Add, .f32Sub, .f32Mul, .f32Div, .f32Min, .f32Max, .f32Copysign,
        .f64Add, .f64Sub, .f64Mul, .f64Div, .f64Min, .f64Max, .f64Copysign,
    ]
    /// Every conversion except the two between integer widths.
    static let integerConversions: [Instruction.Conversion] = [.i32WrapI64, .i64ExtendI32S, .i64ExtendI32U]

    mutating func visit(_ instruction: Instruction) throws(Never) {
        switch instruction {
        case .tableSet, .tableGrow, .tableFill, .tableCopy, .tableInit, .elemDrop, .dataDrop, .memoryInit:
            changesTablesOrSegments = true
        default: break
        }
        guard found == nil else { return }
        let isFloat: Bool
        switch instruction {
        case .f32Const, .f64Const: isFloat = true
        case .load(let load, _): isFloat = Self.loads.contains(load)
        case .store(let store, _): isFloat = Self.stores.contains(store)
        case .cmp(let cmp): isFloat = Self.comparisons.contains(cmp)
        case .unary(let unary): isFloat = Self.unaries.contains(unary)
        case .binary(let binary): isFloat = Self.binaries.contains(binary)
        case .conversion(let conversion): isFloat = !Self.integerConversions.contains(conversion)
        case .typedSelect(let type): isFloat = ModuleInspection.isFloat(type)
        case .v128Const, .i8x16Shuffle, .simd, .simdLane, .simdMemLane: isFloat = true
        default: isFloat = false
        }
        if isFloat { found = "\(instruction)" }
    }
}
