// Errors of the build engine. Anything tied to an instruction carries its Dockerfile line;
// the message is formatted once here, the way the CLI prints it: `Dockerfile:LINE: why`.
import { StrataError } from '../errors.js';
import { isDamage } from '../store/index.js';

/**
 * A build failure: exit code 1 (as `docker build`), with the Dockerfile line when known; 125
 * when its cause is damage found in the store (strata's own error, as every command reports it).
 */
export class BuildError extends StrataError {
  override readonly name: string = 'BuildError';
  /** The Dockerfile lines at the location, marked (sourceSnippet), for the CLI to show above the message. */
  snippet?: string;
  constructor(
    readonly detail: string,
    readonly location?: { file: string; line: number; column?: number },
    options?: { cause?: unknown; exitCode?: number },
  ) {
    const at = location ? `${location.file}:${location.line}${location.column ? `:${location.column}` : ''}: ` : '';
    super(`${at}${detail}`, options?.exitCode ?? (isDamage(options?.cause) ? 125 : 1), options);
  }
}

/**
 * BuildKit's view of the failing instruction: its lines marked ">>>" between a little context,
 * under a "FILE:LINE" heading; with a column, a caret under it (as `strata parse` shows it).
 */
export function sourceSnippet(text: string, file: string, line: number, endLine = line, column?: number): string {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (line < 1 || line > lines.length) return '';
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, Math.max(endLine, line) + 1);
  const width = String(last).length;
  const rule = '-'.repeat(20);
  const out = [`${file}:${line}${line === endLine ? '' : `-${endLine}`}`, rule];
  for (let n = first; n <= last; n++) {
    const marked = n >= line && n <= endLine;
    if (n === last && lines[n - 1] === '' && !marked) continue;
    out.push(`${String(n).padStart(width + 3)} | ${marked ? '>>>' : '   '} ${lines[n - 1]}`);
    if (column && n === line) out.push(`${' '.repeat(width + 3)} |     ${lines[n - 1].slice(0, column - 1).replace(/[^\t]/g, ' ')}^`);
  }
  out.push(rule);
  return `${out.join('\n')}\n`;
}

/** Source position of an instruction, for messages. */
export interface SourceRef {
  file: string;
  line: number;
}

export const errors = {
  unknownFlag: (keyword: string, flag: string) => `unknown flag: ${flag} for ${keyword.toLowerCase()}`,
  flagNeedsValue: (flag: string) => `missing a value on flag: ${flag}`,
  flagTakesNoValue: (flag: string) => `boolean flag "${flag}" does not take a value`,
  badArgCount: (keyword: string, want: string) => `${keyword} requires ${want}`,
  unknownStage: (name: string) => `stage "${name}" not found`,
  stageCycle: (names: string[]) => `circular dependency between stages: ${names.map((n) => `"${n}"`).join(' -> ')}`,
  noSuchTarget: (name: string) => `target stage "${name}" could not be found`,
  /** A source a COPY, an ADD or a RUN --mount names that the context (or stage) lacks. */
  copyNotFound: (kind: string, src: string) => `${kind === 'RUN' ? 'RUN --mount' : kind} failed: file not found in build context: "${src}"`,
  noFrom: () => 'no build stage in current context',
  badStageName: (name: string) => `invalid name for build stage: "${name}", name can't start with a number or contain symbols`,
  duplicateStage: (name: string) => `duplicate stage name "${name}"`,
} as const;
