/** Shared set-up for the namespace tests: a lab topology with agents, torn down on exit. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology, type LabEndpoint } from '../../src/lab/topology.js';
import { startAgent, type AgentProcess } from '../../src/lab/agent-process.js';
import { uniq } from './netns.js';

const live = new Set<Topology>();
process.once('exit', () => { for (const t of live) t.destroy(); });

export interface Lab {
  topo: Topology;
  dir: string;
  agents: AgentProcess[];
  destroy(): Promise<void>;
}

export function makeLab(hosts: number, family: 4 | 6 = 4): Lab {
  const topo = new Topology(`ot${uniq()}`, { hosts, family }).create();
  live.add(topo);
  const dir = mkdtempSync(join(tmpdir(), 'ovnetd-test-'));
  const lab: Lab = {
    topo, dir, agents: [],
    async destroy() {
      await Promise.all(lab.agents.map((a) => a.stop(3000).catch(() => undefined)));
      topo.destroy();
      live.delete(topo);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return lab;
}

/** Starts a static-peer agent on every host of the lab, each peering with all the others. */
export async function startStaticAgents(lab: Lab, networks: { name: string; vni: number; subnet?: string }[], extra: Record<string, unknown> = {}, args: string[] = []): Promise<AgentProcess[]> {
  const hosts = lab.topo.hosts;
  lab.agents = await Promise.all(hosts.map((h) => startAgent(lab.topo, h.index, {
    dir: join(lab.dir, `h${h.index}`),
    config: { advertise: h.underlayIp, networks, peers: hosts.filter((o) => o !== h).map((o) => o.underlayIp), logLevel: 'warn', ...extra },
    args,
  })));
  return lab.agents;
}

export function ping(lab: Lab, from: LabEndpoint, to: string, count = 3): string {
  return lab.topo.exec(from.ns, ['ping', '-c', String(count), '-i', '0.2', '-W', '2', to], 30_000);
}

export function counter(c: Record<string, number>, name: string): number {
  if (!(name in c)) throw new Error(`no counter ${name}; have: ${Object.keys(c).join(', ')}`);
  return c[name];
}
