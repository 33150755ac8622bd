// The raw syntax tree the parser produces: one Instruction per Dockerfile instruction,
// with the values exactly as the reference parser (BuildKit) splits them. Typed,
// per-instruction views are built on top of this by the build planner.

export interface Directive {
  /** Lower-case directive name: "syntax", "escape", "check", ... */
  name: string;
  value: string;
}

export interface Heredoc {
  /** The delimiter word, without quotes or the `-` of `<<-`. */
  name: string;
  /** The body, every line ending in "\n" (tabs stripped for `<<-`). */
  content: string;
  /** False when the delimiter was quoted: no variable expansion in the body. */
  expand: boolean;
  /** True for `<<-`: leading tabs were stripped. */
  chomp: boolean;
  /** File descriptor prefix (`3<<EOF`), when given. */
  fileDescriptor?: number;
}

export interface Instruction {
  /** Upper-case keyword: "FROM", "RUN", ... */
  keyword: string;
  /** Flags as written, in order: "--from=build", "--link". */
  flags: string[];
  /** Raw argument values as the reference parser splits them. */
  args: string[];
  /** True when the arguments came from a JSON (exec-form) array. */
  json: boolean;
  /** Heredocs the instruction opens, in order (for ONBUILD they are on the trigger). */
  heredocs: Heredoc[];
  /** For ONBUILD: the trigger instruction (args is then empty). */
  onbuild?: Instruction;
  /** 1-based first and last source line of the instruction (continuations and heredocs included). */
  startLine: number;
  endLine: number;
  /** The instruction's source text as written (continuation lines joined with "\n"). */
  original: string;
}

/** Something BuildKit accepts but warns about (today: blank lines inside a continuation). */
export interface ParseWarning {
  line: number;
  message: string;
}

export interface Dockerfile {
  directives: Directive[];
  /** The escape token in force: "\\" or "`". */
  escapeToken: string;
  instructions: Instruction[];
  /** Present only when there is something to warn about. */
  warnings?: ParseWarning[];
}
