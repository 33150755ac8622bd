// `strata parse [-f FILE | FILE] [--json]`: parse a Dockerfile and print what the parser
// sees — the parse tree as JSON, or one line per instruction with its source lines.
import fs from 'node:fs/promises';
import type { Argv } from 'yargs';
import { StrataError } from '../errors.js';
import { parse, ParseError, renderInstruction, type Dockerfile } from '../parser/index.js';
import type { RegisterCommands } from './command.js';

interface ParseArgs {
  path?: string;
  file?: string;
  json?: boolean;
}

export const register: RegisterCommands = (cli: Argv) =>
  cli.command<ParseArgs>(
    'parse [path]',
    'Parse a Dockerfile and print its instructions',
    (y) =>
      y
        .positional('path', { type: 'string', describe: 'The Dockerfile (default ./Dockerfile); - reads stdin' })
        .option('file', { alias: 'f', type: 'string', describe: 'The Dockerfile (same as PATH)' })
        .option('json', { type: 'boolean', describe: 'Print the parse tree as JSON' }),
    async (argv) => {
      // yargs hands a positional "-" over as ""; no file is called "" anyway.
      const path = argv.path === '' ? '-' : argv.path;
      if (path !== undefined && argv.file !== undefined && path !== argv.file) {
        throw new StrataError('give the Dockerfile either as -f FILE or as PATH, not both');
      }
      const file = argv.file ?? path ?? 'Dockerfile';
      const text = await readDockerfile(file);
      let dockerfile: Dockerfile;
      try {
        dockerfile = parse(text);
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        process.stderr.write(formatParseError(file === '-' ? '<stdin>' : file, text, err));
        process.exitCode = 1;
        return;
      }
      const name = file === '-' ? '<stdin>' : file;
      for (const w of dockerfile.warnings ?? []) process.stderr.write(`${name}:${w.line}: warning: ${w.message}\n`);
      process.stdout.write(argv.json ? `${JSON.stringify(dockerfile, null, 2)}\n` : listing(dockerfile));
    },
  );

async function readDockerfile(file: string): Promise<string> {
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new StrataError(`reading Dockerfile "${file}": ${why}`);
  }
}

/** `L3-5    (run "make")`, heredoc bodies summarised below their instruction. */
export function listing(dockerfile: Dockerfile): string {
  const label = (start: number, end: number) => (start === end ? `L${start}` : `L${start}-${end}`);
  const width = Math.max(0, ...dockerfile.instructions.map((i) => label(i.startLine, i.endLine).length)) + 2;
  let out = '';
  for (const d of dockerfile.directives) out += `# ${d.name}=${d.value}\n`;
  for (const instruction of dockerfile.instructions) {
    out += `${label(instruction.startLine, instruction.endLine).padEnd(width)}${renderInstruction(instruction)}\n`;
    const heredocs = instruction.onbuild?.heredocs ?? instruction.heredocs;
    for (const h of heredocs) {
      const lines = h.content === '' ? 0 : h.content.split('\n').length - (h.content.endsWith('\n') ? 1 : 0);
      const fd = h.fileDescriptor === undefined ? '' : String(h.fileDescriptor);
      const quote = h.expand ? '' : "'";
      out += `${' '.repeat(width)}  ${fd}<<${h.chomp ? '-' : ''}${quote}${h.name}${quote} (${lines} line${lines === 1 ? '' : 's'})\n`;
    }
  }
  return out;
}

const MAX_SHOWN = 120; // characters of the offending line shown around the column

/** `FILE:LINE:COL: message`, then the offending line and a caret under the column. */
export function formatParseError(file: string, text: string, err: ParseError): string {
  let line = sourceLine(text, err.line);
  let column = Math.max(1, err.column);
  if (line.length > MAX_SHOWN) {
    const start = Math.max(0, Math.min(column - 1 - MAX_SHOWN / 2, line.length - MAX_SHOWN));
    line = line.slice(start, start + MAX_SHOWN);
    column -= start;
  }
  // Keep tabs under tabs so the caret lines up however the terminal expands them.
  const pad = line.slice(0, column - 1).replace(/[^\t]/g, ' ');
  return `${file}:${err.line}:${err.column}: ${err.message}\n${line}\n${pad}^\n`;
}

function sourceLine(text: string, lineNumber: number): string {
  let start = 0;
  for (let n = 1; n < lineNumber; n++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return '';
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  let line = text.slice(start, end < 0 ? text.length : end).replace(/\r+$/, '');
  if (lineNumber === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
  return line;
}
