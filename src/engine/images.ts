// The Images service: the images of a state root as a TypeScript program (and the CLI) works
// with them — list, inspect, tag, remove with Docker's rules, prune, history, save, load and
// import. Removal and prune go through the store's one collector (src/store/gc.ts), which
// keeps what containers, the build cache and builds in progress hold.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { describedFailure, StrataError } from '../errors.js';
import {
  allRepoDigests, appendEvent, digestReferencedImages, atomicReplace, ContainerStore, digestHex, familiarName, imageArchitecture, loadArchive, normalizeTag, openStore, repoDigestsOf, saveImages, stateRoot,
  type ArchiveFormat, type ChunkSource, type ContainerRecord, type Image, type ImageConfig, type LoadResult, type SaveItem, type Store,
} from '../store/index.js';
import { applyChanges } from './changes.js';
import { imageListFilters, labelsMatch, summarize, type ImageSummary } from './image-list.js';
import { imageChanges, type Change } from './image-diff.js';
import { ImageResolver } from './image-resolver.js';
import { LayerSizes } from './image-sizes.js';
import { imageHistory, inspectImage, type HistoryEntry } from './image-views.js';
import { intermediateImages, isParentImage, imagePruneFilter, pruneImages, readableImages, removeImageRef, type ImageDeleteItem, type ImagePruneResult, type RemoveImageOptions } from './images-rules.js';

export { intermediateImages, isParentImage, type ImageDeleteItem, type ImagePruneResult, type RemoveImageOptions } from './images-rules.js';
export { imageHistory, inspectImage, type HistoryEntry } from './image-views.js';
export { treeChanges, type Change, type ChangeKind } from './image-diff.js';
export { referenceMatches, type ImageSummary } from './image-list.js';
export type { ArchiveFormat, Image, LoadResult } from '../store/index.js';

/** An image's layers (bottom first), and the images built on it: `image tree`. */
export interface ImageTree {
  image: Image;
  layers: { diffId: string; size: number; /** Images whose top layer this is (their names, or IDs when untagged). */ topOf: string[] }[];
  /** Images built on this one (`--whatrequires`). */
  children: Image[];
}

export interface ImagesOptions {
  /** Default: $STRATA_ROOT, else the user's state root. */
  stateRoot?: string;
  store?: Store;
}

export interface SaveOptions {
  /** docker-archive (the default, what `docker load` reads) or oci-archive. */
  format?: ArchiveFormat;
  /** gzip the archive. */
  compress?: boolean;
}

export interface ImportOptions {
  /** Name of the new image. */
  reference?: string;
  /** Dockerfile instructions applied to its config (`import -c`). */
  changes?: string[];
  /** History comment (default "Imported from NAME"). */
  message?: string;
  /** Shown as the source in the default comment. */
  sourceName?: string;
  /** "os/arch" (default: linux and this machine's architecture). */
  platform?: string;
}

export class Images {
  private opened: Promise<Store> | undefined;
  private resolver: ImageResolver | undefined;

  constructor(private readonly o: ImagesOptions = {}) {
    if (o.store) this.opened = Promise.resolve(o.store);
  }

  get stateRoot(): string {
    return this.o.store?.root ?? this.o.stateRoot ?? stateRoot();
  }

  /** The store underneath (opened on first use). */
  store(): Promise<Store> {
    this.opened ??= openStore(this.stateRoot);
    return this.opened;
  }

  private containers(): Promise<ContainerRecord[]> {
    return new ContainerStore(this.stateRoot).list();
  }

  /**
   * `images`: the images with their names, as Docker's daemon lists them (image-list.ts); without
   * `all`, Docker's intermediate images (untagged parents of others) are left out. `filters`:
   * label=KEY[=VALUE], before=IMAGE, since=IMAGE, dangling=true|false, reference=PATTERN (values
   * of reference are alternatives; `images REPOSITORY[:TAG]` is one more).
   */
  async list(options: { all?: boolean; filters?: string[] } = {}): Promise<ImageSummary[]> {
    const filters = imageListFilters(options.filters ?? []);
    const store = await this.store();
    let images = (await store.listImages()).filter((i) => labelsMatch(i, filters.labels));
    for (const [key, refs] of [['before', filters.before], ['since', filters.since]] as const) {
      for (const ref of refs) {
        const at = Date.parse((await store.resolveImage(ref)).config.created ?? '');
        images = images.filter((i) => {
          const t = Date.parse(i.config.created ?? '');
          return key === 'before' ? t < at : t > at;
        });
      }
    }
    if (!options.all) {
      const hidden = intermediateImages(images, await digestReferencedImages(store));
      images = images.filter((i) => !hidden.has(i.id));
    }
    const summaries = summarize(images, await allRepoDigests(store), filters);
    const sizes = new LayerSizes(store);
    return Promise.all(summaries.map(async (s) => ({ ...s, image: await sizes.sized(s.image) })));
  }

