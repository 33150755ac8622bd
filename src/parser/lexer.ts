// Stage two of lexing, and the token source nearley reads: physical lines (from moo, see
// physical.ts) become one token per parser directive and one per instruction. An
// instruction token is a whole logical line — continuation lines joined as BuildKit joins
// them, comment and blank lines inside skipped — with the bodies of the heredocs it opens,
// so the grammar never sees anything finer than an instruction.

import type { Directive, ParseWarning } from './types.js';
import type { HeredocHeader } from './heredoc.js';
import { heredocsFromLine, HeredocSyntaxError } from './heredoc.js';
import { DirectiveReader } from './directives.js';
import { messages, ParseError } from './errors.js';
import { HEREDOC_KEYWORDS, lookupKeyword } from './keywords.js';
import { parseJsonArray } from './line-parsers.js';
import { physicalLines, type PhysicalLine } from './physical.js';
import { splitCommand } from './split.js';
import { trimLeftGoSpace, trimNewline, utf8Length } from './text.js';

/** Where a stretch of an instruction's logical text came from. */
export interface SourcePiece {
  /** Offset in the logical text where this piece starts. */
  offset: number;
  line: number;
  /** 1-based column of the piece's first character in its physical line. */
  column: number;
}

export interface HeredocBody {
  header: HeredocHeader;
  /** The body lines as read, line endings included. */
  content: string;
}

/** One instruction as the lexer hands it to the grammar. */
export interface LogicalLine {
  /** The instruction with continuations joined (BuildKit's Node.Original). */
  text: string;
  pieces: SourcePiece[];
  startLine: number;
  endLine: number;
  /** The source lines startLine..endLine, joined with "\n". */
  original: string;
  heredocs: HeredocBody[];
  escapeToken: string;
  /** Reject unknown instructions and what BuildKit's instruction layer rejects (see ParseOptions). */
  strict: boolean;
}

export type DockerfileToken =
  | { type: 'directive'; value: Directive; text: string; offset: number; line: number; col: number }
  | { type: 'instruction'; value: LogicalLine; text: string; offset: number; line: number; col: number };

const MAX_LINE_BYTES = 65535; // bufio.Scanner's limit in BuildKit

/** The 1-based line and column of an offset into an instruction's logical text. */
export function locate(pieces: readonly SourcePiece[], offset: number): { line: number; column: number } {
  let piece = pieces[0]!;
  for (const p of pieces) {
    if (p.offset > offset) break;
    piece = p;
  }
  return { line: piece.line, column: piece.column + (offset - piece.offset) };
}

/**
 * A nearley lexer (reset/next/save/formatError/has). Errors are kept in `error` and end the
 * token stream, because nearley would rewrap anything thrown from next() in a plain Error.
 */
export class DockerfileLexer {
  constructor(private readonly strict = true) {}

  escapeToken = '\\';
  error: ParseError | undefined;
  /** Number of the last physical line read. */
  lastLine = 0;
  readonly warnings: ParseWarning[] = [];
  private source = '';
  private bom = false;
  private lines = physicalLines('');
  private directives = new DirectiveReader();

  reset(chunk: string): void {
    this.bom = chunk.charCodeAt(0) === 0xfeff;
    this.source = this.bom ? chunk.slice(1) : chunk;
    this.lines = physicalLines(this.source);
    this.directives = new DirectiveReader();
    this.escapeToken = '\\';
    this.error = undefined;
    this.lastLine = 0;
  }

  next(): DockerfileToken | undefined {
    if (this.error) return undefined;
    try {
      return this.read();
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.error = err;
      return undefined;
    }
  }

  save(): Record<string, never> {
    return {};
  }

  formatError(token: { type?: string; line?: number }): string {
    return `unexpected ${token.type ?? 'token'} on line ${token.line ?? this.lastLine}`;
  }

  has(type: string): boolean {
    return type === 'directive' || type === 'instruction';
  }

  private take(): PhysicalLine | undefined {
    const line = this.lines.next();
    if (!line) return undefined;
    this.lastLine = line.line;
    if (line.text.length > MAX_LINE_BYTES / 3) {
      const content = line.text.endsWith('\n') ? line.text.slice(0, -1) : line.text;
      const bytes = utf8Length(content) + (this.bom && line.line === 1 ? 3 : 0);
      if (bytes > MAX_LINE_BYTES) throw new ParseError(messages.lineTooLong(), line.line, 1);
    }
    return line;
  }

  private read(): DockerfileToken | undefined {
    for (let first = this.take(); first; first = this.take()) {
      if (first.type === 'blank') {
        this.directives.finish();
        continue;
      }
      const raw = trimNewline(first.text);
      const trimmed = trimLeftGoSpace(raw);
      if (first.type === 'comment') {
        const directive = this.directive(trimmed, first.line);
        if (directive) return { type: 'directive', value: directive, text: raw, offset: first.offset, line: first.line, col: 1 };
        continue;
      }
      this.directives.finish();
      return this.instruction(first, raw, trimmed);
    }
    return undefined;
  }

