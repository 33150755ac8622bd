// A host file or directory tree as a stream of archive entries, the form `cp HOST CONTAINER:DEST`
// hands to the same placement as `cp - CONTAINER:DEST` (store/layer-unpack.ts placeEntries): one
// set of rules for both, as docker cp turns every copy into a tar it extracts. Links in the tree
// are entries of their own, never followed.
import fs from 'node:fs';
import path from 'node:path';
import type { EntryType, TarEntry } from '../store/index.js';

export interface HostTreeOptions {
  /** The name of the top entry; undefined: the directory's children come at the top ("SRC/."). */
  name: string | undefined;
  /** The owner every entry gets (docker cp: the user copying; root in a container); undefined: each keeps its own (`cp -a`). */
  owner: { uid: number; gid: number } | undefined;
  /** Children of the top directory left out (a running container's /proc, /sys, /dev). */
  omit?: ReadonlySet<string>;
}

function typeOf(st: fs.Stats): EntryType {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'unknown';
}

async function* noBody(): AsyncGenerator<Buffer> {}

function entryOf(abs: string, name: string, st: fs.Stats, options: HostTreeOptions): TarEntry {
  const type = typeOf(st);
  return {
    path: type === 'dir' ? `${name}/` : name,
    type,
    mode: st.mode & 0o7777,
    uid: options.owner?.uid ?? st.uid,
    gid: options.owner?.gid ?? st.gid,
    size: type === 'file' ? st.size : 0,
    mtime: st.mtimeMs / 1000,
    linkpath: type === 'symlink' ? fs.readlinkSync(abs) : '',
    devmajor: 0,
    devminor: 0,
    xattrs: new Map(),
    body: type === 'file' ? () => fs.createReadStream(abs)[Symbol.asyncIterator]() as AsyncGenerator<Buffer> : noBody,
  };
}

/** The entries of the host path `abs` (its own entry first, then its children, depth first, sorted). */
export async function* hostTreeEntries(abs: string, options: HostTreeOptions): AsyncGenerator<TarEntry> {
  const st = await fs.promises.lstat(abs);
  if (options.name !== undefined) yield entryOf(abs, options.name, st, options);
  if (!st.isDirectory()) return;
  const prefix = options.name === undefined ? '' : `${options.name}/`;
  for (const child of (await fs.promises.readdir(abs)).sort()) {
    if (options.omit?.has(child)) continue;
    yield* hostTreeEntries(path.join(abs, child), { ...options, name: prefix + child, omit: undefined });
  }
}
