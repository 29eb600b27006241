/** Desired state of an agent with statically configured networks and peers (no store). */
import type { AgentConfig } from './config.js';
import type { DesiredState } from './desired-state.js';

export function staticDesiredState(cfg: AgentConfig): DesiredState {
  const vnis = cfg.networks.map((n) => n.vni);
  return {
    networks: cfg.networks.map((n) => ({ name: n.name, vni: n.vni, subnet: n.subnet, mtu: n.mtu })),
    // Static peers take part in every configured network; their id is the address, which is
    // also what identifies them on the wire.
    peers: cfg.peers.map((p) => ({ id: p.address, address: p.address, port: p.port, vnis })),
    pinned: [],
  };
}
