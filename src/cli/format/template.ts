// Go's text/template as `docker ... --format` users write it (syntax in template-parse.ts):
// fields ({{.A.B}}, $var.A), {{if}}/{{else}}, {{range}}, {{with}}, pipelines, Go's builtins
// (index, len, printf, print, println, eq, ne, lt, le, gt, ge, and, or, not, slice) and
// Docker's (json, upper, lower, title, split, join, truncate, pad), and the `table` prefix (a
// header row and aligned columns). `\t` and `\n` in the format are real tabs and newlines, as in Docker.
import { StrataError } from '../../errors.js';
import { alignTable } from './table.js';

import { parseTree, type Arg, type Pipeline, type TNode } from './template-parse.js';
import { compareBytes } from '../../sort-order.js';

/**
 * JSON as Go's encoding/json writes it: <, >, & escaped; a map's keys sorted, a struct's fields
 * (an object marked by goStruct) in their declaration order, which is the object's own.
 */
export function goJson(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (typedKind(v)) return typedKind(v) === 'empty-struct' ? {} : null;
    if (v instanceof GoStringer) return v.value;
    if (Array.isArray(v)) return v.map(sorted);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (!isGoStruct(o)) return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sorted(o[k])]));
      const tags = jsonTags(o);
      return Object.fromEntries(Object.keys(o).flatMap((k) => {
        const [name = k, option] = (tags[k] ?? '').split(',');
        return option === 'omitempty' && isEmpty(o[k]) ? [] : [[name || k, sorted(o[k])]];
      }));
    }
    return v;
  };
  return JSON.stringify(sorted(value) ?? null)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
}

const GO_TYPED = Symbol('go typed');

/**
 * A value of a typed (struct) field as Go's template shows it: a nil slice "[]", a nil map
 * "map[]", a nil pointer "<nil>" (JSON null, false), an empty struct "{}" (JSON {}). JSON's
 * null alone would be a missing value ("<no value>").
 */
export function goTyped(kind: 'nil-slice' | 'nil-map' | 'nil-pointer' | 'empty-struct'): unknown {
  const v = kind === 'nil-slice' ? [] : {};
  Object.defineProperty(v, GO_TYPED, { value: kind });
  return Object.freeze(v);
}

const typedKind = (v: unknown): string | undefined => (v && typeof v === 'object' ? (v as Record<symbol, string>)[GO_TYPED] : undefined);

/** A value of a Go type with a String method: fmt prints its text, json and the functions (eq, lt, printf's %d) see its value. */
class GoStringer {
  constructor(readonly value: number, readonly text: string) {}

  valueOf(): number {
    return this.value;
  }
}

/** A time.Duration (or another Go number type with a String method): {{.}} prints TEXT ("2s"), {{json .}} VALUE. */
export function goStringer(value: number, text: string): unknown {
  return Object.freeze(new GoStringer(value, text));
}

/** The plain value of V (a GoStringer's number), for comparisons and truth. */
const plain = (v: unknown): unknown => (v instanceof GoStringer ? v.value : v);

const GO_STRUCT = Symbol('go struct');

/**
 * Marks OBJ (a view's own copy) as a Go struct rather than a map: fmt prints its field values
 * in declaration order in braces ("{json-file map[]}"), and json keeps that order. Its fields
 * are its own properties in their order, the non-enumerable ones too (omitempty fields the JSON
 * leaves out are still fields). An object not marked is a map: "map[k:v]", keys sorted. JSON
 * gives the json tags of fields whose tag is not their name ({ Status: 'status,omitempty' }).
 */
export function goStruct<T extends object>(obj: T, json: Record<string, string> = {}): T {
  if (!Object.isFrozen(obj)) Object.defineProperty(obj, GO_STRUCT, { value: json });
  return obj;
}

const isGoStruct = (v: object): boolean => (v as Record<symbol, unknown>)[GO_STRUCT] !== undefined;
/** A struct's json tags by field (goStruct's JSON argument): `status,omitempty` names the field "status", left out when empty. */
const jsonTags = (v: object): Record<string, string> => (v as Record<symbol, Record<string, string>>)[GO_STRUCT] ?? {};
/** encoding/json's empty values, which omitempty leaves out. */
const isEmpty = (v: unknown): boolean => v instanceof GoStringer ? v.value === 0 : v === undefined || v === null || v === false || v === 0 || v === ''
  || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !isGoStruct(v) && Object.keys(v).length === 0);

