// Go text/template's syntax as `--format` users write it, parsed into a tree: text, actions
// (pipelines of commands, `|` passing the value on as the last argument), {{if}}/{{else if}}/
// {{else}}, {{range [$k[, $v] :=] ...}}, {{with}}, {{end}}, {{/* comments */}} and `{{-`/`-}}`
// trimming. Evaluation is template.ts's job; errors are Go's words, prefixed as Docker does.
import { StrataError } from '../../errors.js';

export type Arg =
  | { kind: 'field'; path: string[]; base?: string } // .A.B, or $v.A.B when base is "v" ("" is $)
  | { kind: 'literal'; value: unknown }
  | { kind: 'ident'; name: string } // a function name
  | { kind: 'pipe'; pipe: Pipeline; path?: string[] }; // (pipeline), or (pipeline).A.B
export type Command = Arg[];
export interface Pipeline { decl: string[]; commands: Command[] }
export type TNode =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with' | 'range'; pipe: Pipeline; body: TNode[]; otherwise: TNode[] };

const fail = (msg: string): never => { throw new StrataError(`template parsing error: template: :1: ${msg}`); };

/** Splits the format into text and action bodies, applying the trim markers. */
function lex(format: string): ({ text: string } | { action: string })[] {
  const parts: ({ text: string } | { action: string })[] = [];
  let pos = 0;
  while (pos < format.length) {
    const open = format.indexOf('{{', pos);
    if (open < 0) { parts.push({ text: format.slice(pos) }); break; }
    let text = format.slice(pos, open);
    let start = open + 2;
    if (/^-\s/.test(format.slice(start))) { text = text.trimEnd(); start += 1; }
    if (text) parts.push({ text });
    const close = format.indexOf('}}', start);
    if (close < 0) fail('unclosed action');
    let body = format.slice(start, close);
    pos = close + 2;
    if (/\s-$/.test(body)) { body = body.slice(0, -1); pos += format.slice(pos).length - format.slice(pos).trimStart().length; }
    body = body.trim();
    if (body.startsWith('/*')) continue;
    if (!body) fail('missing value for command');
    parts.push({ action: body });
  }
  return parts;
}

const TOKEN = /\s*(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`|(-?\d+(?:\.\d+)?)\b|(\$[A-Za-z0-9_]*)((?:\.[A-Za-z0-9_]+)*)|(\.(?:[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)?)|(true|false|nil)\b|([A-Za-z_][A-Za-z0-9_]*)|(:=|[|(),]))/y;

/** Parses "a b | c (d e)" with an optional "$x, $y :=" declaration in front. */
function parsePipeline(src: string, isFunc: (name: string) => boolean): Pipeline {
  let pos = 0;
  const next = (): RegExpExecArray | undefined => {
    if (/^\s*$/.test(src.slice(pos))) return undefined;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src) ?? fail(`unexpected "${src.slice(pos).trim()}" in command`);
    pos = TOKEN.lastIndex;
    return m;
  };
  const decl: string[] = [];
  const declMatch = /^\s*(\$[A-Za-z0-9_]*)\s*(?:,\s*(\$[A-Za-z0-9_]*)\s*)?:=/.exec(src);
  if (declMatch) {
    decl.push(...[declMatch[1], declMatch[2]].filter((v): v is string => !!v).map((v) => v.slice(1)));
    pos = declMatch[0].length;
  }
  const pipe = (closing?: string): Pipeline => {
    const commands: Command[] = [[]];
    for (let m = next(); m; m = next()) {
      const cmd = commands[commands.length - 1];
      if (m[1] !== undefined) cmd.push({ kind: 'literal', value: JSON.parse(`"${m[1]}"`) });
      else if (m[2] !== undefined) cmd.push({ kind: 'literal', value: m[2] });
      else if (m[3] !== undefined) cmd.push({ kind: 'literal', value: Number(m[3]) });
      else if (m[4] !== undefined) cmd.push({ kind: 'field', base: m[4].slice(1), path: m[5] ? m[5].slice(1).split('.') : [] });
      else if (m[6] !== undefined) cmd.push({ kind: 'field', path: m[6] === '.' ? [] : m[6].slice(1).split('.') });
      else if (m[7] !== undefined) cmd.push({ kind: 'literal', value: m[7] === 'true' ? true : m[7] === 'false' ? false : null });
      else if (m[8] !== undefined) {
        if (!isFunc(m[8])) fail(`function "${m[8]}" not defined`);
        cmd.push({ kind: 'ident', name: m[8] });
      }
      else if (m[9] === '|') { if (!cmd.length) fail('missing command before "|"'); commands.push([]); }
      else if (m[9] === '(') {
        const inner = pipe(')');
        // Go's chained field access on a parenthesized pipeline: (index .List 0).Name
        const chained = /\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*/y;
        chained.lastIndex = pos;
        const fields = chained.exec(src);
        if (fields) pos = chained.lastIndex;
        cmd.push({ kind: 'pipe', pipe: inner, ...(fields ? { path: fields[0].slice(1).split('.') } : {}) });
      }
      else if (m[9] === ')' && closing === ')') return { decl: [], commands };
      else fail(`unexpected "${m[9]}" in command`);
    }
    if (closing) fail('unclosed left paren');
    return { decl: [], commands };
  };
  const p = pipe();
  if (p.commands.some((c) => c.length === 0)) fail('missing value for command');
  return { decl, commands: p.commands };
}

/** The format's tree; throws a StrataError on the first syntax error or unknown function. */
export function parseTree(format: string, isFunc: (name: string) => boolean): TNode[] {
  const parts = lex(format);
  let i = 0;
  // Parses nodes up to an {{else ...}} or {{end}}, which it returns for the caller to handle.
  const list = (inside: string | undefined): { nodes: TNode[]; stop: string } => {
    const nodes: TNode[] = [];
    while (i < parts.length) {
      const part = parts[i++];
      if ('text' in part) { nodes.push({ kind: 'text', text: part.text }); continue; }
      const word = /^[a-z]+\b/.exec(part.action)?.[0];
      if (word === 'end' || word === 'else') {
        if (!inside) fail(`unexpected {{${word}}}`);
        return { nodes, stop: part.action };
      }
      if (word === 'if' || word === 'with' || word === 'range') nodes.push(block(word, part.action.slice(word.length)));
      else nodes.push({ kind: 'action', pipe: parsePipeline(part.action, isFunc) });
    }
    if (inside) fail(`unexpected EOF in ${inside}`);
    return { nodes, stop: '' };
  };
  const block = (kind: 'if' | 'with' | 'range', src: string): TNode => {
    const pipe = parsePipeline(src, isFunc);
    const body = list(kind);
    let otherwise: TNode[] = [];
    if (body.stop.startsWith('else')) {
      const rest = body.stop.slice(4).trim();
      if (/^(if|with)\b/.test(rest)) {
        // {{else if x}} is an {{if}} nested in the else branch that shares this block's {{end}}.
        const word = rest.startsWith('if') ? 'if' : 'with';
        otherwise = [block(word, rest.slice(word.length))];
        return { kind, pipe, body: body.nodes, otherwise };
      }
      const tail = list(kind);
      if (!tail.stop.startsWith('end')) fail(`expected end; found {{${tail.stop}}}`);
      otherwise = tail.nodes;
    }
    return { kind, pipe, body: body.nodes, otherwise };
  };
  return list(undefined).nodes;
}
