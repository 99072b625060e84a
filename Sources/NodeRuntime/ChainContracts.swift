import CrabTraceContract
import EPCISContract
import EvidenceContract
import Execution
import GovernanceContract
import Node

/// The contracts a chain runs. Consensus-critical: every node of a chain, observers included,
/// must run the same set with the same chain-wide settings, or their executions diverge.
public enum ChainContracts {
    /// Every contract of the chain described by `genesis`, as `config` configures the node.
    public static func all(config: NodeConfig, genesis: Genesis) -> [any Contract] {
        [
            GovernanceContract(initial: genesis.initialConfig),
            EvidenceContract(), HostingContract(), CrabTraceContract(config: CrabTraceConfig(resolver: config.resolver)),
            EPCISContract(config: EPCISConfig(crabGTINs: genesis.crabProducts ?? [])), WasmContract(),
        ]
    }
}
