// `commit -c` / `import -c`: the Dockerfile instructions Docker accepts there (CMD, ENTRYPOINT,
// ENV, LABEL, EXPOSE, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD), applied to an image config.
import path from 'node:path';
import { StrataError } from '../errors.js';
import type { ContainerConfig } from '../store/types.js';

export const ALLOWED_CHANGES = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

/** Splits shell-like words: quotes group, backslash escapes (enough for KEY="a b" pairs). */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) words.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw new StrataError(`unterminated quote in "${text}"`);
  if (has) words.push(cur);
  return words;
}

/** A JSON array of strings (exec form), or undefined when the text is not one. */
function jsonArray(text: string): string[] | undefined {
  if (!text.trim().startsWith('[')) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  } catch {
    // not JSON: shell form
  }
  return undefined;
}

function pairs(keyword: string, rest: string): Array<[string, string]> {
  const words = splitWords(rest);
  if (words.length === 0) throw new StrataError(`${keyword} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    // legacy form: KEY value...
    const m = /^\s*(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!m) throw new StrataError(`${keyword} must have two arguments`);
    return [[m[1]!, splitWords(m[2]!).join(' ')]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new StrataError(`${keyword} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Applies `changes` (one instruction each) to a copy of `config`. */
export function applyChanges(config: ContainerConfig, changes: string[]): ContainerConfig {
  const out: ContainerConfig = structuredClone(config);
  let cmdSet = false;
  for (const change of changes) {
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(change);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (!ALLOWED_CHANGES.includes(keyword)) throw new StrataError(`${keyword} is not a valid change command`);
    const command = () => jsonArray(rest) ?? ['/bin/sh', '-c', rest];
    switch (keyword) {
      case 'CMD':
        out.Cmd = command();
        cmdSet = true;
        break;
      case 'ENTRYPOINT':
        out.Entrypoint = command();
        if (!cmdSet) out.Cmd = null; // as a Dockerfile ENTRYPOINT resets an inherited CMD
        break;
      case 'ENV':
        for (const [k, v] of pairs(keyword, rest)) {
          const env = (out.Env ?? []).filter((e) => !e.startsWith(`${k}=`));
          out.Env = [...env, `${k}=${v}`];
        }
        break;
      case 'LABEL':
        out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(pairs(keyword, rest)) };
        break;
      case 'EXPOSE':
        for (const port of splitWords(rest)) out.ExposedPorts = { ...(out.ExposedPorts ?? {}), [port.includes('/') ? port.toLowerCase() : `${port}/tcp`]: {} };
        break;
      case 'USER':
        out.User = rest;
        break;
      case 'WORKDIR':
        out.WorkingDir = path.posix.resolve(out.WorkingDir || '/', rest);
        break;
      case 'VOLUME':
        for (const v of jsonArray(rest) ?? splitWords(rest)) out.Volumes = { ...(out.Volumes ?? {}), [v]: {} };
        break;
      case 'STOPSIGNAL':
        out.StopSignal = rest;
        break;
      case 'ONBUILD':
        out.OnBuild = [...(out.OnBuild ?? []), rest];
        break;
    }
  }
  return out;
}
