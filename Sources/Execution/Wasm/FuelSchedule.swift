import ChainCore

/// What a call costs in fuel beyond the WebAssembly operators it executes: part of the chain's
/// rules, like ``WasmLimits``.
///
/// One unit of fuel is about one WebAssembly operator (WasmKit charges a straight-line region's
/// operators up front and bulk memory operations one unit per 64 bytes, memory growth included).
/// Host calls are priced here: a base cost for crossing into the host plus a cost per byte that
/// crosses the boundary in either direction, and more for what lasts (state writes, events).
/// The per-block budget is the embedder's: it sums ``WasmCallOutcome/fuelUsed`` over a block.
public struct FuelSchedule: Sendable, Hashable {
    /// Charged once per call before the contract runs (instantiation, copying the arguments in).
    public var callBase: UInt64 = 20_000
    /// Base cost of every host call.
    public var hostCall: UInt64 = 200
    /// Cost per byte crossing the boundary (keys, values, names, arguments, results).
    public var perByte: UInt64 = 1
    /// Extra cost of reading one key from state.
    public var stateRead: UInt64 = 2_000
    /// Extra cost of writing one key.
    public var stateWrite: UInt64 = 5_000
    /// Extra cost per byte written (key and value): state is kept by every node for good.
    public var stateWritePerByte: UInt64 = 10
    /// Extra cost of deleting one key.
    public var stateDelete: UInt64 = 2_000
    /// Extra cost of a range scan, plus `scanPerEntry` for each entry returned.
    public var stateScan: UInt64 = 2_000
    /// Cost of each entry a scan returns (besides its bytes).
    public var scanPerEntry: UInt64 = 500
    /// Extra cost of emitting an event.
    public var emit: UInt64 = 1_000
    /// Extra cost per event byte (name and data): events are kept in blocks.
    public var emitPerByte: UInt64 = 5
    /// Extra cost of a read-only query of a native contract (each offered query reads a fixed,
    /// small number of keys: `docs/contracts.md`).
    public var nativeQuery: UInt64 = 10_000
    /// Extra cost per byte of a native query's answer (the envelope's canonical JSON), on top of
    /// `perByte`: the host builds and serialises it.
    public var queryAnswerPerByte: UInt64 = 2

    /// The default schedule.
    public init() {}
}
