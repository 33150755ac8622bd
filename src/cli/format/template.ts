// The subset of Go's text/template that `docker ... --format` users write: text with
// {{.Field}}, {{.A.B}}, {{json .}}, {{json .Field}}, {{upper .F}}, {{lower .F}}, {{title .F}},
// {{truncate .F N}}, {{join .F ", "}}, {{println}}, and the `table` prefix (a header row and
// aligned columns). `\t` and `\n` in the format are real tabs and newlines, as in Docker.
import { StrataError } from '../../errors.js';
import { alignTable } from './table.js';

type Arg = { kind: 'field'; path: string[] } | { kind: 'string'; value: string } | { kind: 'number'; value: number };
type Node = { kind: 'text'; text: string } | { kind: 'call'; fn: string; args: Arg[] };

const FUNCS = new Set(['json', 'upper', 'lower', 'title', 'truncate', 'join', 'println', 'print']);

function parseArgs(src: string, whole: string): Arg[] {
  const args: Arg[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d+)|(\.[A-Za-z0-9_.]*))/y;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw new StrataError(`template parsing error: bad action "{{${whole}}}"`);
    if (m[1] !== undefined) args.push({ kind: 'string', value: JSON.parse(`"${m[1]}"`) as string });
    else if (m[2] !== undefined) args.push({ kind: 'number', value: Number(m[2]) });
    else args.push({ kind: 'field', path: m[3] === '.' ? [] : m[3].slice(1).split('.') });
    pos = re.lastIndex;
  }
  return args;
}

function parse(format: string): Node[] {
  const nodes: Node[] = [];
  const re = /\{\{-?\s*(.*?)\s*-?\}\}/gs;
  let last = 0;
  for (const m of format.matchAll(re)) {
    if (m.index! > last) nodes.push({ kind: 'text', text: format.slice(last, m.index) });
    last = m.index! + m[0].length;
    const body = m[1];
    const fn = /^[a-z]+/.exec(body)?.[0];
    if (fn) {
      if (!FUNCS.has(fn)) throw new StrataError(`template parsing error: function "${fn}" not defined`);
      nodes.push({ kind: 'call', fn, args: parseArgs(body.slice(fn.length), body) });
    } else {
      nodes.push({ kind: 'call', fn: 'value', args: parseArgs(body, body) });
    }
  }
  if (last < format.length) nodes.push({ kind: 'text', text: format.slice(last) });
  return nodes;
}

/** JSON as Go's encoding/json writes it: <, >, & escaped; map keys sorted. */
export function goJson(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return JSON.stringify(sorted(value) ?? null)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
}

function str(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(str).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.entries(v).map(([k, x]) => `${k}:${str(x)}`).join(' ')}]`;
  return String(v);
}

export interface Template {
  /** The format had the `table` prefix. */
  table: boolean;
  render(row: object): string;
  /** The header row: each field replaced by its heading. */
  header(headings: Record<string, string>): string;
}

function lookup(row: object, path: string[], fieldsSeen?: Set<string>): unknown {
  let v: unknown = row;
  for (const p of path) {
    if (v === null || typeof v !== 'object') throw new StrataError(`template: can't evaluate field ${p}`);
    if (!(p in (v as object))) throw new StrataError(`template: can't evaluate field ${p} in type ${Array.isArray(v) ? 'slice' : 'object'}`);
    v = (v as Record<string, unknown>)[p];
  }
  fieldsSeen?.add(path.join('.'));
  return v;
}

export function parseTemplate(format: string): Template {
  let f = format;
  const table = f.startsWith('table');
  if (table) f = f.slice('table'.length);
  f = f.trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const nodes = parse(f);
  const evalArg = (row: object, a: Arg): unknown => (a.kind === 'field' ? lookup(row, a.path) : a.value);
  const render = (row: object): string =>
    nodes.map((n) => {
      if (n.kind === 'text') return n.text;
      const args = n.args.map((a) => evalArg(row, a));
      switch (n.fn) {
        case 'value': return str(args[0]);
        case 'json': return goJson(args[0]);
        case 'upper': return str(args[0]).toUpperCase();
        case 'lower': return str(args[0]).toLowerCase();
        case 'title': return str(args[0]).replace(/\b\w/g, (c) => c.toUpperCase());
        case 'truncate': return [...str(args[0])].slice(0, Number(args[1])).join('');
        case 'join': return Array.isArray(args[0]) ? args[0].map(str).join(String(args[1] ?? '')) : str(args[0]);
        case 'println': return `${args.map(str).join(' ')}\n`;
        default: return args.map(str).join('');
      }
    }).join('');
  const header = (headings: Record<string, string>): string =>
    nodes.map((n) => {
      if (n.kind === 'text') return n.text;
      const field = n.args.find((a) => a.kind === 'field');
      if (!field || field.kind !== 'field') return '';
      const name = field.path.join('.');
      return headings[name] ?? name.toUpperCase();
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
