// .dockerignore with Docker's rules (moby/patternmatcher): patterns are cleaned like Go's
// filepath.Clean (leading "/" and "./" dropped), `*` and `?` never cross "/", `**` spans
// directories, `!` re-includes, the last matching pattern wins, and a pattern that matches a
// parent directory matches everything under it.
import path from 'node:path';

interface Pattern {
  text: string;
  exclusion: boolean;
  regex: RegExp;
}

export class IgnoreMatcher {
  private readonly patterns: Pattern[];
  /** True when some pattern starts with `!`: an excluded directory may still hold included files. */
  readonly hasExclusions: boolean;

  constructor(lines: string[]) {
    this.patterns = [];
    for (let line of lines) {
      line = line.trim();
      if (!line) continue;
      let exclusion = false;
      if (line.startsWith('!')) {
        exclusion = true;
        line = line.slice(1).trim();
        if (!line) throw new Error('illegal exclusion pattern: "!"');
      }
      let cleaned = path.posix.normalize(line);
      if (cleaned.length > 1 && cleaned.endsWith('/')) cleaned = cleaned.slice(0, -1);
      if (cleaned.length > 1 && cleaned.startsWith('/')) cleaned = cleaned.slice(1);
      this.patterns.push({ text: cleaned, exclusion, regex: compile(cleaned) });
    }
    this.hasExclusions = this.patterns.some((p) => p.exclusion);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /**
   * Whether an ignored directory must still be walked: Docker's client, BuildKit's fsutil and
   * buildah all descend only when some `!` pattern's text starts with "DIR/", so a "!" pattern
   * that starts with "**" brings nothing back from an ignored directory.
   */
  mayReinclude(dir: string): boolean {
    const prefix = `${dir}/`;
    return this.patterns.some((p) => p.exclusion && `${p.text}/`.startsWith(prefix));
  }

  /** Whether the context path (relative, "/"-separated) is ignored. */
  matches(file: string): boolean {
    const parent = goDir(file);
    const parentDirs = parent === '.' ? [] : parent.split('/');
    let matched = false;
    for (const p of this.patterns) {
      let match = p.regex.test(file);
      for (let i = 0; !match && i < parentDirs.length; i++) match = p.regex.test(parentDirs.slice(0, i + 1).join('/'));
      if (match) matched = !p.exclusion;
    }
    return matched;
  }
}

/** Parses the text of a .dockerignore file: one pattern a line, `#` comments. */
export function parseIgnoreFile(text: string): IgnoreMatcher {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => !l.trimStart().startsWith('#'));
  return new IgnoreMatcher(lines);
}

/** Go's filepath.Dir: everything before the last "/", cleaned ("a/b/" -> "a/b"). */
function goDir(file: string): string {
  const slash = file.lastIndexOf('/');
  if (slash < 0) return '.';
  const dir = path.posix.normalize(file.slice(0, slash + 1));
  return dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
}

const SPECIAL = new Set([...'.+()|{}$^']);

function compile(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '\\') {
      i++;
      if (i >= pattern.length) throw new Error(`invalid .dockerignore pattern: "${pattern}"`);
      re += escapeChar(pattern[i]);
    } else if (ch === '[') {
      const end = classEnd(pattern, i);
      if (end < 0) throw new Error(`invalid .dockerignore pattern: "${pattern}"`);
      re += pattern.slice(i, end + 1);
      i = end;
    } else {
      re += SPECIAL.has(ch) ? `\\${ch}` : ch;
    }
  }
  try {
    return new RegExp(`${re}$`, 's');
  } catch {
    throw new Error(`invalid .dockerignore pattern: "${pattern}"`);
  }
}

function escapeChar(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') return -1;
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return -1;
}
