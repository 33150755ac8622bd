// Image commands: images / image ls, tag / image tag, rmi / image rm, history / image history,
// image inspect, image prune — Docker's columns, flags and exit codes (1 for an image error).
import type { Argv } from 'yargs';
import { Images } from '../engine/index.js';
import { formatChanges } from '../runtime/index.js';
import { isNotFound, StrataError } from '../errors.js';
import type { Store } from '../store/index.js';
import { imageCommand } from './image-command.js';
import type { RegisterCommands } from './command.js';
import { confirm } from './confirm.js';
import { formatRows, resolveFormat } from './format/template.js';
import { humanSize, shortId } from './format/human.js';
import { HISTORY_HEADINGS, IMAGE_HEADINGS, historyRows, imageRows } from './image-views.js';
import { pruneImages, removeImageRef } from './image-remove.js';
import { inspectImages } from './inspect.js';
import { archiveCommands } from './archive.js';
import { transferCommands } from './registry.js';

const out = (s: string) => process.stdout.write(s);

interface ImagesArgs { repository?: string; quiet?: boolean; all?: boolean; digests?: boolean; 'no-trunc'?: boolean; format?: string; filter?: string | string[] }

async function listImages(store: Store, a: ImagesArgs): Promise<void> {
  // Docker's CLI: the REPOSITORY[:TAG] argument is one more reference filter.
  const filters = [...([] as string[]).concat(a.filter ?? []), ...(a.repository ? [`reference=${a.repository}`] : [])];
  const images = await new Images({ store }).list({ all: a.all, filters });
  const rows = imageRows(images, { noTrunc: a['no-trunc'], digests: a.digests || /\.Digest\b/.test(a.format ?? '') });
  if (a.quiet) {
    out([...new Set(rows.map((r) => r.ID))].map((id) => `${id}\n`).join(''));
    return;
  }
  const format = resolveFormat(a.format, a.digests
    ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
    : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}');
  out(formatRows(format, rows, IMAGE_HEADINGS));
}


const imagesFlags = (y: Argv) => y
  .positional('repository', { type: 'string', describe: 'REPOSITORY[:TAG]' })
  .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only show image IDs' })
  .option('all', { alias: 'a', type: 'boolean', describe: 'Show all images (default hides intermediate images)' })
  .option('digests', { type: 'boolean', describe: 'Show digests' })
  .option('no-trunc', { type: 'boolean', describe: "Don't truncate output" })
  .option('format', { type: 'string', describe: 'Format output using a Go template' })
  .option('filter', { alias: 'f', type: 'string', describe: 'Filter output (dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE, since=IMAGE)' });

const tagCmd = (y: Argv) => y
  .positional('source', { type: 'string', demandOption: true, describe: 'SOURCE_IMAGE[:TAG]' })
  .positional('target', { type: 'string', demandOption: true, describe: 'TARGET_IMAGE[:TAG]' });

async function tag(a: { source?: string; target?: string }): Promise<void> {
  await imageCommand((store) => new Images({ store }).tag(a.source!, a.target!));
}

const rmiFlags = (y: Argv) => y
  .positional('images', { type: 'string', array: true, demandOption: true })
  .option('force', { alias: 'f', type: 'boolean', describe: 'Force removal of the image' })
  .option('no-prune', { type: 'boolean', describe: 'Do not delete untagged parents' });

async function rmi(a: { images?: string[]; force?: boolean; 'no-prune'?: boolean }): Promise<void> {
  await imageCommand(async (store) => {
    let failed: StrataError | undefined;
    // Docker's CLI: with -f, images that do not exist are said on stderr, not an error (unless another failed).
    let fatal = false;
    for (const ref of a.images ?? []) {
      try {
        out((await removeImageRef(store, ref, !!a.force, undefined, !!a['no-prune'])).map((l) => `${l}\n`).join(''));
      } catch (err) {
        if (!(err instanceof StrataError)) throw err;
        // Docker goes on with the other images and reports each failure.
        if (failed) process.stderr.write(`Error: ${failed.message}\n`);
        failed = err;
        if (!a.force || !isNotFound(err)) fatal = true;
      }
    }
    if (failed && !fatal) process.stderr.write(`Error: ${failed.message}\n`);
    else if (failed) throw failed;
  });
}

const historyFlags = (y: Argv) => y
  .positional('image', { type: 'string', demandOption: true })
  .option('human', { alias: 'H', type: 'boolean', default: true, describe: 'Print sizes and dates in human readable format' })
  .option('no-trunc', { type: 'boolean', describe: "Don't truncate output" })
  .option('quiet', { alias: 'q', type: 'boolean', describe: 'Only show image IDs' })
  .option('format', { type: 'string', describe: 'Format output using a Go template' });

async function history(a: { image?: string; human?: boolean; 'no-trunc'?: boolean; quiet?: boolean; format?: string }): Promise<void> {
  await imageCommand(async (store) => {
    const rows = historyRows(await new Images({ store }).history(a.image!), { noTrunc: a['no-trunc'], human: a.human });
    if (a.quiet) return void out(rows.map((r) => `${r.ID}\n`).join(''));
    const created = a.human === false ? 'CreatedAt' : 'CreatedSince';
    const format = resolveFormat(a.format, `table {{.ID}}\t{{.${created}}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}`);
    out(formatRows(format, rows, HISTORY_HEADINGS));
  });
}

