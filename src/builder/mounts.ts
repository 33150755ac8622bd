// RUN --mount: cache (a persistent directory kept across builds, outside any layer), bind
// (from the context, read-only unless rw), secret (a --secret file, read-only), ssh (an
// agent socket from --ssh, see ssh-mount.ts) and tmpfs; and the inline document a RUN heredoc
// with a shebang runs from.
// Parsed here into plain data; the executor turns them into runtime mounts.

import { parseMemoryBytes } from '../runtime/index.js';

export type RunMount =
  | {
      type: 'cache'; target: string; id: string; sharing: 'shared' | 'private' | 'locked'; readonly: boolean; keyText: string;
      /** The cache directory's owner and mode when it is made (BuildKit: 0:0 0755); a cache is one per id, uid, gid and mode. */
      uid: number; gid: number; mode: number;
      /**
       * `from=`: a stage or image whose `source` directory (its root by default) a new cache
       * directory starts as a copy of (BuildKit's base of the cache mount; resolved by the planner).
       */
      from?: string;
      source: string;
      fromStage?: number;
      fromImage?: { id: string; diffIds: string[] };
    }
  | {
      type: 'bind'; target: string; source: string; readonly: boolean; keyText: string;
      /** `from=`: a stage or image to bind from instead of the context (resolved by the planner). */
      from?: string;
      fromStage?: number;
      fromImage?: { id: string; diffIds: string[] };
    }
  | {
      type: 'secret'; id: string; required: boolean; keyText: string;
      /** Where the file is mounted; none when only `env=` was asked for. */
      target?: string;
      /** `env=NAME`: the secret's value in the environment of the RUN. */
      env?: string;
      /** The secret as given to the build (undefined: not provided). */
      source?: SecretSource;
      /** The mounted file's owner and mode (BuildKit: 0:0 0400). */
      uid: number; gid: number; mode: number;
    }
  | { type: 'ssh'; target: string; id: string; required: boolean; mode: number; uid: number; gid: number; keyText: string }
  | {
      type: 'tmpfs'; target: string; keyText: string;
      /** `size=`: its upper limit in bytes (units as Docker's RAMInBytes: 64m, 1g). */
      size?: number;
      readonly: boolean;
    }
  /**
   * Not a --mount: the body of `RUN <<EOF` that starts with "#!", as a read-only directory
   * at `target` holding one executable file `name` (BuildKit: /dev/pipes/EOF, mode 0755).
   */
  | { type: 'inline'; target: string; name: string; content: string; keyText: string };

/** A build secret: a host file (`--secret id=X,src=PATH`), or a value (`env=VAR`, read when the build starts). */
export type SecretSource = string | { value: string };

const TRUE = new Set(['', 'true', '1']);

export function parseRunMounts(specs: string[], expand: (w: string) => string, secrets: ReadonlyMap<string, SecretSource>): RunMount[] {
  let ssh = 0;
  return specs.map((spec) => {
    const m = parseMount(expand(spec), secrets, ssh);
    if (m.type === 'ssh') ssh++;
    return m;
  });
}

/** A uid, gid or octal mode of an ssh, cache or secret mount. */
function mountNumber(fields: Map<string, string>, name: string, fallback: number, radix = 10, type = 'ssh'): number {
  const v = fields.get(name);
  if (v === undefined) return fallback;
  const n = radix === 8 ? (/^[0-7]{1,4}$/.test(v) ? parseInt(v, 8) : NaN) : /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (Number.isNaN(n)) throw new Error(`invalid ${name} "${v}" for mount type=${type}`);
  return n;
}

