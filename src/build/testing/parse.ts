// For the build engine's unit tests: the real parser, or, while it is still a placeholder,
// a naive line parser good enough for simple fixtures (no heredocs, no escape directive).
import { parse } from '../../parser/index.js';
import type { Dockerfile, Instruction } from '../../parser/types.js';

export function parseForTest(text: string): Dockerfile {
  try {
    return parse(text);
  } catch (err) {
    if (!/not implemented/.test((err as Error).message)) throw err;
    return naiveParse(text);
  }
}

function naiveParse(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let body = lines[i];
    if (/^\s*(#|$)/.test(body)) continue;
    while (body.endsWith('\\') && i + 1 < lines.length) body = body.slice(0, -1) + lines[++i];
    instructions.push(naiveInstruction(body.trim(), start + 1, i + 1));
  }
  return { directives: [], escapeToken: '\\', instructions };
}

function naiveInstruction(body: string, startLine: number, endLine: number): Instruction {
  const m = /^(\S+)\s*(.*)$/s.exec(body)!;
  const keyword = m[1].toUpperCase();
  let rest = m[2];
  const flags: string[] = [];
  while (keyword !== 'ONBUILD' && /^--\S/.test(rest)) {
    const f = /^(\S+)\s*(.*)$/s.exec(rest)!;
    flags.push(f[1]);
    rest = f[2];
  }
  const ins: Instruction = { keyword, flags, args: [], json: false, heredocs: [], startLine, endLine, original: body };
  if (keyword === 'ONBUILD') {
    ins.onbuild = naiveInstruction(rest, startLine, endLine);
    return ins;
  }
  if (rest.startsWith('[')) {
    try {
      const arr = JSON.parse(rest) as unknown;
      if (Array.isArray(arr) && arr.every((x) => typeof x === 'string')) return { ...ins, args: arr as string[], json: true };
    } catch { /* shell form */ }
  }
  const words = splitWords(rest);
  if (keyword === 'ENV' || keyword === 'LABEL') {
    if (!words[0]?.includes('=')) ins.args = [words[0], words.slice(1).join(' '), ''];
    else ins.args = words.flatMap((w) => { const eq = w.indexOf('='); return [w.slice(0, eq), w.slice(eq + 1), '=']; });
  } else if (['ARG', 'COPY', 'ADD', 'EXPOSE', 'VOLUME', 'FROM'].includes(keyword)) {
    ins.args = words;
  } else if (keyword === 'HEALTHCHECK') {
    ins.args = words.length > 1 ? [words[0], rest.slice(words[0].length).trim()] : words;
  } else {
    ins.args = rest ? [rest] : [];
  }
  return ins;
}

function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      cur += ch;
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[++i];
    } else if (/\s/.test(ch)) {
      if (cur) out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur) out.push(cur);
  return out;
}
