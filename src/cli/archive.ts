// import, save, load: images in and out of tar archives, streamed (never a whole layer in
// memory). Layers stay uncompressed unless `save --compress` asks for gzip.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Argv, CommandModule } from 'yargs';
import { noSpaceError, StrataError } from '../errors.js';
import { applyChanges, Images } from '../engine/index.js';
import { closeHashPool } from '../hash/index.js';
import { familiarName, normalizeTag, type ArchiveFormat, type Store } from '../store/index.js';
import type { RegisterCommands } from './command.js';
import { imageCommand } from './image-command.js';

/** Opens first, so a missing file is an error here, not an unhandled stream event later. */
async function openInput(file: string): Promise<Readable> {
  try {
    return (await fs.open(file, 'r')).createReadStream();
  } catch (err) {
    throw new StrataError(`open "${file}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`, 1);
  }
}

/** yargs turns a lone "-" positional into "" */
const dash = (v: string | undefined) => (v === '' || v === undefined ? '-' : v);

// The archive code, piscina, tar and zlib load only when one of these commands runs: this
// module is also imported by `images` (for the `image save|load|import` subcommands).
async function withPool(fn: (store: Store) => Promise<void>): Promise<void> {
  try {
    await imageCommand(fn);
  } finally {
    await closeHashPool();
  }
}

// ---- save ---------------------------------------------------------------------------------

async function save(a: { images: string[]; output?: string; format?: string; compress?: boolean }): Promise<void> {
  await withPool(async (store) => {
    const toStdout = !a.output || a.output === '-';
    if (toStdout && process.stdout.isTTY) throw new StrataError('cowardly refusing to save to a terminal: use the -o flag or redirect', 1);
    await new Images({ store }).save(a.images, toStdout ? process.stdout : { file: a.output! }, { format: (a.format ?? 'docker-archive') as ArchiveFormat, compress: a.compress });
  });
}

// ---- load ---------------------------------------------------------------------------------

async function load(a: { input?: string; quiet?: boolean }): Promise<void> {
  await withPool(async (store) => {
    const fromStdin = !a.input || a.input === '-';
    if (fromStdin && process.stdin.isTTY) throw new StrataError('requested load from stdin, but stdin is empty', 1);
    const source = fromStdin ? process.stdin : await openInput(a.input!);
    const result = await new Images({ store }).load(source).catch((err: unknown) => {
      // Name what was being loaded: "invalid tar header checksum" alone does not say it.
      const what = fromStdin ? 'stdin' : `"${a.input}"`;
      const why = noSpaceError('the image', err) ?? err;
      throw new StrataError(`loading ${what}: ${(why as Error).message}`, why instanceof StrataError ? why.exitCode : 1, { cause: err });
    });
    for (const w of result.warnings) process.stderr.write(`WARNING: ${w}\n`);
    for (const img of a.quiet ? [] : result.images) {
      if (img.names.length === 0) process.stdout.write(`Loaded image ID: ${img.id}\n`);
      for (const n of img.names) process.stdout.write(`Loaded image: ${familiarName(n)}\n`);
    }
  });
}

// ---- import -------------------------------------------------------------------------------

async function importTarball(a: { file: string; reference?: string; change?: string | string[]; message?: string; platform?: string }): Promise<void> {
  await withPool(async (store) => {
    const file = dash(a.file);
    if (/^https?:\/\//.test(file)) throw new StrataError(`importing from a URL is not supported: "${a.file}"`, 1);
    const changes = ([] as string[]).concat(a.change ?? []);
    // Checked before the (possibly large) tarball is read.
    if (a.reference) normalizeTag(a.reference);
    await applyChanges({}, changes);
    const source = file === '-' ? process.stdin : await openInput(file);
    const img = await new Images({ store }).importTarball(source, {
      reference: a.reference, changes, message: a.message, platform: a.platform, sourceName: file === '-' ? '-' : path.basename(file),
    });
    process.stdout.write(`${img.id}\n`);
  });
}

/** save, load and import as yargs command modules (also mounted under `image`). */
export function archiveCommands(): CommandModule[] {
  return [
    { command: 'save <images..>', describe: 'Save one or more images to a tar archive (streamed to STDOUT by default)', builder: (y: Argv) => y
      .positional('images', { type: 'string', array: true, demandOption: true })
      .option('output', { alias: 'o', type: 'string', describe: 'Write to a file, instead of STDOUT' })
      .option('format', { type: 'string', choices: ['docker-archive', 'oci-archive'], default: 'docker-archive', describe: 'Archive format' })
      .option('compress', { type: 'boolean', describe: 'gzip the archive' }),
      handler: (a) => save(a as never) },
    { command: 'load', describe: 'Load an image from a tar archive or STDIN', builder: (y: Argv) => y
      .option('input', { alias: 'i', type: 'string', describe: 'Read from tar archive file, instead of STDIN' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Suppress the load output' }),
      handler: (a) => load(a as never) },
    { command: 'import <file> [reference]', describe: 'Import the contents from a tarball to create a filesystem image', builder: (y: Argv) => y
      .positional('file', { type: 'string', demandOption: true, describe: 'TARBALL or - for STDIN' })
      .positional('reference', { type: 'string', describe: 'REPOSITORY[:TAG]' })
      .option('change', { alias: 'c', type: 'string', describe: 'Apply Dockerfile instruction to the created image' })
      .option('message', { alias: 'm', type: 'string', describe: 'Set commit message for imported image' })
      .option('platform', { type: 'string', describe: 'Set platform (os/arch)' }),
      handler: (a) => importTarball(a as never) },
  ];
}

export const register: RegisterCommands = (cli) => archiveCommands().reduce((y, c) => y.command(c), cli);
