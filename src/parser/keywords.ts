// The Dockerfile instructions BuildKit knows, and how each one splits its arguments
// (BuildKit parser.go's dispatch table).

/** The argument splitting rule of an instruction (BuildKit's line parser functions). */
export type ArgumentRule =
  | 'maybeJson' // RUN, CMD, ENTRYPOINT, SHELL: JSON array, else the whole text
  | 'maybeJsonList' // ADD, COPY, VOLUME: JSON array, else whitespace-separated words
  | 'whitespace' // FROM, EXPOSE: whitespace-separated words
  | 'string' // MAINTAINER, STOPSIGNAL, USER, WORKDIR: the whole text
  | 'nameValue' // ENV, LABEL: name/value/separator triples
  | 'nameOrNameValue' // ARG: quoted words
  | 'health' // HEALTHCHECK: a type word, then like maybeJson
  | 'subCommand'; // ONBUILD: a nested instruction

export const ARGUMENT_RULES: Readonly<Record<string, ArgumentRule>> = {
  ADD: 'maybeJsonList',
  ARG: 'nameOrNameValue',
  CMD: 'maybeJson',
  COPY: 'maybeJsonList',
  ENTRYPOINT: 'maybeJson',
  ENV: 'nameValue',
  EXPOSE: 'whitespace',
  FROM: 'whitespace',
  HEALTHCHECK: 'health',
  LABEL: 'nameValue',
  MAINTAINER: 'string',
  ONBUILD: 'subCommand',
  RUN: 'maybeJson',
  SHELL: 'maybeJson',
  STOPSIGNAL: 'string',
  USER: 'string',
  VOLUME: 'maybeJsonList',
  WORKDIR: 'string',
};

export const KEYWORDS: readonly string[] = Object.keys(ARGUMENT_RULES);

const byLowerCase = new Map(KEYWORDS.map((k) => [k.toLowerCase(), k]));

/** The upper-case keyword for a command word as written (keywords are case-insensitive). */
export function lookupKeyword(word: string): string | undefined {
  const found = byLowerCase.get(word.toLowerCase());
  // Go's simple case mapping lowers U+0130 (İ) to a plain "i"; JavaScript's full mapping does not.
  return found ?? (word.includes('\u0130') ? byLowerCase.get(word.replace(/\u0130/g, 'i').toLowerCase()) : undefined);
}

/** Instructions whose (shell-form) arguments may open heredocs. */
export const HEREDOC_KEYWORDS: ReadonlySet<string> = new Set(['ADD', 'COPY', 'RUN']);
