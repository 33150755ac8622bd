// For the build conformance tests: a saved image (docker-archive) read back as the tree its
// layers make, and contexts copied from testdata/build/conformance.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { testdataDir } from '../../testing/cli.js';

const cases = path.join(testdataDir, 'build', 'conformance');

export interface Entry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  link: string;
  sha: string;
}

export interface Saved {
  tree: Map<string, Entry>;
  config: { config: Record<string, unknown>; history?: { empty_layer?: boolean }[]; rootfs: { diff_ids: string[] } };
}

/** Reads a docker-archive (as `strata save` and `podman save` write it): config, and the layers applied in order. */
export async function readSaved(file: string, scratch: string): Promise<Saved> {
  const dir = fs.mkdtempSync(path.join(scratch, 'x-'));
  await tar.x({ file, cwd: dir });
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'))[0] as { Config: string; Layers: string[] };
  const config = JSON.parse(fs.readFileSync(path.join(dir, manifest.Config), 'utf8')) as Saved['config'];
  const tree = new Map<string, Entry>();
  for (const layer of manifest.Layers) {
    const entries: [string, Entry][] = [];
    await new Promise<void>((resolve, reject) => {
      const parser = new tar.Parser({
        onReadEntry: (e) => {
          const hash = createHash('sha256');
          e.on('data', (d: Buffer) => hash.update(d));
          e.on('end', () => entries.push([e.path.replace(/^\.\//, '').replace(/\/$/, ''), {
            type: e.type, mode: (e.mode ?? 0) & 0o7777, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ? Math.floor(e.mtime.getTime() / 1000) : 0,
            size: e.size ?? 0, link: e.linkpath ?? '', sha: hash.digest('hex').slice(0, 16),
          }]));
        },
      });
      fs.createReadStream(path.join(dir, layer)).pipe(parser).on('end', () => resolve()).on('error', reject);
    });
    for (const [name, e] of entries) {
      const base = path.posix.basename(name);
      const parent = path.posix.dirname(name);
      const under = (p: string) => [...tree.keys()].filter((k) => k === p || k.startsWith(`${p}/`));
      if (base === '.wh..wh..opq') {
        under(parent).filter((k) => k !== parent).forEach((k) => tree.delete(k));
      } else if (base.startsWith('.wh.')) {
        under(parent === '.' ? base.slice(4) : `${parent}/${base.slice(4)}`).forEach((k) => tree.delete(k));
      } else if (name) {
        // A non-directory replaces whatever was there, a directory's content included (OCI layer rules).
        if (e.type !== 'Directory') under(name).filter((k) => k !== name).forEach((k) => tree.delete(k));
        const linked = e.type === 'Link' ? (entries.find(([n]) => n === e.link.replace(/^\.\//, ''))?.[1] ?? tree.get(e.link)) : undefined;
        tree.set(name, linked ? { ...linked, link: `hardlink:${e.link}` } : e);
      }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return { tree, config };
}

/** A context dir: the case's files copied, then `tweak` (modes, mtimes, archives git cannot carry). */
let contexts = 0;
export function context(scratch: string, name: string, tweak?: (dir: string) => void): string {
  const dir = path.join(scratch, 'ctx', `${name}-${++contexts}`);
  fs.cpSync(path.join(cases, name), dir, { recursive: true, verbatimSymlinks: true });
  tweak?.(dir);
  return dir;
}