function str(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typedKind(v) === 'nil-pointer') return '<nil>';
  if (typedKind(v) === 'empty-struct') return '{}';
  if (v instanceof GoStringer) return v.text;
  if (Array.isArray(v)) return `[${v.map(str).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (isGoStruct(o)) return `{${Object.getOwnPropertyNames(o).map((k) => str(o[k])).join(' ')}}`;
    return `map[${Object.keys(o).sort().map((k) => `${k}:${str(o[k])}`).join(' ')}]`;
  }
  return String(v);
}

export interface Template {
  /** The format had the `table` prefix. */
  table: boolean;
  render(row: object): string;
  /** The header row: each field replaced by its heading. */
  header(headings: Record<string, string>): string;
}

function lookup(row: unknown, path: string[]): unknown {
  let v: unknown = row;
  for (const p of path) {
    if (v === null || typeof v !== 'object') throw new StrataError(`template: can't evaluate field ${p}`);
    if (!(p in (v as object))) throw new StrataError(`template: can't evaluate field ${p} in type ${Array.isArray(v) ? 'slice' : 'object'}`);
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/** Go's truth: false, 0, nil and empty strings, slices and maps are false. */
function truth(value: unknown): boolean {
  const v = plain(value);
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return !!v;
}

/** fmt's verbs that --format users write: %s %v %d %q %f %%, with flags and width. */
function sprintf(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([svdqftx%])/g, (_all, flags: string, width: string, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let s = verb === 'q' ? JSON.stringify(str(a)) : verb === 'f' ? Number(a).toFixed(prec === undefined ? 6 : Number(prec))
      : verb === 'x' ? Number(a).toString(16) : verb === 'd' ? str(plain(a)) : str(a);
    if (prec !== undefined && verb === 's') s = s.slice(0, Number(prec));
    const w = Number(width || 0);
    return flags.includes('-') ? s.padEnd(w) : s.padStart(w, flags.includes('0') && verb !== 's' ? '0' : ' ');
  }) + (i < args.length ? `%!(EXTRA ${args.slice(i).map(str).join(', ')})` : '');
}

const cmp = (x: unknown, y: unknown): number => {
  const [a, b] = [plain(x), plain(y)];
  return typeof a === 'number' && typeof b === 'number' ? a - b : compareBytes(String(a), String(b));
};

const FUNCS: Record<string, (...a: unknown[]) => unknown> = {
  json: (v) => goJson(v),
  upper: (v) => str(v).toUpperCase(),
  lower: (v) => str(v).toLowerCase(),
  title: (v) => str(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  truncate: (v, n) => [...str(v)].slice(0, Number(n)).join(''),
  pad: (v, l, r) => `${' '.repeat(Number(l))}${str(v)}${' '.repeat(Number(r))}`,
  split: (v, sep) => str(v).split(String(sep)),
  join: (v, sep) => (Array.isArray(v) ? v.map(str).join(String(sep ?? '')) : str(v)),
  print: (...a) => a.map(str).join(''),
  println: (...a) => `${a.map(str).join(' ')}\n`,
  printf: (f, ...a) => sprintf(String(f), a),
  len: (x) => {
    const v = plain(x);
    if (Array.isArray(v) || typeof v === 'string') return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw new StrataError(`template: error calling len: len of type ${typeof v}`);
  },
  index: (v, ...keys) => keys.reduce((x: unknown, k) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[String(k)] : undefined), v),
  slice: (v, from, to) => (Array.isArray(v) || typeof v === 'string' ? v.slice(Number(from ?? 0), to === undefined ? undefined : Number(to)) : v),
  eq: (a, ...bs) => bs.some((b) => plain(a) === plain(b)),
  ne: (a, b) => plain(a) !== plain(b),
  lt: (a, b) => cmp(a, b) < 0,
  le: (a, b) => cmp(a, b) <= 0,
  gt: (a, b) => cmp(a, b) > 0,
  ge: (a, b) => cmp(a, b) >= 0,
  not: (v) => !truth(v),
  and: (...a) => a.find((v) => !truth(v)) ?? a[a.length - 1],
  or: (...a) => a.find((v) => truth(v)) ?? a[a.length - 1],
};

type Scope = { dot: unknown; vars: Map<string, unknown> };

