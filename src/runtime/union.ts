// A read-only view of an overlay stack without mounting it: the union of layer directories as
// overlayfs presents it (the topmost entry wins; 0/0 character devices are whiteouts; a
// directory hides everything below it when it is opaque). The one reader of layer stacks:
// before a container starts it reads /etc/passwd and finds the command, so `run` needs no
// mount of its own; a build reads stages, images and its own upper dir through it.
// Its calls are synchronous on purpose: they sit on `run`'s start path, where a dozen lstats
// cost microseconds each but a trip through libuv's thread pool costs far more under load.
import fs from 'node:fs';
import path from 'node:path';
import type { Stats } from 'node:fs';
import type { FsView } from './resolve.js';

function lstatOrUndefined(file: string): Stats | undefined {
  return fs.lstatSync(file, { throwIfNoEntry: false });
}

/** True for an overlay whiteout: a character device with device number 0/0. */
export function isWhiteout(stat: Stats): boolean {
  return stat.isCharacterDevice() && stat.rdev === 0;
}

export interface UnionOptions {
  /** A layer is being written while the view is used: which layers hold a directory is not remembered. */
  live?: boolean;
}

export class UnionView implements FsView {
  /** Per directory (known to be one in the union): the layers contributing to it, top first. */
  readonly #dirLayers = new Map<string, string[]>();
  /** Per entry: the layer its topmost version lives in (as last seen). */
  readonly #owner = new Map<string, string>();

  /** `layers`: top first (the upper dir, then the lower dirs from the top down). */
  constructor(private readonly layers: string[], private readonly options: UnionOptions = {}) {
    this.#dirLayers.set('', layers);
  }

  /** Layers bottom → top as RootfsSpec gives them, plus an optional upper dir. */
  static of(lowerDirs: string[], upperDir?: string, options?: UnionOptions): UnionView {
    const top = [...lowerDirs].reverse();
    return new UnionView(upperDir ? [upperDir, ...top] : top, options);
  }

  async lstat(rel: string): Promise<Stats | undefined> {
    return this.lstatSync(rel);
  }

  lstatSync(rel: string): Stats | undefined {
    if (rel === '') return lstatOrUndefined(this.layers[this.layers.length - 1] ?? '/nonexistent');
    const parent = path.posix.dirname(rel);
    for (const layer of this.#layersOf(parent === '.' ? '' : parent)) {
      const stat = lstatOrUndefined(path.join(layer, rel));
      if (!stat) continue;
      if (isWhiteout(stat)) return undefined;
      this.#owner.set(rel, layer);
      return stat;
    }
    return undefined;
  }

  async readlink(rel: string): Promise<string> {
    return fs.readlinkSync(this.hostPath(rel));
  }

  /** The host path of the topmost version of an entry the caller has resolved (lstat'ed) before. */
  hostPath(rel: string): string {
    if (!this.#owner.has(rel) && !this.lstatSync(rel)) throw Object.assign(new Error(`no such file: ${rel}`), { code: 'ENOENT' });
    return path.join(this.#owner.get(rel)!, rel);
  }

  /** Reads a regular file of the union (already resolved). */
  async readFile(rel: string): Promise<Buffer> {
    return fs.readFileSync(this.hostPath(rel));
  }

  /** Names in a directory of the union (resolved before), whiteouts and the opaque marker left out, unsorted. */
  readdirSync(rel: string): string[] {
    const seen = new Set<string>();
    const names: string[] = [];
    for (const layer of this.#layersOf(rel)) {
      for (const name of fs.readdirSync(path.join(layer, rel))) {
        if (seen.has(name) || name === OPAQUE_MARKER) continue;
        seen.add(name);
        const stat = this.lstatSync(rel ? `${rel}/${name}` : name);
        if (stat) names.push(name);
      }
    }
    return names;
  }

  #layersOf(dir: string): string[] {
    const known = this.#dirLayers.get(dir);
    if (known) return known;
    const parent = path.posix.dirname(dir);
    const result: string[] = [];
    for (const layer of this.#layersOf(parent === '.' ? '' : parent)) {
      const full = path.join(layer, dir);
      const stat = lstatOrUndefined(full);
      if (!stat) continue;
      if (!stat.isDirectory()) break; // a file or whiteout hides every lower version
      result.push(layer);
      if (isOpaque(full)) break;
    }
    if (!this.options.live) this.#dirLayers.set(dir, result);
    return result;
  }
}

/**
 * Node cannot read xattrs, so the opaque flag (trusted.overlay.opaque) is only seen when the
 * snapshot also keeps the OCI marker file; a missed opaque flag can only make a hidden lower
 * file look present, which the runtime's own error then reports.
 */
function isOpaque(dir: string): boolean {
  return lstatOrUndefined(path.join(dir, OPAQUE_MARKER)) !== undefined;
}

const OPAQUE_MARKER = '.wh..wh..opq';

/**
 * Layer dirs (bottom → top) with repeats dropped, keeping the topmost: overlayfs refuses the
 * same lowerdir twice (ELOOP), and two steps that change nothing share one empty layer.
 */
export function distinctLayers(layers: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = layers.length - 1; i >= 0; i--) {
    if (seen.has(layers[i])) continue;
    seen.add(layers[i]);
    out.push(layers[i]);
  }
  return out.reverse();
}
