/** The `ovnetd` command table. Each command lives in its own file under commands/. */
import yargs from 'yargs';
import { describeError, isOvnError } from '../lib/errors.js';
import { agentCommand } from './commands/agent.js';
import { attachCommand, detachCommand, endpointsCommand } from './commands/endpoints.js';
import { storeCommand } from './commands/store.js';
import { labCommand } from './commands/lab.js';
import { doctorCommand } from './commands/doctor.js';
import { statusCommand, peersCommand, fdbCommand } from './commands/inspect-agent.js';
import { networkCreateCommand, networkLsCommand, networkInspectCommand, networkRmCommand } from './commands/networks.js';

export const EXIT_USAGE = 2;

export async function main(argv: string[]): Promise<void> {
  const parser = yargs(argv)
    .scriptName('ovnetd')
    .usage('$0 <command> [options]\n\nA userspace VXLAN (RFC 7348) overlay network daemon.')
    .command(agentCommand)
    .command(statusCommand)
    .command(peersCommand)
    .command(fdbCommand)
    .command(networkCreateCommand)
    .command(networkLsCommand)
    .command(networkInspectCommand)
    .command(networkRmCommand)
    .command(attachCommand)
    .command(detachCommand)
    .command(endpointsCommand)
    .command(storeCommand)
    .command(labCommand)
    .command(doctorCommand)
    .demandCommand(1, 'Give a command; see ovnetd --help.')
    .strict()
    .recommendCommands()
    .help()
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`ovnetd: OVN_ERR_USAGE: ${msg}\n`);
      process.exit(EXIT_USAGE);
    });
  try {
    await parser.parseAsync();
  } catch (e) {
    process.stderr.write(`ovnetd: ${describeError(e)}\n`);
    if (process.env.OVNETD_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exit(isOvnError(e, 'OVN_ERR_USAGE') ? EXIT_USAGE : 1);
  }
}
