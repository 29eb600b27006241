/** `ovnetd agent`: run the daemon in the foreground (systemd runs it as a service). */
import type { CommandModule } from 'yargs';
import { buildConfig, readConfigFile, CONFIG_DEFAULTS } from '../../daemon/config.js';
import { runAgent } from '../../daemon/agent.js';

interface AgentArgs {
  config?: string;
  advertise?: string;
  'advertise-interface'?: string;
  listen?: string;
  port?: number;
  peer?: string[];
  store?: string;
  'store-token'?: string;
  'state-dir'?: string;
  'control-socket'?: string;
  'log-level'?: string;
  'fdb-capacity'?: number;
  'fdb-age'?: number;
  'source-ports'?: number;
  'registration-ttl'?: number;
  metrics?: string;
  'endpoint-grace'?: number;
  offload?: boolean;
}

export const agentCommand: CommandModule<object, AgentArgs> = {
  command: 'agent',
  describe: 'Run the overlay agent on this host',
  builder: (y) => y
    .option('config', { type: 'string', describe: 'JSON configuration file (flags override it)' })
    .option('advertise', { type: 'string', describe: 'Underlay IP address peers reach this host at' })
    .option('advertise-interface', { type: 'string', describe: 'Take the advertise address from this interface' })
    .option('listen', { type: 'string', describe: 'Local address the VXLAN socket binds to (default: advertise)' })
    .option('port', { type: 'number', describe: `VXLAN UDP port (default ${CONFIG_DEFAULTS.port})` })
    .option('peer', { type: 'string', array: true, describe: 'Static peer ADDRESS[:PORT] (repeatable)' })
    .option('store', { type: 'string', describe: 'Key-value store URL: consul://HOST:PORT, consuls://, etcd://HOST:PORT' })
    .option('store-token', { type: 'string', describe: 'Store ACL token (default: $CONSUL_HTTP_TOKEN)' })
    .option('state-dir', { type: 'string', describe: `State directory (default ${CONFIG_DEFAULTS.stateDir})` })
    .option('control-socket', { type: 'string', describe: `Control socket path (default ${CONFIG_DEFAULTS.controlSocket})` })
    .option('log-level', { type: 'string', describe: 'trace|debug|info|warn|error|fatal|silent' })
    .option('fdb-capacity', { type: 'number', describe: `Forwarding-table entries (default ${CONFIG_DEFAULTS.fdbCapacity})` })
    .option('fdb-age', { type: 'number', describe: `Seconds before a learned entry ages out (default ${CONFIG_DEFAULTS.fdbAgeSeconds})` })
    .option('source-ports', { type: 'number', describe: `Sockets used for flow-hashed UDP source ports (default ${CONFIG_DEFAULTS.sourcePorts})` })
    .option('registration-ttl', { type: 'number', describe: `Seconds before a dead host disappears (default ${CONFIG_DEFAULTS.registrationTtlSeconds})` })
    .option('endpoint-grace', { type: 'number', describe: `Seconds after a host's registration expired before its endpoints are reclaimed (default ${CONFIG_DEFAULTS.endpointGraceSeconds})` })
    .option('metrics', { type: 'string', describe: `Prometheus listen ADDR:PORT or "off" (default ${CONFIG_DEFAULTS.metrics})` })
    .option('offload', { type: 'boolean', describe: 'TCP segmentation and UDP GSO/GRO offloads; --no-offload sends one frame per datagram (default on)' }),
  handler: async (a) => {
    const file = a.config ? readConfigFile(a.config) : {};
    const cfg = buildConfig(file, {
      advertise: a.advertise,
      advertiseInterface: a['advertise-interface'],
      listen: a.listen,
      port: a.port,
      peers: a.peer,
      store: a.store,
      storeToken: a['store-token'] ?? (a.store ? process.env.CONSUL_HTTP_TOKEN : undefined),
      stateDir: a['state-dir'],
      controlSocket: a['control-socket'],
      logLevel: a['log-level'],
      fdbCapacity: a['fdb-capacity'],
      fdbAgeSeconds: a['fdb-age'],
      sourcePorts: a['source-ports'],
      registrationTtlSeconds: a['registration-ttl'],
      metrics: a.metrics,
      endpointGraceSeconds: a['endpoint-grace'],
      offload: a.offload,
    });
    await runAgent(cfg);
  },
};
