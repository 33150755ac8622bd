// The parser's one error type and the messages it carries. Messages that BuildKit also
// produces keep BuildKit's wording, so users can search for them; tests reuse these
// factories instead of copying strings.

/**
 * A Dockerfile that cannot be parsed: where and why. `line` and `column` are 1-based; the
 * column counts UTF-16 code units of the physical line (tabs count as one).
 */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  /** Last line of the offending instruction (equal to `line` for single-line problems). */
  readonly endLine: number;
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    options: { endLine?: number } = {},
  ) {
    super(message);
    this.endLine = options.endLine ?? line;
  }
}

export const messages = {
  noInstructions: () => 'file with no instructions',
  emptyContinuation: (startLine: number) =>
    `empty continuation line in the instruction starting on line ${startLine} (empty continuation lines will become errors in a future release)`,
  lineTooLong: () => 'dockerfile line greater than max allowed size of 65535',
  unterminatedHeredoc: () => 'unterminated heredoc',
  duplicateDirective: (name: string) => `only one ${name} parser directive can be used`,
  invalidEscape: (token: string) => `invalid escape token '${token}' does not match \` or \\`,
  unknownInstruction: (word: string, suggestion?: string) =>
    `unknown instruction "${word}"${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
  notStringArray: () => 'when using JSON array syntax, arrays must be comprised of strings only',
  twoArguments: (cmd: string) => `${cmd} must have two arguments`,
  missingEquals: (quotedWord: string) => `Syntax error - can't find = in ${quotedWord}. Must be of the form: name=value`,
  atLeastOneArgument: (cmd: string) => `${cmd} requires at least one argument`,
  exactlyOneArgument: (cmd: string) => `${cmd} requires exactly one argument`,
  noDestination: (cmd: string) =>
    `${cmd} requires at least two arguments, but only one was provided. Destination could not be determined`,
  heredocDestination: (cmd: string) => `${cmd} cannot accept a heredoc as a destination`,
  blankNames: (cmd: string) => `${cmd} names can not be blank`,
  fromArguments: () => 'FROM requires either one or three arguments',
  stageName: (quotedName: string) =>
    `invalid name for build stage: ${quotedName}, name can't start with a number or contain symbols`,
  onbuildChain: () => 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed',
  onbuildTrigger: (cmd: string) => `${cmd} isn't allowed as an ONBUILD trigger`,
  emptyVolume: () => 'VOLUME specified can not be an empty string',
  shellNotJson: () => 'SHELL requires the arguments to be in JSON form',
  healthcheckNone: () => 'HEALTHCHECK NONE takes no arguments',
};

/** Levenshtein distance (two-row dynamic programming; inputs here are short keywords). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The closest option within edit distance 2 (case-insensitive), written in the case the
 * user wrote: BuildKit's util/suggest rule, so `COPPY` suggests `COPY` and `copy` stays lower.
 */
export function suggest(word: string, options: readonly string[]): string | undefined {
  if (word.length > 64) return undefined; // nothing that long is close to a keyword
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const option of options) {
    const distance = levenshtein(lower, option.toLowerCase());
    if (distance < bestDistance) {
      best = option;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  if (word === lower) return best.toLowerCase();
  return best.toUpperCase();
}
