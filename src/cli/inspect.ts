// `inspect` (images and containers) and `image inspect`: Docker's JSON (4-space indent, an
// array) or a Go template per object. Without --type, a container is looked up first, as
// Docker does.
import type { Argv } from 'yargs';
import { StrataError } from '../errors.js';
import { Images } from '../engine/index.js';
import { openStore, type Store } from '../store/index.js';
import type { RegisterCommands } from './command.js';
import { goTyped, parseTemplate } from './format/template.js';

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

/** container.Config's fields that are not plain strings or bools: slices, maps, pointers. */
const CONFIG_TYPED: Record<string, 'nil-slice' | 'nil-map' | 'nil-pointer'> = {
  Env: 'nil-slice', Cmd: 'nil-slice', Entrypoint: 'nil-slice', OnBuild: 'nil-slice', Shell: 'nil-slice',
  Volumes: 'nil-map', Labels: 'nil-map', ExposedPorts: 'nil-map', Healthcheck: 'nil-pointer', StopTimeout: 'nil-pointer',
};
/** Its `omitempty` fields with their zero values: in the template, never in its JSON. */
const CONFIG_OMITTED: Record<string, unknown> = { ArgsEscaped: false, NetworkDisabled: false, MacAddress: '', StopSignal: '' };
const OMITEMPTY = new Set(['ExposedPorts', 'Shell', 'Healthcheck', 'StopTimeout']);

/**
 * What a template sees of an inspected object: Docker's Go structs, where a field left out of
 * the JSON (omitempty) still exists ({{.Config.StopSignal}} is "", not an error), a nil slice
 * or map prints "[]" / "map[]" ({{.Config.Entrypoint}}), not "<no value>", and the struct{}
 * values of ExposedPorts and Volumes print "{}".
 */
function templateView(obj: Record<string, unknown>): Record<string, unknown> {
  const config = obj.Config;
  const view = config && typeof config === 'object' && !Array.isArray(config) ? { ...obj, Config: configView(config as Record<string, unknown>) } : obj;
  // Last: its fields that are not in the JSON are not enumerable (a spread would drop them).
  return 'State' in obj ? containerView(view) : view;
}

/** A container's fields that Go keeps as nil pointers or slices when unset (omitempty or null in the JSON). */
const CONTAINER_TYPED: Record<string, 'nil-slice' | 'nil-pointer'> = { Node: 'nil-pointer', SizeRw: 'nil-pointer', SizeRootFs: 'nil-pointer', ExecIDs: 'nil-slice' };

/**
 * A container as a template sees it: {{.State.Health}} of a container without a health check
 * is "<nil>" (Docker's *Health, left out of the JSON), as are {{.SizeRw}} without --size and
 * {{.Node}}; {{.ExecIDs}} with none is "[]".
 */
function containerView(obj: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = { ...obj };
  for (const [key, kind] of Object.entries(CONTAINER_TYPED)) {
    if (view[key] === null) view[key] = goTyped(kind);
    else if (!(key in view)) Object.defineProperty(view, key, { value: goTyped(kind), enumerable: false });
  }
  const state = obj.State;
  if (state && typeof state === 'object' && !Array.isArray(state) && !('Health' in state)) {
    view.State = Object.defineProperty({ ...(state as Record<string, unknown>) }, 'Health', { value: goTyped('nil-pointer'), enumerable: false });
  }
  return view;
}

/** The container's or image's Config as a template sees it (templateView). */
function configView(config: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = { ...config };
  for (const [key, kind] of Object.entries(CONFIG_TYPED)) {
    if (view[key] === null || (view[key] === undefined && !OMITEMPTY.has(key))) view[key] = goTyped(kind);
    else if (!(key in view)) Object.defineProperty(view, key, { value: goTyped(kind), enumerable: false });
  }
  for (const [key, zero] of Object.entries(CONFIG_OMITTED)) {
    if (!(key in view)) Object.defineProperty(view, key, { value: zero, enumerable: false });
  }
  for (const key of ['ExposedPorts', 'Volumes']) {
    const set = view[key];
    if (set && typeof set === 'object' && !Object.isFrozen(set)) view[key] = Object.fromEntries(Object.keys(set).map((k) => [k, goTyped('empty-struct')]));
  }
  return view;
}

export const register: RegisterCommands = (cli) =>
  cli.command('inspect <names..>', 'Return low-level information on images and containers', (y: Argv) => y
    .positional('names', { type: 'string', array: true, demandOption: true })
    .option('format', { alias: 'f', type: 'string', describe: 'Format output using a Go template' })
    .option('type', { type: 'string', choices: ['image', 'container'], describe: 'Only inspect objects of this type' })
    .option('size', { alias: 's', type: 'boolean', describe: 'Display total file sizes if the type is container' }),
  (a) => inspectImages({ names: a.names as string[], format: a.format, type: a.type as InspectType, size: a.size }));