function parseMount(spec: string, secrets: ReadonlyMap<string, SecretSource>, sshIndex = 0): RunMount {
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const k = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    fields.set(k === 'destination' || k === 'dst' ? 'target' : k === 'src' ? 'source' : k, eq < 0 ? '' : part.slice(eq + 1).trim());
  }
  const type = fields.get('type') ?? 'bind';
  const target = fields.get('target');
  const ro = fields.has('ro') || fields.has('readonly') ? TRUE.has(fields.get('ro') ?? fields.get('readonly') ?? '') : undefined;
  const rw = fields.has('rw') || fields.has('readwrite') ? TRUE.has(fields.get('rw') ?? fields.get('readwrite') ?? '') : undefined;
  if (fields.has('from') && type !== 'bind' && type !== 'cache') throw new Error(`--mount type=${type},from= is not supported`);
  switch (type) {
    case 'cache': {
      if (!target) throw new Error('mount type=cache requires a target');
      const sharing = (fields.get('sharing') ?? 'shared') as 'shared' | 'private' | 'locked';
      if (!['shared', 'private', 'locked'].includes(sharing)) throw new Error(`invalid sharing mode "${sharing}"`);
      const id = fields.get('id') || target;
      const uid = mountNumber(fields, 'uid', 0, 10, type);
      const gid = mountNumber(fields, 'gid', 0, 10, type);
      const mode = mountNumber(fields, 'mode', 0o755, 8, type);
      const owner = uid === 0 && gid === 0 && mode === 0o755 ? '' : `:${uid}:${gid}:${mode.toString(8)}`;
      const from = fields.get('from') || undefined;
      const source = from ? fields.get('source') ?? '' : '';
      const base = from ? `:from=${from}:${source}` : '';
      return { type, target, id, sharing, readonly: ro ?? false, uid, gid, mode, from, source, keyText: `cache:${id}:${target}${owner}${base}` };
    }
    case 'bind': {
      if (!target) throw new Error('mount type=bind requires a target');
      const source = fields.get('source') ?? '';
      const readonly = rw !== undefined ? !rw : ro ?? true;
      const from = fields.get('from') || undefined;
      return { type, target, source, readonly, from, keyText: `bind:${from ? `${from}:` : ''}${source}:${target}:${readonly ? 'ro' : 'rw'}` };
    }
    case 'secret': {
      const env = fields.get('env') || undefined;
      const id = fields.get('id') || (target ? target.split('/').pop()! : env ?? '');
      if (!id) throw new Error('mount type=secret requires an id or a target');
      const required = TRUE.has(fields.get('required') ?? 'false') && fields.has('required');
      const source = secrets.get(id);
      if (source === undefined && required) throw new Error(`secret "${id}" not provided`);
      const uid = mountNumber(fields, 'uid', 0, 10, type);
      const gid = mountNumber(fields, 'gid', 0, 10, type);
      const mode = mountNumber(fields, 'mode', 0o400, 8, type);
      // With env= alone the secret is only a variable; a target (or no env) also mounts it.
      const file = target ?? (env ? undefined : `/run/secrets/${id}`);
      const extra = [env ? `env=${env}` : '', env && target ? `target=${target}` : '', uid || gid || mode !== 0o400 ? `${uid}:${gid}:${mode.toString(8)}` : ''].filter(Boolean);
      return { type, target: file, env, id, source, required, uid, gid, mode, keyText: ['secret', id, ...extra].join(':') };
    }
    case 'ssh': {
      const id = fields.get('id') || 'default';
      const required = fields.has('required') && TRUE.has(fields.get('required')!);
      const mode = mountNumber(fields, 'mode', 0o600, 8);
      const uid = mountNumber(fields, 'uid', 0);
      const gid = mountNumber(fields, 'gid', 0);
      const t = target || `/run/buildkit/ssh_agent.${sshIndex}`;
      return { type, target: t, id, required, mode, uid, gid, keyText: `ssh:${id}:${t}:${mode.toString(8)}:${uid}:${gid}:${required}` };
    }
    case 'tmpfs': {
      if (!target) throw new Error('mount type=tmpfs requires a target');
      const text = fields.get('size');
      let size: number | undefined;
      if (text !== undefined) {
        try {
          size = parseMemoryBytes('size', text);
        } catch {
          throw new Error(`invalid size: '${text}'`);
        }
      }
      return { type, target, size, readonly: ro ?? false, keyText: `tmpfs:${target}${size ? `:${size}` : ''}${ro ? ':ro' : ''}` };
    }
    default:
      throw new Error(`unsupported mount type "${type}"`);
  }
}
