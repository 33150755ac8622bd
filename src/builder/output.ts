// `build --output`: where a built image goes besides the store, as BuildKit's exporters:
// local (its filesystem into a directory), tar (its filesystem as a tar), oci and docker
// (image archives, as `save` writes them) and image (named, and pushed with push=true).
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { StrataError } from '../errors.js';
import type { ProgressSink } from '../registry/index.js';
import { atomicReplace, normalizeTag, put, saveImages, treeEntries, writeEntriesTar, type Image, type Store } from '../store/index.js';
import type { BuildOutput } from './output-spec.js';
import { layersSource } from './tree-source.js';

export { parseOutputSpec, type BuildOutput } from './output-spec.js';

export interface ExportOptions {
  store: Store;
  /** Where `dest=-` writes. */
  stdout: Writable;
  /** The names the build gave the image (-t): archives and pushes use them when the output names none. */
  tags: string[];
  /** A push's progress. */
  progress?: ProgressSink;
  /** One image per platform: archives hold them all, local and tar write a directory per platform. */
  platformImages?: { platform: string; image: Image }[];
}

/** Sends `image` (the build's result) where `output` says. */
export async function exportOutput(image: Image, output: BuildOutput, o: ExportOptions): Promise<void> {
  const { store } = o;
  switch (output.type) {
    case 'local': {
      const dest = path.resolve(output.dest);
      await fs.mkdir(dest, { recursive: true });
      for (const { platform, image: img } of perPlatform(image, o)) {
        const dir = platform ? path.join(dest, platform.replace(/\//g, '_')) : dest;
        await fs.mkdir(dir, { recursive: true });
        await put(await filesystemEntries(store, img), dir, { rules: 'tree', tmpDir: store.tmpDir });
      }
      return;
    }
    case 'tar':
      await toDest(store, output.dest, o.stdout, async (out) => {
        const images = perPlatform(image, o);
        if (images.length === 1) return void (await writeEntriesTar(await filesystemEntries(store, image), out));
        // Several platforms: one top directory each (linux_amd64/...), as BuildKit's tar exporter.
        async function* all() {
          for (const { platform, image: img } of images) {
            for await (const e of await filesystemEntries(store, img)) yield { ...e, path: `${platform.replace(/\//g, '_')}/${e.path}`, linkpath: e.type === 'link' ? `${platform.replace(/\//g, '_')}/${e.linkpath}` : e.linkpath };
          }
        }
        await writeEntriesTar(all(), out);
      });
      return;
    case 'oci':
    case 'docker': {
      const names = output.names.length ? output.names : o.tags;
      // type=docker without dest: the image is in the store already, as a docker load would put it.
      if (!output.dest) return;
      const items = (o.platformImages?.length ? o.platformImages.map((p) => p.image) : [image]).map((img) => ({ image: img, names: img === image ? names : [] }));
      const format = output.type === 'oci' ? 'oci-archive' : 'docker-archive';
      if (!output.tar && output.dest !== '-') {
        // The archive's content unpacked into the directory (our own archive: plain names only).
        const dir = path.resolve(output.dest);
        await fs.mkdir(dir, { recursive: true });
        const { x } = await import('tar');
        const unpack = x({ cwd: dir, strict: true });
        await Promise.all([saveImages(store, items, unpack as unknown as Writable, format), new Promise((resolve, reject) => unpack.on('finish', resolve).on('close', resolve).on('error', reject))]);
        return;
      }
      await toDest(store, output.dest, o.stdout, (out) => saveImages(store, items, out, format));
      return;
    }
    case 'image': {
      for (const name of output.names) await store.tag(image.id, name);
      if (!output.push) return;
      // The registry client loads only when something is pushed (a build alone never loads it).
      const { push } = await import('../registry/index.js');
      for (const name of output.names.length ? output.names : o.tags) {
        await push(name, {
          store, progress: o.progress, tlsVerify: !output.insecure,
          platformImages: o.platformImages?.length ? o.platformImages.map((p) => p.image.id) : undefined,
        });
      }
    }
  }
}

function perPlatform(image: Image, o: ExportOptions): { platform: string; image: Image }[] {
  return o.platformImages?.length ? o.platformImages : [{ platform: '', image }];
}

/** The image's filesystem (its layers' union) as copier entries, hard links kept. */
async function filesystemEntries(store: Store, image: Image) {
  const dirs = await Promise.all(image.config.rootfs.diff_ids.map((d) => store.layerPath(d)));
  const source = layersSource(dirs);
  const root = (await source.lookup('', false))!;
  return treeEntries(source, root, { name: undefined, byReference: true, keepHardLinks: true });
}

/** Runs `write` on stdout (dest "-", never a terminal) or on a file that appears whole. */
async function toDest(store: Store, dest: string, stdout: Writable, write: (out: Writable) => Promise<void>): Promise<void> {
  if (dest === '-') {
    if ((stdout as { isTTY?: boolean }).isTTY) throw new StrataError('refusing to write the output archive to a terminal: use dest=FILE or redirect');
    return write(stdout);
  }
  await atomicReplace(path.resolve(dest), (tmp) => write(createWriteStream(tmp, { flags: 'wx', mode: 0o644 })), { durable: false, noteIn: store.tmpDir });
}