  /** The name the store knows for a user's reference: a short-name alias's target when local (image-resolver.ts). */
  private async localName(ref: string): Promise<string> {
    const store = await this.store();
    this.resolver ??= new ImageResolver(store, async () => store);
    return this.resolver.localName(ref);
  }

  /** The image a reference, ID or ID prefix names. */
  async get(ref: string): Promise<Image> {
    return (await this.store()).resolveImage(await this.localName(ref));
  }

  /** Docker's `image inspect` object. */
  async inspect(ref: string): Promise<Record<string, unknown>> {
    const store = await this.store();
    const img = await store.resolveImage(await this.localName(ref));
    const dirs = img.config.rootfs.diff_ids.map((d) => path.join(store.layersDir, digestHex(d)));
    return inspectImage(await new LayerSizes(store).sized(img), dirs, await repoDigestsOf(store, img.id));
  }

  /** Names the image `source` names `target` too. */
  async tag(source: string, target: string): Promise<void> {
    const store = await this.store();
    const id = (await store.resolveImage(await this.localName(source))).id;
    await store.tag(id, target);
    this.event('tag', id, familiarName(normalizeTag(target)));
  }

  /** Appends to the state root's event log (`strata events`). */
  private event(action: string, id: string, name?: string): void {
    appendEvent(this.stateRoot, { Type: 'image', Action: action, Actor: { ID: id, Attributes: name ? { name } : {} } });
  }

  private logDeletes(items: ImageDeleteItem[], id: string | undefined): void {
    for (const i of items) {
      if ('Untagged' in i) this.event('untag', id ?? '', i.Untagged);
      else this.event('delete', i.Deleted);
    }
  }

  /** Removes a name or an image with Docker's rules (images-rules.ts). */
  async remove(text: string, options: RemoveImageOptions = {}): Promise<ImageDeleteItem[]> {
    const store = await this.store();
    const ref = await this.localName(text);
    const id = (await store.findImage(ref)).id;
    const items = await removeImageRef(store, ref, await this.containers(), options);
    this.logDeletes(items, id);
    return items;
  }

  /** Dangling images (every image no container uses, with `all`), then what nothing holds. */
  async prune(options: { all?: boolean; filters?: string[] } = {}): Promise<ImagePruneResult> {
    const filters = options.filters ?? [];
    // The runtime (for its time parser) is loaded only when a filter needs it.
    const parseSince = filters.some((f) => f.startsWith('until=')) ? (await import('../runtime/index.js')).parseSince : undefined;
    const accept = imagePruneFilter(filters, (text) => parseSince!(text, undefined, 'until'));
    const result = await pruneImages(await this.store(), !!options.all, await this.containers(), accept);
    // Each untag comes right before its image's delete.
    result.items.forEach((item, n) => this.logDeletes([item], 'Untagged' in item ? result.items.slice(n).find((x): x is { Deleted: string } => 'Deleted' in x)?.Deleted : undefined));
    if (result.items.length) this.event('prune', '', undefined);
    return result;
  }

  /** The image's history, newest first. */
  async history(ref: string): Promise<HistoryEntry[]> {
    const img = await this.get(ref);
    return imageHistory(img, await new LayerSizes(await this.store()).of(img));
  }

