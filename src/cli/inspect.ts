// `inspect` (images and containers) and `image inspect`: Docker's JSON (4-space indent, an
// array) or a Go template per object. Without --type, a container is looked up first, as
// Docker does.
import type { Argv } from 'yargs';
import { StrataError } from '../errors.js';
import { Images } from '../engine/index.js';
import { openStore, type Store } from '../store/index.js';
import type { RegisterCommands } from './command.js';
import { parseTemplate } from './format/template.js';
import { templateView } from './inspect-view.js';

export type InspectType = 'image' | 'container' | undefined;

async function findImage(store: Store, name: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await new Images({ store }).inspect(name);
  } catch (err) {
    if (err instanceof StrataError && err.message.startsWith('no such image')) return undefined;
    throw err;
  }
}

async function findContainer(name: string, size: boolean): Promise<Record<string, unknown> | undefined> {
  // The runtime's view: Docker's shape with the state reconciled against runc.
  const { Containers } = await import('../engine/index.js');
  const service = new Containers();
  try {
    const obj = await service.inspect(name);
    if (!size) return obj as Record<string, unknown>;
    // --size: Docker's SizeRw (the writable layer) and SizeRootFs (that plus the image).
    const record = await service.get(name);
    const s = (await service.sizes([record])).get(record.Id);
    return { ...(obj as Record<string, unknown>), SizeRw: s?.rw ?? 0, SizeRootFs: s?.virtual ?? 0 };
  } catch (err) {
    if (err instanceof StrataError && /^no such container/.test(err.message)) return undefined;
    throw err;
  }
}

export async function inspectImages(opts: { names: string[]; format?: string; type?: InspectType; size?: boolean }): Promise<void> {
  const store = await openStore();
  const found: Record<string, unknown>[] = [];
  const missing: string[] = [];
  for (const name of opts.names) {
    let obj: Record<string, unknown> | undefined;
    if (opts.type !== 'image') obj = await findContainer(name, !!opts.size);
    if (!obj && opts.type !== 'container') obj = await findImage(store, name);
    if (obj) found.push(obj);
    else missing.push(name);
  }
  if (opts.format) {
    const t = parseTemplate(opts.format);
    process.stdout.write(found.map((o) => `${t.render(templateView(o))}\n`).join(''));
  } else {
    process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
  }
  if (missing.length) {
    const what = opts.type === 'image' ? 'image' : opts.type === 'container' ? 'container' : 'object';
    throw new StrataError(missing.map((m) => `no such ${what}: "${m}"`).join('\n'), 1);
  }
}

export const register: RegisterCommands = (cli) =>
  cli.command('inspect <names..>', 'Return low-level information on images and containers', (y: Argv) => y
    .positional('names', { type: 'string', array: true, demandOption: true })
    .option('format', { alias: 'f', type: 'string', describe: 'Format output using a Go template' })
    .option('type', { type: 'string', choices: ['image', 'container'], describe: 'Only inspect objects of this type' })
    .option('size', { alias: 's', type: 'boolean', describe: 'Display total file sizes if the type is container' }),
  (a) => inspectImages({ names: a.names as string[], format: a.format, type: a.type as InspectType, size: a.size }));
