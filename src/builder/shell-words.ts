// Docker's word processing for instruction arguments, applied with the build's variables:
// a thin adapter over the parser's expansion (BuildKit's ProcessWord rules). RUN, CMD and
// ENTRYPOINT are never processed here: the container's shell does that.
import { expand, ExpansionError } from '../parser/index.js';

export type Vars = ReadonlyMap<string, string | undefined>;

export interface Processed {
  value: string;
  /** Names of the variables the word referred to (set or not). */
  used: string[];
}

/** Processes one word; throws an Error with a one-line message on a malformed word. */
export function processWord(word: string, vars: Vars, escape = '\\'): Processed {
  const defined = new Map<string, string>();
  for (const [k, v] of vars) if (v !== undefined) defined.set(k, v);
  try {
    const r = expand(word, defined, { escapeToken: escape === '`' ? '`' : '\\' });
    return { value: r.word, used: [...r.matched, ...r.unmatched] };
  } catch (err) {
    if (err instanceof ExpansionError) throw new Error(err.message);
    throw err;
  }
}