  /** The image's layers and the images built on it. */
  async tree(ref: string): Promise<ImageTree> {
    const sizes = new LayerSizes(await this.store());
    const image = await sizes.sized(await this.get(ref));
    const all = await readableImages(await this.store());
    const label = (i: Image) => (i.names.length ? [...i.names].sort() : [i.id]);
    const layerSizes = await sizes.of(image);
    const layers = image.config.rootfs.diff_ids.map((diffId, i) => ({
      diffId,
      size: layerSizes[i] ?? 0,
      topOf: all.filter((o) => o.config.rootfs.diff_ids.at(-1) === diffId).flatMap(label),
    }));
    return { image, layers, children: all.filter((c) => isParentImage(image, c)) };
  }

  /** `image diff`: from `from` to `to`, or with `to` alone what its top layer changes. */
  async diff(from: string | undefined, to: string): Promise<Change[]> {
    return imageChanges(await this.store(), from === undefined ? undefined : await this.get(from), await this.get(to));
  }

  /**
   * Writes the images `refs` name to `out` (a stream, or a file that appears whole or not at
   * all). An image named by one of its names carries that name; by ID, none.
   */
  async save(refs: string[], out: Writable | { file: string }, options: SaveOptions = {}): Promise<void> {
    const store = await this.store();
    const items = await saveItems(store, await Promise.all(refs.map((r) => this.localName(r))));
    const write = async (file: Writable) => {
      let sink: Writable = file;
      if (options.compress) {
        const { createGzip } = await import('node:zlib');
        const gz = createGzip();
        gz.pipe(file);
        sink = gz;
      }
      await saveImages(store, items, sink, options.format ?? 'docker-archive');
      if (sink !== file) await new Promise<void>((resolve, reject) => file.once('finish', resolve).once('error', reject));
    };
    for (const item of items) this.event('save', item.image.id, item.names.map(familiarName).join(', ') || undefined);
    if (!('file' in out)) return write(out);
    // Its temp file beside it is noted in the state root, so that a sweep removes it if this process is killed meanwhile.
    const atomic = { durable: false, failpoint: 'save.before-rename', noteIn: store.tmpDir };
    // The temp file is opened before the stream is made: a failed open (a missing directory) is
    // this promise's rejection, not an 'error' event the stream may emit before anyone listens.
    // A failed write closes the file (its handle) before atomicReplace removes it.
    const writeTo = async (tmp: string) => {
      const stream = (await fs.open(tmp, 'wx', 0o644)).createWriteStream();
      await write(stream).catch((err: unknown) => {
        stream.destroy();
        throw err;
      });
    };
    await describedFailure(`writing "${out.file}"`, () => atomicReplace(path.resolve(out.file), writeTo, atomic));
  }

  /** Loads the images of a docker-archive or oci-archive. */
  async load(source: ChunkSource): Promise<LoadResult> {
    const result = await loadArchive(await this.store(), source);
    for (const img of result.images) this.event('load', img.id, img.names.map(familiarName).join(', ') || undefined);
    return result;
  }

  /** Makes a one-layer image of a filesystem tarball (`import`; not named so: the CLI bundler takes `import(` for a dynamic import). */
  async importTarball(source: ChunkSource, options: ImportOptions = {}): Promise<Image> {
    const store = await this.store();
    const tags = options.reference ? [normalizeTag(options.reference)] : [];
    // Checked before the (possibly large) tarball is read.
    const changed = await applyChanges({}, options.changes ?? []);
    const layer = await store.importLayer(source);
    const created = new Date().toISOString();
    const [os = 'linux', arch = imageArchitecture()] = (options.platform ?? '').split('/').filter(Boolean);
    const config: ImageConfig = {
      created,
      architecture: arch,
      os,
      config: changed,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, created_by: '', comment: options.message || `Imported from ${options.sourceName ?? '-'}` }],
    };
    const image = await store.writeImage(config, [layer], { tags });
    this.event('import', image.id, tags.map(familiarName)[0]);
    return image;
  }
}

async function saveItems(store: Store, refs: string[]): Promise<SaveItem[]> {
  const items = new Map<string, SaveItem>();
  for (const ref of refs) {
    const image = await store.resolveImage(ref);
    const item = items.get(image.id) ?? { image, names: [] };
    let name: string | undefined;
    try {
      name = normalizeTag(ref);
    } catch {
      name = undefined;
    }
    if (name && image.names.includes(name) && !item.names.includes(name)) item.names.push(name);
    items.set(image.id, item);
  }
  return [...items.values()];
}