function evalArg(a: Arg, s: Scope): unknown {
  switch (a.kind) {
    case 'literal': return a.value;
    case 'pipe': return a.path ? lookup(evalPipe(a.pipe, s), a.path) : evalPipe(a.pipe, s);
    case 'ident': return FUNCS[a.name]();
    case 'field': {
      if (a.base === undefined) return lookup(s.dot, a.path);
      if (!s.vars.has(a.base)) throw new StrataError(`template parsing error: template: :1: undefined variable "$${a.base}"`);
      return lookup(s.vars.get(a.base), a.path);
    }
  }
}

function evalPipe(p: Pipeline, s: Scope): unknown {
  let value: unknown;
  p.commands.forEach((cmd, i) => {
    const [head, ...rest] = cmd;
    const passed = i > 0 ? [value] : [];
    if (head.kind === 'ident') value = FUNCS[head.name](...rest.map((a) => evalArg(a, s)), ...passed);
    else if (rest.length) {
      // .Label "k" on a row: a method of Docker's formatting context
      const fn = evalArg(head, s);
      if (typeof fn !== 'function') throw new StrataError(`template: can't give argument to non-function ${head.kind === 'field' ? `.${head.path.join('.')}` : 'value'}`);
      value = (fn as (...a: unknown[]) => unknown)(...rest.map((a) => evalArg(a, s)), ...passed);
    } else value = evalArg(head, s);
  });
  for (const name of p.decl) s.vars.set(name, value);
  return value;
}

function exec(nodes: TNode[], s: Scope): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'action') {
      const v = evalPipe(n.pipe, s);
      if (!n.pipe.decl.length) out += str(v);
    } else if (n.kind === 'if' || n.kind === 'with') {
      const v = evalPipe({ ...n.pipe, decl: [] }, s);
      const inner: Scope = { dot: n.kind === 'with' ? v : s.dot, vars: new Map(s.vars) };
      out += exec(truth(v) ? n.body : n.otherwise, truth(v) ? inner : s);
    } else {
      const v = evalPipe({ ...n.pipe, decl: [] }, s);
      const entries: [unknown, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x])
        : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]) : [];
      if (v !== null && v !== undefined && (typeof v !== 'object' || v instanceof GoStringer)) throw new StrataError(`template: range can't iterate over ${str(v)}`);
      if (!entries.length) out += exec(n.otherwise, s);
      for (const [k, x] of entries) {
        const vars = new Map(s.vars);
        const [kName, vName] = n.pipe.decl.length === 2 ? n.pipe.decl : [undefined, n.pipe.decl[0]];
        if (kName !== undefined) vars.set(kName, k);
        if (vName !== undefined) vars.set(vName, x);
        out += exec(n.body, { dot: x, vars });
      }
    }
  }
  return out;
}

export function parseTemplate(format: string): Template {
  let f = format;
  const table = f.startsWith('table');
  if (table) f = f.slice('table'.length);
  f = f.trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const nodes = parseTree(f, (name) => Object.hasOwn(FUNCS, name));
  const render = (row: object): string => exec(nodes, { dot: row, vars: new Map([['', row]]) });
  // Docker renders the header from a context whose fields are their headings; the first field
  // of each top-level action stands for it here.
  const firstField = (args: Arg[]): string[] | undefined => {
    for (const a of args) {
      if (a.kind === 'field' && a.base === undefined) return a.path;
      if (a.kind === 'pipe') { const p = firstField(a.pipe.commands.flat()); if (p) return p; }
    }
    return undefined;
  };
  const header = (headings: Record<string, string>): string =>
    nodes.map((n) => {
      if (n.kind === 'text') return n.text;
      if (n.kind !== 'action') return '';
      const name = firstField(n.pipe.commands.flat())?.join('.');
      return name === undefined ? '' : headings[name] ?? name.toUpperCase();
    }).join('');
  return { table, render, header };
}

/** Docker's --format shorthands: none or "table" is the command's default table, "json" one JSON object a line. */
export function resolveFormat(format: string | undefined, defaultTable: string): string {
  if (format === undefined || format === '' || format === 'table') return defaultTable;
  return format === 'json' ? '{{json .}}' : format;
}

/** Renders rows with a user format (Docker's rules: table => header + aligned columns). */
export function formatRows(format: string, rows: object[], headings: Record<string, string>): string {
  const t = parseTemplate(format);
  const lines = rows.map((r) => t.render(r));
  if (!t.table) return lines.map((l) => `${l}\n`).join('');
  return alignTable([t.header(headings), ...lines].map((l) => `${l}\n`).join(''));
}