  private directive(line: string, lineNumber: number): Directive | undefined {
    let directive: Directive | undefined;
    try {
      directive = this.directives.read(line);
    } catch (err) {
      throw new ParseError((err as Error).message, lineNumber, 1);
    }
    if (directive?.name === 'escape') {
      if (directive.value !== '\\' && directive.value !== '`') throw new ParseError(messages.invalidEscape(directive.value), lineNumber, 1);
      this.escapeToken = directive.value;
    }
    return directive;
  }

  /** Strips a trailing escape token (and blanks after it) that continues the line. */
  private continuation(line: string): { text: string; continues: boolean } {
    let end = line.length;
    while (end > 0 && (line.charCodeAt(end - 1) === 0x20 || line.charCodeAt(end - 1) === 0x09)) end--;
    const escape = this.escapeToken.charCodeAt(0);
    if (end === 0 || line.charCodeAt(end - 1) !== escape) return { text: line, continues: false };
    // An escaped escape token ("\\" at the end) is a literal, not a continuation.
    if (end >= 2 && line.charCodeAt(end - 2) === escape) return { text: line, continues: false };
    return { text: line.slice(0, end - 1), continues: true };
  }

  private instruction(first: PhysicalLine, raw: string, trimmed: string): DockerfileToken {
    const startLine = first.line;
    const leading = raw.length - trimmed.length;
    const pieces: SourcePiece[] = [{ offset: 0, line: startLine, column: leading + 1 }];
    let { text, continues } = this.continuation(trimmed);
    let endLine = startLine;
    let endOffset = first.offset + raw.length;
    let blankSeen = false;
    while (continues) {
      const next = this.take();
      if (!next) break;
      endLine = next.line;
      const line = trimNewline(next.text);
      endOffset = next.offset + line.length;
      if (next.type !== 'text') {
        // Comment and blank lines inside a continuation are skipped; BuildKit warns about blank ones.
        if (next.type === 'blank' && !blankSeen) {
          blankSeen = true;
          this.warnings.push({ line: next.line, message: messages.emptyContinuation(startLine) });
        }
        continue;
      }
      const piece = this.continuation(line);
      pieces.push({ offset: text.length, line: next.line, column: 1 });
      text += piece.text;
      continues = piece.continues;
    }
    const heredocs: HeredocBody[] = [];
    for (const header of this.heredocHeaders(text, pieces)) {
      let content = '';
      for (;;) {
        const next = this.take();
        if (!next) {
          const at = locate(pieces, header.offset);
          throw new ParseError(messages.unterminatedHeredoc(), at.line, at.column, { endLine: this.lastLine });
        }
        endLine = next.line;
        let candidate = trimNewline(next.text);
        endOffset = next.offset + candidate.length;
        if (header.chomp) candidate = candidate.replace(/^\t+/, '');
        if (candidate === header.name) break;
        content += next.text;
      }
      heredocs.push({ header, content });
    }
    const startOffset = first.offset + leading;
    let original = this.source.slice(startOffset, endOffset);
    if (original.includes('\r')) original = original.split('\n').map(trimNewline).join('\n');
    const value: LogicalLine = { text, pieces, startLine, endLine, original, heredocs, escapeToken: this.escapeToken, strict: this.strict };
    return { type: 'instruction', value, text: original, offset: startOffset, line: startLine, col: leading + 1 };
  }

  /**
   * The heredocs this instruction opens: only RUN, COPY and ADD in shell form (also as an
   * ONBUILD trigger), and only when "<<" appears at all. An instruction that is invalid is
   * left for the grammar's builder to reject with the right message.
   */
  private heredocHeaders(text: string, pieces: SourcePiece[]): HeredocHeader[] {
    if (!text.includes('<<')) return [];
    let command = splitCommand(text);
    let keyword = lookupKeyword(command.command);
    if (keyword === 'ONBUILD' && command.rest !== '') {
      command = splitCommand(command.rest);
      keyword = lookupKeyword(command.command);
    }
    if (!keyword || !HEREDOC_KEYWORDS.has(keyword) || command.rest === '') return [];
    const json = parseJsonArray(command.rest);
    if (json.ok || json.notStrings) return [];
    try {
      return heredocsFromLine(text);
    } catch (err) {
      if (!(err instanceof HeredocSyntaxError)) throw err;
      const at = locate(pieces, 0);
      throw new ParseError(err.message, at.line, at.column, { endLine: pieces[pieces.length - 1]!.line });
    }
  }
}
