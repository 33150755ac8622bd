// `build --output`'s value (`type=T,key=value,...`) parsed as buildx does, apart from the
// exporters (output.ts): a front end checks it before the build, without loading them.
import { StrataError } from '../errors.js';
import { normalizeTag } from '../store/index.js';

export type BuildOutput =
  | { type: 'local'; dest: string }
  | { type: 'tar'; dest: string }
  | { type: 'oci' | 'docker'; dest?: string; names: string[]; /** tar=false: an OCI layout directory at dest. */ tar: boolean }
  | { type: 'image'; names: string[]; push: boolean; insecure: boolean };

const TRUE = new Set(['true', '1', '']);

/**
 * Parses one `--output` value as buildx does: `type=T,key=value,...`, or a bare path (a
 * directory: type=local) or `-` (type=tar on stdout). `registry` is type=image,push=true.
 */
export function parseOutputSpec(spec: string): BuildOutput {
  if (!spec.includes('=')) return spec === '-' ? { type: 'tar', dest: '-' } : { type: 'local', dest: spec };
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    fields.set((eq < 0 ? part : part.slice(0, eq)).trim(), eq < 0 ? '' : part.slice(eq + 1).trim());
  }
  const type = fields.get('type') ?? (fields.has('dest') ? 'local' : '');
  const dest = fields.get('dest');
  const names = (fields.get('name') ?? '').split(/[,\s]+/).filter(Boolean).map((n) => {
    try {
      return normalizeTag(n);
    } catch (err) {
      throw new StrataError(`invalid output "${spec}": name "${n}": ${(err as Error).message}`);
    }
  });
  switch (type) {
    case 'local':
    case 'tar':
      if (!dest) throw new StrataError(`invalid output "${spec}": type=${type} requires dest=${type === 'local' ? 'DIR' : 'FILE (or -)'}`);
      return { type, dest };
    case 'oci':
    case 'docker':
      // Checked now, not after the build: an oci archive has nowhere else to go.
      if (type === 'oci' && !dest) throw new StrataError('output type=oci requires dest=FILE (or dest=- for stdout)');
      return { type, dest, names, tar: !(fields.has('tar') && !TRUE.has(fields.get('tar')!)) };
    case 'image':
    case 'registry': {
      const pushIt = type === 'registry' || (fields.has('push') && TRUE.has(fields.get('push')!));
      if (names.length === 0 && pushIt) throw new StrataError(`invalid output "${spec}": pushing requires name=REFERENCE (or -t)`);
      return { type: 'image', names, push: pushIt, insecure: fields.has('registry.insecure') && TRUE.has(fields.get('registry.insecure')!) };
    }
    case '':
      throw new StrataError(`invalid output "${spec}": missing type= (local, tar, oci, docker, image or registry)`);
    default:
      throw new StrataError(`invalid output "${spec}": unknown type "${type}" (expected local, tar, oci, docker, image or registry)`);
  }
}
