// What a volume is in a container, by its driver options (store/volume-options.ts): a plain
// volume its _data dir; a bind volume (type=none, o=bind) its device, a host directory, bound
// in its place; a tmpfs volume (type=tmpfs) a tmpfs that runc mounts in the container. Nothing
// is mounted on the host, so a volume's removal (a rename and a removal of its own directory)
// never reaches a device's files: they are the user's. A tmpfs volume is one tmpfs per
// container, not one shared by the containers using it at once as Docker's (see README.md).
import fs from 'node:fs';
import path from 'node:path';
import { StrataError } from '../../errors.js';
import { volumeKind, type Volume } from '../../store/index.js';
import type { MountSpec } from '../types.js';

/**
 * Checks, right before a mount, that no component of a resolved bind source has become a
 * symlink since creation. Node has no O_PATH|O_NOFOLLOW handle to pass to runc, so a window
 * remains between this check and runc's mount(2) in which a process owning a parent directory
 * could swap a component; the check closes everything outside that window, and only the host
 * user who owns the path (who could mount it anyway) can race it.
 */
export function verifyNoSymlinks(resolved: string): void {
  let cur = '/';
  for (const part of resolved.split('/').filter(Boolean)) {
    cur = path.join(cur, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch {
      throw new StrataError(`bind source "${resolved}": "${cur}" no longer exists`);
    }
    if (st.isSymbolicLink()) throw new StrataError(`bind source "${resolved}": "${cur}" became a symlink after the container was created`);
  }
}

/**
 * A bind volume's device, as mount(2) would follow it now (Docker mounts it when a container
 * first uses the volume): an existing directory, symlinks resolved, none left in the result.
 */
export function bindDevice(volume: Volume, device: string): string {
  const failed = (why: string) => new StrataError(`error while mounting volume "${volume.Name}": failed to mount local volume: device "${device}": ${why}`);
  let real: string;
  try {
    real = fs.realpathSync(device);
  } catch (err) {
    throw failed((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message);
  }
  if (!fs.statSync(real).isDirectory()) throw failed('not a directory');
  verifyNoSymlinks(real);
  return real;
}

/** The runtime mount of VOLUME at DESTINATION. */
export function volumeMountSpec(volume: Volume, destination: string, readonly: boolean): MountSpec {
  const kind = volumeKind(volume.Options);
  if (kind.kind === 'tmpfs') return { type: 'tmpfs', destination, options: readonly ? [...kind.options, 'ro'] : kind.options };
  if (kind.kind === 'bind') {
    return { type: 'bind', source: bindDevice(volume, kind.device), destination, readonly: readonly || kind.readonly, recursive: kind.recursive };
  }
  return { type: 'bind', source: volume.Mountpoint, destination, readonly };
}

/**
 * Where Docker's copy-up of the image's files goes: the volume's _data, or a bind volume's
 * device (Docker mounts the device and copies into it when it is empty, as into any volume); a
 * tmpfs volume gets none (Docker's copy goes into a tmpfs it unmounts right after).
 */
export function copyUpTarget(volume: Volume): string | undefined {
  const kind = volumeKind(volume.Options);
  if (kind.kind === 'tmpfs') return undefined;
  return kind.kind === 'bind' ? bindDevice(volume, kind.device) : volume.Mountpoint;
}

/**
 * The fields of a --mount value as docker/cli reads them (encoding/csv, one record): a field in
 * double quotes may hold commas (`"volume-opt=o=size=64m,uid=1000"`), `""` in it is a quote.
 */
export function csvFields(spec: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (spec[i] === '"') {
      for (i++; ; i++) {
        if (i >= spec.length) throw new StrataError(`invalid mount spec "${spec}": extraneous or missing " in quoted-field`);
        if (spec[i] === '"') {
          if (spec[i + 1] === '"') {
            field += '"';
            i++;
            continue;
          }
          i++;
          break;
        }
        field += spec[i];
      }
      if (i < spec.length && spec[i] !== ',') throw new StrataError(`invalid mount spec "${spec}": extraneous or missing " in quoted-field`);
    } else {
      const end = spec.indexOf(',', i);
      field = spec.slice(i, end < 0 ? spec.length : end);
      if (field.includes('"')) throw new StrataError(`invalid mount spec "${spec}": bare " in non-quoted-field`);
      i = end < 0 ? spec.length : end;
    }
    fields.push(field);
    if (i >= spec.length) return fields;
    i++; // the comma
  }
}