const pruneFlags = (y: Argv) => y
  .option('all', { alias: 'a', type: 'boolean', describe: 'Remove all unused images, not just dangling ones' })
  .option('filter', { type: 'string', array: true, describe: 'Provide filter values (e.g. "until=24h", "label=KEY=VALUE")' })
  .option('force', { alias: 'f', type: 'boolean', describe: 'Do not prompt for confirmation' });

async function prune(a: { all?: boolean; force?: boolean; filter?: string[] }): Promise<void> {
  await imageCommand(async (store) => {
    const what = a.all ? 'all images without at least one container associated to them' : 'all dangling images';
    if (!a.force && !(await confirm(`WARNING! This will remove ${what}.\nAre you sure you want to continue?`))) return;
    const r = await pruneImages(store, !!a.all, (a.filter ?? []).map(String));
    if (r.lines.length) out(`Deleted Images:\n${r.lines.join('\n')}\n\n`);
    out(`Total reclaimed space: ${humanSize(r.reclaimed)}\n`);
  });
}

/** `image tree IMAGE` (podman's): the layers, bottom first, and which images each is the top of; or the images built on it. */
async function tree(a: { image?: string; whatrequires?: boolean }): Promise<void> {
  await imageCommand(async (store) => {
    const t = await new Images({ store }).tree(a.image!);
    const list = (xs: string[]) => `[${xs.join(' ')}]`;
    const lines = [`Image ID: ${shortId(t.image.id)}`, `Tags:     ${list([...t.image.names].sort())}`, `Size:     ${humanSize(t.image.size)}`];
    const rows = a.whatrequires
      ? t.children.map((c) => `ID: ${shortId(c.id)} Tags: ${list([...c.names].sort())}`)
      : t.layers.map((l) => `ID: ${l.diffId.slice(7, 19)} Size: ${humanSize(l.size)}${l.topOf.length ? ` Top Layer of: ${list(l.topOf.map((n) => (n.startsWith('sha256:') ? shortId(n) : n)))}` : ''}`);
    lines.push(a.whatrequires ? 'Images built on it' : 'Image Layers');
    rows.forEach((r, i) => lines.push(`${i === rows.length - 1 ? '└──' : '├──'} ${r}`));
    out(`${lines.join('\n')}\n`);
  });
}

/** `image diff IMAGE [IMAGE]` (podman's): A/C/D lines from the first image to the second, or what the image's top layer changes. */
async function diff(a: { image?: string; other?: string }): Promise<void> {
  await imageCommand(async (store) => {
    const changes = await new Images({ store }).diff(a.other === undefined ? undefined : a.image!, a.other ?? a.image!);
    out(formatChanges(changes));
  });
}

const diffFlags = (y: Argv) => y
  .positional('image', { type: 'string', demandOption: true })
  .positional('other', { type: 'string', describe: 'compare with this image instead of the parent layers' });

const treeFlags = (y: Argv) => y
  .positional('image', { type: 'string', demandOption: true })
  .option('whatrequires', { type: 'boolean', describe: 'Show the images built on this one' });

const inspectFlags = (y: Argv) => y
  .positional('images', { type: 'string', array: true, demandOption: true })
  .option('format', { alias: 'f', type: 'string', describe: 'Format output using a Go template' });

export const register: RegisterCommands = (cli) =>
  cli
    .command(['images [repository]'], 'List images', imagesFlags, (a) => imageCommand((s) => listImages(s, a as ImagesArgs)))
    .command('tag <source> <target>', 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', tagCmd, tag)
    .command('rmi <images..>', 'Remove one or more images', rmiFlags, rmi)
    .command('history <image>', 'Show the history of an image', historyFlags, history)
    .command('image', 'Manage images', (y) => y
      .command(['ls [repository]', 'list [repository]'], 'List images', imagesFlags, (a) => imageCommand((s) => listImages(s, a as ImagesArgs)))
      .command('tag <source> <target>', 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', tagCmd, tag)
      .command(['rm <images..>', 'remove <images..>'], 'Remove one or more images', rmiFlags, rmi)
      .command('history <image>', 'Show the history of an image', historyFlags, history)
      .command('inspect <images..>', 'Display detailed information on one or more images', inspectFlags,
        (a) => inspectImages({ names: a.images as string[], format: a.format, type: 'image' }))
      .command('prune', 'Remove unused images', pruneFlags, prune)
      .command('diff <image> [other]', "Show the changes between two images' filesystems (or of the image's top layer)", diffFlags, (a) => diff(a as { image?: string; other?: string }))
      .command('tree <image>', 'Show the layers of an image, or the images built on it', treeFlags, (a) => tree(a as { image?: string; whatrequires?: boolean }))
      .command(archiveCommands())
      .command(transferCommands())
      .demandCommand(1, 'a subcommand is required'));
