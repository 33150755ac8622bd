// Wildcards in copy sources, matched per path component over a tree as BuildKit's are (Go's
// filepath.Match in each component, so a plain COPY's `**` is `*`: BuildKit's and podman's
// copiers both match with filepath.Match); with `doublestar` (COPY --parents, whose BuildKit
// matcher is doublestar's) a `**` component is any number of directories (none included), or,
// last, everything below.
import type { TreeNode, TreeSource } from './tree.js';

/** One component's pattern as a regular expression: `*`, `?`, `[...]` (`[!...]`), `\` escapes. */
export function globRegex(part: string): RegExp {
  let re = '^';
  for (let i = 0; i < part.length; i++) {
    const ch = part[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\' && i + 1 < part.length) re += `\\${part[++i]}`;
    else if (ch === '[') {
      const end = part.indexOf(']', i + 2);
      if (end < 0) throw new Error(`syntax error in pattern: "${part}"`);
      re += `[${part.slice(i + 1, end).replace(/^!/, '^')}]`;
      i = end;
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`, 's');
}

/** Whether a source has wildcards. */
export const hasWildcards = (source: string): boolean => /[*?[]/.test(source);

/**
 * The paths of `tree` that `pattern` matches, in tree order: directories are entered only
 * when they are real directories (links are not followed), and the root is never a match.
 */
export async function glob(tree: TreeSource, pattern: string, options: { doublestar?: boolean } = {}): Promise<string[]> {
  const root = await tree.lookup('', false);
  if (!root) return [];
  let level: TreeNode[] = [root];
  const parts = pattern.split('/').filter((p) => p && p !== '.');
  for (const [i, part] of parts.entries()) {
    const next: TreeNode[] = [];
    const seen = new Set<string>();
    const add = (n: TreeNode) => {
      if (!seen.has(n.rel)) next.push(n);
      seen.add(n.rel);
    };
    const below = async (dir: TreeNode): Promise<void> => {
      for (const child of await tree.children(dir)) {
        add(child);
        if (child.type === 'dir') await below(child);
      }
    };
    const re = part === '**' && options.doublestar ? undefined : globRegex(part);
    for (const dir of level) {
      if (dir.type !== 'dir') continue;
      if (!re) {
        add(dir);
        await below(dir);
      } else {
        for (const child of await tree.children(dir)) if (re.test(child.rel.slice(child.rel.lastIndexOf('/') + 1))) add(child);
      }
    }
    level = i < parts.length - 1 ? next.filter((n) => n.type === 'dir') : next.filter((n) => n.rel !== '');
  }
  return level.map((n) => n.rel);
}
