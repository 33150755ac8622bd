// `export` and `cp`: a container's files out as a tar, and copies between a container and the
// host (runtime/cp.ts, cp-out.ts), with the container's root reached by withContainerRoot.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describedFailure, StrataError } from '../errors.js';
import { copyFromContainer, copyTarToContainer, copyToContainer, withContainerRoot } from '../runtime/index.js';
import { openContext } from './containers-run.js';

type Args = Record<string, unknown>;

export async function exportContainer(argv: Args): Promise<void> {
  const ctx = await openContext();
  const record = await ctx.containers.get(argv.container as string);
  const output = argv.output as string | undefined;
  if (!output && process.stdout.isTTY) throw new StrataError('cowardly refusing to save to a terminal: use the -o flag or redirect');
  const [tar, { atomicReplace }] = await Promise.all([import('tar'), import('../store/index.js')]);
  await withContainerRoot(ctx, record, 'read', async (root) => {
    const entries = fs.readdirSync(root).sort();
    const archive = () => tar.create({ cwd: root, portable: false, preservePaths: false }, entries);
    if (!output) return pipeline(archive(), process.stdout);
    // A file appears whole or not at all, as save's.
    await describedFailure(`writing "${output}"`, () => atomicReplace(path.resolve(output), (tmp) => pipeline(archive(), fs.createWriteStream(tmp, { flags: 'wx', mode: 0o644 })), { durable: false }));
  }, { layersOnly: true });
}

/** Splits "CONTAINER:PATH"; a plain host path (no colon before the first slash) gives undefined. */
function splitContainerPath(arg: string): { container: string; path: string } | undefined {
  const colon = arg.indexOf(':');
  if (colon <= 0 || arg.startsWith('/') || arg.startsWith('.')) return undefined;
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || '/' };
}

/** A cp operand: yargs hands a lone "-" (stdin/stdout) over as `true`. */
function cpOperand(value: unknown): string {
  return value === true ? '-' : String(value);
}

export async function cp(argv: Args): Promise<void> {
  argv.src = cpOperand(argv.src);
  argv.dest = cpOperand(argv.dest);
  const src = splitContainerPath(argv.src as string);
  const dst = splitContainerPath(argv.dest as string);
  if (src && dst) throw new StrataError('copying between containers is not supported');
  if (!src && !dst) throw new StrataError('must specify at least one container source');
  const ctx = await openContext();
  const options = { followLink: Boolean(argv['follow-link']), keepOwners: Boolean(argv.archive) };
  let result;
  if (src) {
    const record = await ctx.containers.get(src.container);
    const container = record.Name.replace(/^\//, '');
    result = await withContainerRoot(ctx, record, 'read', (root) => copyFromContainer(root, src.path, argv.dest as string, { ...options, container }));
  } else {
    const record = await ctx.containers.get(dst!.container);
    const container = record.Name.replace(/^\//, '');
    result = argv.src === '-'
      ? await withContainerRoot(ctx, record, 'write', (root) => copyTarToContainer(root, process.stdin, dst!.path, { container }))
      : await withContainerRoot(ctx, record, 'write', (root) => copyToContainer(root, argv.src as string, dst!.path, { ...options, container }));
  }
  for (const w of result.warnings) process.stderr.write(`WARNING: ${w}\n`);
}
