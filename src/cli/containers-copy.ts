// `export` and `cp`: a container's files out as a tar, and copies between a container and the
// host, through the Containers service (its copyFrom, copyTo, export).
import { StrataError } from '../errors.js';
import { Containers } from '../engine/index.js';

type Args = Record<string, unknown>;

export async function exportContainer(argv: Args): Promise<void> {
  const service = new Containers();
  const output = argv.output as string | undefined;
  await service.get(argv.container as string);
  if (!output && process.stdout.isTTY) throw new StrataError('cowardly refusing to save to a terminal: use the -o flag or redirect');
  await service.export(argv.container as string, output ? { file: output } : { stream: process.stdout });
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
  const service = new Containers();
  const options = { followLink: Boolean(argv['follow-link']), keepOwners: Boolean(argv.archive) };
  const result = src
    ? await service.copyFrom(src.container, src.path, argv.dest as string, options)
    : await service.copyTo(dst!.container, argv.src === '-' ? process.stdin : (argv.src as string), dst!.path, options);
  for (const w of result.warnings) process.stderr.write(`WARNING: ${w}\n`);
}
