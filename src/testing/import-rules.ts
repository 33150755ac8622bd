// The import rules of shared/ARCHITECTURE.md, checked over the TypeScript import graph of a
// source tree (static, dynamic and type-only imports alike, read with the TypeScript compiler's
// own parser):
// - layers: a folder imports only folders below it (LAYERS); the root files (errors.ts, ...) are
//   the bottom, importable from anywhere; the parser only from the builder up (the store, the
//   runtime and the registry know nothing of Dockerfiles);
// - entry files: another folder is imported only through its index.ts, its public API
//   (runtime/shim/ and every other subfolder are internals of their top folder);
// - no cycle between the files of the tree (folders cannot form one: layers forbid it);
// - test-only files (*.test.ts, anything under a testing/ folder) are imported by tests only.
// Test files themselves may reach into anything: they test internals.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Each top folder's layer: an import must go to a strictly lower one. */
export const LAYERS: Readonly<Record<string, number>> = {
  '.': 0, // the root files: errors.ts, random.ts, failpoint.ts
  parser: 1,
  hash: 1,
  net: 1,
  store: 2,
  runtime: 3,
  registry: 3,
  builder: 4,
  engine: 5,
  cli: 6,
  // src/index.ts, the package's entry, is above everything (see unitOf).
};

/** Folders that only the layers from the given one up may import. */
export const IMPORTED_FROM: Readonly<Record<string, number>> = { parser: LAYERS.builder! };

const PACKAGE_ENTRY = 'index.ts';

export type ViolationKind = 'upward' | 'internal' | 'cycle' | 'test-only' | 'unknown-folder' | 'unresolved';

export interface Violation {
  kind: ViolationKind;
  /** Paths relative to the tree's root, with "/" separators. */
  from: string;
  to?: string;
  message: string;
}

interface Edge {
  to: string;
  line: number;
}

export function isTestOnly(file: string): boolean {
  return /\.test\.c?ts$/.test(file) || file.split('/').slice(0, -1).includes('testing');
}

/** The unit a file belongs to: its top folder, '.' for root files, 'package' for the package entry. */
function unitOf(file: string): string {
  if (file === PACKAGE_ENTRY) return 'package';
  const slash = file.indexOf('/');
  return slash < 0 ? '.' : file.slice(0, slash);
}

function layerOf(unit: string): number | undefined {
  return unit === 'package' ? Infinity : LAYERS[unit];
}

/** Is `file` the public entry of its unit? (Every root file is its own entry.) */
function isEntry(file: string): boolean {
  const unit = unitOf(file);
  return unit === '.' || unit === 'package' || file === `${unit}/index.ts`;
}

function listSources(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.c?ts$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}

/** Relative module specifiers of a file: import/export ... from, import(), import x = require(). */
function specifiersOf(text: string, fileName: string): Array<{ spec: string; line: number }> {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: Array<{ spec: string; line: number }> = [];
  const add = (node: ts.Node, spec: ts.Expression | undefined) => {
    if (spec && ts.isStringLiteralLike(spec)) out.push({ spec: spec.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out.filter((s) => s.spec.startsWith('.'));
}

/** The source file a relative specifier names ("./x.js" is x.ts, "./x.cjs" x.cts), or undefined. */
function resolve(root: string, from: string, spec: string, files: Set<string>): string | undefined {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const candidate of [target.replace(/\.js$/, '.ts'), target.replace(/\.cjs$/, '.cts'), `${target}.ts`, `${target}/index.ts`]) {
    if (files.has(candidate)) return candidate;
  }
  return fs.existsSync(path.join(root, target)) ? target : undefined;
}

/** Every violation of the rules in the tree at `root` (e.g. src/). */
export function checkImportRules(root: string): Violation[] {
  const files = listSources(root);
  const known = new Set(files);
  const graph = new Map<string, Edge[]>();
  const violations: Violation[] = [];
  for (const from of files) {
    const edges: Edge[] = [];
    for (const { spec, line } of specifiersOf(fs.readFileSync(path.join(root, from), 'utf8'), from)) {
      const to = resolve(root, from, spec, known);
      if (!to) {
        violations.push({ kind: 'unresolved', from, message: `${from}:${line}: "${spec}" names no file of the tree` });
        continue;
      }
      edges.push({ to, line });
    }
    graph.set(from, edges);
  }
  for (const [from, edges] of graph) {
    if (isTestOnly(from)) continue;
    const unit = unitOf(from);
    if (layerOf(unit) === undefined) {
      violations.push({ kind: 'unknown-folder', from, message: `${from}: folder "${unit}" has no layer in the import rules (LAYERS)` });
      continue;
    }
    for (const { to, line } of edges) {
      const where = `${from}:${line}`;
      if (isTestOnly(to)) {
        violations.push({ kind: 'test-only', from, to, message: `${where}: imports the test-only file ${to}` });
        continue;
      }
      const target = unitOf(to);
      if (target === unit) continue;
      const [a, b] = [layerOf(unit)!, layerOf(target)];
      if (b === undefined) {
        violations.push({ kind: 'unknown-folder', from, to, message: `${where}: imports ${to}, whose folder "${target}" has no layer in the import rules` });
      } else if (b >= a) {
        violations.push({ kind: 'upward', from, to, message: `${where}: ${unit} may not import ${target} (${to}): it is not below it` });
      } else if (a < (IMPORTED_FROM[target] ?? 0)) {
        violations.push({ kind: 'upward', from, to, message: `${where}: ${unit} may not import ${target} (${to}): only the layers from the builder up may` });
      } else if (!isEntry(to)) {
        violations.push({ kind: 'internal', from, to, message: `${where}: imports ${to}, an internal of ${target}: import ${target}/index.ts` });
      }
    }
  }
  for (const cycle of cyclesOf(graph)) {
    violations.push({ kind: 'cycle', from: cycle[0]!, message: `import cycle: ${[...cycle, cycle[0]].join(' -> ')}` });
  }
  return violations;
}

/** The cycles among non-test files: one per strongly connected component (Tarjan), as a path through it. */
function cyclesOf(graph: Map<string, Edge[]>): string[][] {
  const nodes = [...graph.keys()].filter((f) => !isTestOnly(f));
  const next = (f: string) => [...new Set((graph.get(f) ?? []).map((e) => e.to))].filter((t) => graph.has(t) && !isTestOnly(t));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const strong = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || next(v).includes(v)) components.push(component);
    }
  };
  for (const v of nodes) if (!index.has(v)) strong(v);
  return components.map((c) => pathThrough(new Set(c), next));
}

/** A cycle through the members of a strongly connected component, starting at its first file by name. */
function pathThrough(members: Set<string>, next: (f: string) => string[]): string[] {
  const start = [...members].sort()[0]!;
  // Breadth-first from start back to start, within the component: the shortest cycle through it.
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of next(v)) {
      if (!members.has(w)) continue;
      if (w === start) {
        const cycle = [v];
        while (cycle[0] !== start) cycle.unshift(parent.get(cycle[0]!)!);
        return cycle;
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}
