/** `ovnetd store serve`: the embedded, Consul-compatible store for a one-machine lab. */
import type { CommandModule, Argv } from 'yargs';
import { EmbeddedStoreServer } from '../../control/store/embedded-server.js';
import { parseIp } from '../../lib/ip.js';
import { OvnError } from '../../lib/errors.js';
import { createLogger } from '../../lib/log.js';

interface ServeArgs { listen: string; data: string; token?: string; 'log-level': string }

function parseListen(s: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !parseIp(m[1]) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new OvnError('OVN_ERR_USAGE', `--listen ${JSON.stringify(s)}: expected ADDRESS:PORT, e.g. 127.0.0.1:8500 or [::1]:8500`);
  }
  return { host: m[1], port };
}

const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Serve the embedded store (Consul HTTP API subset) until SIGTERM',
  builder: (y) => y
    .option('listen', { type: 'string', default: '127.0.0.1:8500', describe: 'ADDRESS:PORT to serve on' })
    .option('data', { type: 'string', default: '/var/lib/ovnetd/store', describe: 'Data directory' })
    .option('token', { type: 'string', describe: 'Require this ACL token' })
    .option('log-level', { type: 'string', default: 'info' }),
  handler: async (a) => {
    const { host, port } = parseListen(a.listen);
    const log = createLogger({ level: a['log-level'], name: 'ovnetd-store' });
    const server = new EmbeddedStoreServer({ dataDir: a.data, host, port, token: a.token });
    await server.start();
    log.info({ url: server.url, data: a.data }, 'store serving');
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', () => resolve());
      process.once('SIGINT', () => resolve());
    });
    await server.stop();
    process.exit(0);
  },
};

export const storeCommand: CommandModule = {
  command: 'store <command>',
  describe: 'The embedded key-value store',
  builder: (y: Argv) => y.command(serveCommand).demandCommand(1),
  handler: () => undefined,
};
