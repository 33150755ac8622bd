// `network create|ls|inspect|rm|prune|connect|disconnect`, with Docker's output, over the
// Networks service (src/engine/networks.ts).
import type { Argv } from 'yargs';
import { networkPruneFilter, Networks } from '../engine/index.js';
import { isNotFound, StrataError } from '../errors.js';
import { PARSER_CONFIGURATION, type RegisterCommands } from './command.js';
import { confirm } from './confirm.js';
import { renderNetworks } from './list-views.js';

function keyValues(values: unknown, what: string): Record<string, string> {
  const list = ([] as unknown[]).concat(values ?? []).map(String);
  return Object.fromEntries(list.map((l) => {
    const eq = l.indexOf('=');
    if (what === 'opt' && eq < 0) throw new StrataError(`invalid --opt "${l}": expected KEY=VALUE`);
    return eq < 0 ? [l, ''] : [l.slice(0, eq), l.slice(eq + 1)];
  }));
}

/** ACTION for each of REFS, each failure said; exit 1 if any failed (with MISSINGOK, a network that does not exist is passed over in silence). */
async function eachRef(refs: string[], action: (ref: string) => Promise<string | undefined>, options: { missingOk?: boolean } = {}): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      const out = await action(ref);
      if (out !== undefined) process.stdout.write(`${out}\n`);
    } catch (err) {
      if (options.missingOk && isNotFound(err)) continue;
      failed = true;
      process.stderr.write(`Error: ${(err as Error).message}\n`);
    }
  }
  if (failed) process.exit(1);
}

async function ls(a: { quiet?: boolean; 'no-trunc'?: boolean; filter?: string[]; format?: string }): Promise<void> {
  const nets = await new Networks().list((a.filter ?? []).map(String));
  const id = (n: { Id: string }) => (a['no-trunc'] ? n.Id : n.Id.slice(0, 12));
  if (a.quiet) {
    if (nets.length) process.stdout.write(`${nets.map(id).join('\n')}\n`);
    return;
  }
  process.stdout.write(renderNetworks(nets, a.format, !!a['no-trunc']));
}

function networkCommands(y: Argv): Argv {
  return y
    .command('create <name>', 'Create a network', (c) => c
      .parserConfiguration({ ...PARSER_CONFIGURATION, 'greedy-arrays': false })
      .positional('name', { type: 'string', demandOption: true })
      .option('driver', { alias: 'd', type: 'string', default: 'bridge', describe: 'Driver to manage the Network (bridge)' })
      .option('subnet', { type: 'string', describe: 'Subnet in CIDR format that represents a network segment' })
      .option('gateway', { type: 'string', describe: 'IPv4 Gateway for the master subnet' })
      .option('ip-range', { type: 'string', describe: 'Allocate container ip from a sub-range' })
      .option('attachable', { type: 'boolean', describe: 'Enable manual container attachment' })
      .option('internal', { type: 'boolean', describe: 'Restrict external access to the network' })
      .option('label', { type: 'string', array: true, describe: 'Set metadata on a network' })
      .option('opt', { alias: 'o', type: 'string', array: true, describe: 'Set driver specific options' }),
    async (a) => {
      const options = keyValues(a.opt, 'opt');
      const { network: net, unapplied } = await new Networks().create({
        name: a.name, driver: a.driver, subnet: a.subnet, gateway: a.gateway, ipRange: a['ip-range'], attachable: a.attachable, internal: a.internal, labels: keyValues(a.label, 'label'), options,
      });
      // Not refused (compose files carry them), but never silently taken for applied.
      for (const key of unapplied) process.stderr.write(`WARNING: network option "${key}" is not supported by strata: it is recorded but has no effect\n`);
      process.stdout.write(`${net.Id}\n`);
    })
    .command(['ls', 'list'], 'List networks', (c) => c
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only display network IDs' })
      .option('no-trunc', { type: 'boolean', describe: 'Do not truncate the output' })
      .option('filter', { alias: 'f', type: 'string', array: true, describe: 'Provide filter values (e.g. "driver=bridge")' })
      .option('format', { type: 'string', describe: 'Format output using a Go template' }),
    (a) => ls(a))
    .command('inspect <networks..>', 'Display detailed information on one or more networks', (c) => c
      .positional('networks', { type: 'string', array: true, demandOption: true })
      .option('format', { alias: 'f', type: 'string', describe: 'Format output using a Go template' }),
    async (a) => {
      const { found, missing } = await new Networks().inspect(a.networks.map(String));
      // As `inspect`: what was found is shown, then one line per name that was not (exit 1).
      if (!a.format) process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
      else {
        const [{ parseTemplate }, { networkView }] = await Promise.all([import('./format/template.js'), import('./inspect-view.js')]);
        const t = parseTemplate(a.format);
        process.stdout.write(found.map((o) => `${t.render(networkView(o))}\n`).join(''));
      }
      if (missing.length) throw new StrataError(missing.map((m) => `network "${m}" not found`).join('\n'), 1);
    })
    .command(['rm <networks..>', 'remove <networks..>'], 'Remove one or more networks', (c) => c
      .positional('networks', { type: 'string', array: true, demandOption: true })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Do not error if the network does not exist' }),
    (a) => eachRef(a.networks.map(String), async (ref) => (await new Networks().remove(ref), ref), { missingOk: Boolean(a.force) }))
    .command('prune', 'Remove all unused networks', (c) => c
      .option('force', { alias: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' })
      .option('filter', { type: 'string', array: true, describe: 'Provide filter values (e.g. "until=<timestamp>", "label=KEY=VALUE")' }),
    async (a) => {
      // Checked before the question, as Docker's CLI parses them first.
      const filters = (a.filter ?? []).map(String);
      networkPruneFilter(filters);
      if (!a.force && !(await confirm('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?'))) return;
      const removed = await new Networks().prune(filters);
      if (removed.length) process.stdout.write(`Deleted Networks:\n${removed.map((n) => `${n.Name}\n`).join('')}`);
    })
    .command('connect <network> <container>', 'Connect a container to a network', (c) => c
      .parserConfiguration({ ...PARSER_CONFIGURATION, 'greedy-arrays': false })
      .positional('network', { type: 'string', demandOption: true })
      .positional('container', { type: 'string', demandOption: true })
      .option('alias', { type: 'string', array: true, describe: 'Add network-scoped alias for the container' })
      .option('ip', { type: 'string', describe: 'IPv4 address (e.g., 172.30.100.104)' }),
    async (a) => {
      await new Networks().connect(a.container, a.network, { aliases: (a.alias ?? []).map(String), ip: a.ip });
    })
    .command('disconnect <network> <container>', 'Disconnect a container from a network', (c) => c
      .positional('network', { type: 'string', demandOption: true })
      .positional('container', { type: 'string', demandOption: true })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Force the container to disconnect from a network' }),
    async (a) => {
      await new Networks().disconnect(a.container, a.network);
    })
    .demandCommand(1, 'a network command is required');
}

export const register: RegisterCommands = (cli) => cli.command('network', 'Manage networks', networkCommands);
