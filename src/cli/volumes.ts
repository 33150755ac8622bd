// `volume create|ls|inspect|rm|prune`, with Docker's output, over the Volumes service (src/engine/volumes.ts).
import type { Argv } from 'yargs';
import { StrataError } from '../errors.js';
import { filterVolumes, volumePruneFilter, Volumes } from '../engine/index.js';
import { humanSize } from '../runtime/index.js';
import type { RegisterCommands } from './command.js';
import { confirm } from './confirm.js';
import { parseTemplate } from './format/template.js';
import { volumeView } from './inspect-view.js';
import { renderVolumes } from './list-views.js';

function parseLabels(labels: string[] = []): Record<string, string> {
  return Object.fromEntries(labels.map((l) => (l.includes('=') ? [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] : [l, ''])));
}

function volumeCommands(y: Argv): Argv {
  return y
    .command('create [name]', 'Create a volume', (a) => a
      .positional('name', { type: 'string' })
      .option('driver', { alias: 'd', type: 'string', default: 'local', describe: 'Specify volume driver name' })
      .option('label', { type: 'string', describe: 'Set metadata for a volume' })
      .option('opt', { alias: 'o', type: 'string', describe: 'Set driver specific options' }),
    (a) => {
      if (a.driver !== 'local') throw new StrataError(`volume driver "${a.driver}" is not supported: only "local"`);
      const list = (v: unknown) => ([] as unknown[]).concat(v ?? []).map(String);
      // Docker's MapOpts: KEY=VALUE, a bare KEY is KEY="" (a later KEY wins).
      const options = parseLabels(list(a.opt));
      const v = new Volumes().create({ name: a.name, labels: parseLabels(list(a.label)), options, anonymous: false });
      process.stdout.write(`${v.Name}\n`);
    })
    .command(['ls', 'list'], 'List volumes', (a) => a
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only display volume names' })
      .option('filter', { alias: 'f', type: 'string', array: true, describe: 'Provide filter values (e.g. "dangling=true")' })
      .option('format', { type: 'string', describe: 'Format output using a Go template' }),
    async (a) => {
      const volumes = new Volumes();
      const filters = (a.filter ?? []).map(String);
      const users = filters.some((f) => f.startsWith('dangling')) ? await volumes.users() : new Map<string, string[]>();
      const vols = filterVolumes(volumes.list(), filters, users);
      if (a.quiet) {
        if (vols.length) process.stdout.write(`${vols.map((v) => v.Name).join('\n')}\n`);
        return;
      }
      process.stdout.write(renderVolumes(vols, a.format));
    })
    .command('inspect <names..>', 'Display detailed information on one or more volumes', (a) => a
      .positional('names', { type: 'string', array: true, demandOption: true })
      .option('format', { alias: 'f', type: 'string', describe: 'Format output using a Go template' }),
    async (a) => {
      const volumes = new Volumes();
      const vols = a.names.map((n) => volumes.inspect(String(n)));
      if (!a.format) return void process.stdout.write(`${JSON.stringify(vols, null, 4)}\n`);
      const t = parseTemplate(a.format);
      process.stdout.write(vols.map((v) => `${t.render(volumeView(v))}\n`).join(''));
    })
    .command(['rm <names..>', 'remove <names..>'], 'Remove one or more volumes', (a) => a
      .positional('names', { type: 'string', array: true, demandOption: true })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Do not fail on a missing volume' }),
    async (a) => {
      const volumes = new Volumes();
      let failed = false;
      for (const name of a.names.map(String)) {
        try {
          await volumes.remove(name);
          process.stdout.write(`${name}\n`);
        } catch (err) {
          if (a.force && /no such volume/.test((err as Error).message)) continue;
          failed = true;
          process.stderr.write(`Error: ${(err as Error).message}\n`);
        }
      }
      if (failed) process.exit(1);
    })
    .command('prune', 'Remove unused local volumes', (a) => a
      .option('all', { alias: 'a', type: 'boolean', describe: 'Remove all unused volumes, not just anonymous ones' })
      .option('filter', { type: 'string', array: true, describe: 'Provide filter values (e.g. "label=<label>")' })
      .option('force', { alias: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' }),
    async (a) => {
      const filters = (a.filter ?? []).map(String);
      // Checked before the prompt: a bad filter is an error, not a question.
      const all = volumePruneFilter(filters).all ?? a.all;
      const warning = all
        ? 'WARNING! This will remove all local volumes not used by at least one container.\n'
        : 'WARNING! This will remove anonymous local volumes not used by at least one container.\n';
      if (!a.force && !(await confirm(`${warning}Are you sure you want to continue?`))) return;
      const { deleted, reclaimed } = await new Volumes().prune({ all: !!a.all, filters });
      const head = deleted.length ? `Deleted Volumes:\n${deleted.join('\n')}\n\n` : '';
      process.stdout.write(`${head}Total reclaimed space: ${humanSize(reclaimed)}\n`);
    })
    .demandCommand(1, 'a volume command is required');
}

export const register: RegisterCommands = (cli) => cli.command('volume', 'Manage volumes', volumeCommands);
