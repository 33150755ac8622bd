// A plain command line parsed without yargs. Loading yargs and letting it parse cost every
// command some 30-40 ms of CPU (its modules, its command and option machinery, the code cache
// that holds them); a plain line (`ps -a`, `rm -f c1 c2`, `inspect --format '{{.Id}}' c`) does
// not need it. The commands are not declared twice: each module's `register` runs against a
// recorder that takes the subset of yargs's API strata's commands use (command, option,
// positional, parserConfiguration...), and the line is parsed into the very object yargs would
// hand the command's handler. Whatever this parser does not know for sure (help, an unknown or
// ambiguous flag, a missing value, a method the recorder does not model, anything yargs would
// refuse) gives undefined: main.ts then lets yargs parse the line, so the two never disagree on
// what a line means or on the error it gets (plain-args.test.ts holds them side by side).
import type { Argv } from 'yargs';
import type { RegisterCommands } from './command.js';

type Handler = (argv: Record<string, unknown>) => unknown;

interface OptionSpec {
  type?: 'boolean' | 'string' | 'number';
  alias?: string | string[];
  array?: boolean;
  default?: unknown;
  choices?: readonly unknown[];
  demandOption?: boolean | string;
}

interface Positional {
  name: string;
  required: boolean;
  variadic: boolean;
}

interface CommandSpec {
  names: string[];
  positionals: Positional[];
  builder?: (y: Argv) => Argv;
  handler?: Handler;
  /** Declared in a way this parser does not model: a line naming it goes to yargs. */
  opaque: boolean;
}

/** Option keys that only change help output. */
const DISPLAY_ONLY = new Set(['describe', 'desc', 'description', 'hidden', 'hide', 'group', 'deprecated']);
const MODELLED = new Set(['type', 'alias', 'array', 'default', 'choices', 'demandOption', ...DISPLAY_ONLY]);
/** Builder methods that change nothing a plain line's parse depends on. */
const INERT = new Set(['usage', 'example', 'epilog', 'epilogue', 'help', 'strict', 'wrap', 'describe']);

/** What `register` declared at one level of the command tree. */
class Recorder {
  readonly commands: CommandSpec[] = [];
  readonly options = new Map<string, OptionSpec>();
  readonly positionalSpecs = new Map<string, OptionSpec>();
  greedyArrays = true;
  /** Set when a builder used what this parser does not model: the line goes to yargs. */
  unsupported = false;

  /** The recorder as the Argv the command modules are typed against (unknown methods mark it unsupported). */
  asArgv(): Argv {
    const proxy: Argv = new Proxy(this, {
      get: (target, prop) => {
        if (prop === 'command') return (...args: unknown[]) => (target.command(args), proxy);
        if (prop === 'option' || prop === 'options') return (name: unknown, spec?: unknown) => (target.option(name, spec), proxy);
        if (prop === 'positional') return (name: string, spec: OptionSpec) => (target.positional(name, spec), proxy);
        if (prop === 'parserConfiguration') return (config: Record<string, unknown>) => (target.configure(config), proxy);
        if (prop === 'demandCommand') return () => proxy;
        if (typeof prop === 'string' && INERT.has(prop)) return () => proxy;
        return (..._args: unknown[]) => ((target.unsupported = true), proxy);
      },
    }) as unknown as Argv;
    return proxy;
  }

  private command(args: unknown[]): void {
    // The module forms: command({ command, describe, builder, handler }), or an array of those.
    if (args.length === 1 && Array.isArray(args[0]) && args[0].every((m) => typeof m === 'object' && m !== null)) {
      for (const m of args[0] as object[]) this.command([m]);
      return;
    }
    if (args.length === 1 && typeof args[0] === 'object' && args[0] !== null && !Array.isArray(args[0])) {
      const { command: form, describe, builder, handler, ...others } = args[0] as Record<string, unknown>;
      if (Object.keys(others).length > 0) {
        this.unsupported = true;
        return;
      }
      this.command([form, describe, builder, handler]);
      return;
    }
    const [cmd, , builder, handler] = args;
    const forms = typeof cmd === 'string' ? [cmd] : Array.isArray(cmd) && cmd.every((c) => typeof c === 'string') ? (cmd as string[]) : undefined;
    if (!forms) {
      this.unsupported = true;
      return;
    }
    const [first, ...aliases] = forms;
    const words = first.trim().split(/\s+/);
    // An alias in the array form is a bare name (yargs takes the first form's positionals).
    const names = [words[0], ...aliases.map((a) => a.trim().split(/\s+/)[0])];
    const positionals: Positional[] = [];
    let opaque = (builder !== undefined && typeof builder !== 'function') || (handler !== undefined && typeof handler !== 'function') || args.length > 4;
    for (const word of words.slice(1)) {
      const m = /^([<[])([A-Za-z][\w-]*)(\.\.)?([>\]])$/.exec(word);
      if (!m || (m[1] === '<') !== (m[4] === '>')) opaque = true;
      else positionals.push({ name: m[2], required: m[1] === '<', variadic: m[3] === '..' });
    }
    // A command declared in a way not modelled here (`top <container> [ps OPTIONS]`) is yargs's to parse.
    this.commands.push({ names, positionals, opaque, builder: builder as CommandSpec['builder'], handler: handler as Handler | undefined });
  }

  private option(name: unknown, spec: unknown): void {
    if (typeof name !== 'string' || /[A-Z]/.test(name) || typeof spec !== 'object' || spec === null || !checkSpec(spec)) {
      this.unsupported = true;
      return;
    }
    this.options.set(name, spec as OptionSpec);
  }

  private positional(name: string, spec: OptionSpec): void {
    if (!checkSpec(spec)) this.unsupported = true;
    else this.positionalSpecs.set(name, spec);
  }

  private configure(config: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(config)) {
      if (key === 'greedy-arrays') this.greedyArrays = value !== false;
      // strata's own settings (command.ts): the ones a plain line's parse assumes.
      else if (!['parse-positional-numbers', 'parse-numbers', 'boolean-negation'].includes(key) || value !== false) this.unsupported = true;
    }
  }
}

function checkSpec(spec: object): boolean {
  const s = spec as OptionSpec & Record<string, unknown>;
  if (!Object.keys(s).every((k) => MODELLED.has(k))) return false;
  if (s.type !== undefined && !['boolean', 'string', 'number'].includes(s.type)) return false;
  if (s.array && s.type !== 'string') return false;
  return true;
}

export interface PlainCommand {
  handler: Handler;
  /** The object yargs would hand the handler. */
  argv: Record<string, unknown>;
}

/** yargs's camel-case expansion of a key: `no-trunc` is also `noTrunc`. */
function camel(key: string): string {
  return key.replace(/-([a-z0-9])/gi, (_m, c: string) => c.toUpperCase());
}

function keysOf(name: string, spec: OptionSpec, positional = false): string[] {
  const aliases = spec.alias === undefined ? [] : Array.isArray(spec.alias) ? spec.alias : [spec.alias];
  const keys = new Set<string>();
  for (const k of [name, ...aliases]) {
    keys.add(k);
    if (k.includes('-')) keys.add(camel(k));
    // A camelCase positional (`rename <container> <newName>`) is also given kebab-cased.
    if (positional && /[A-Z]/.test(k)) keys.add(k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
  }
  return [...keys];
}

/**
 * The command ARGV (the whole command line, command words first) names among REGISTER's, and
 * the object yargs would give its handler; undefined for anything a plain parse cannot be sure of.
 */
export function parsePlain(register: RegisterCommands, argv: string[], scriptName = 'strata'): PlainCommand | undefined {
  let level = new Recorder();
  register(level.asArgv());
  const words: string[] = [];
  let rest = argv;
  let command: CommandSpec | undefined;
  for (;;) {
    if (level.unsupported) return undefined;
    const word = rest[0];
    const found = word === undefined || word.startsWith('-') ? undefined : level.commands.find((c) => c.names.includes(word));
    if (!found) {
      if (!command) return undefined;
      // A command with subcommands needs one (a bare `container` is yargs's to answer).
      if (level.commands.length > 0) return undefined;
      break;
    }
    // Options declared above a subcommand would be global in yargs: not modelled.
    if ((command && level.options.size > 0) || found.opaque) return undefined;
    command = found;
    words.push(word);
    rest = rest.slice(1);
    const inner = new Recorder();
    if (found.builder) found.builder(inner.asArgv());
    level = inner;
  }
  if (!command.handler || level.unsupported) return undefined;
  return parseLine(level, command, words, rest, scriptName);
}

function parseLine(level: Recorder, command: CommandSpec, words: string[], tokens: string[], scriptName: string): PlainCommand | undefined {
  const byKey = new Map<string, [string, OptionSpec]>();
  for (const [name, spec] of level.options) for (const key of keysOf(name, spec)) byKey.set(key, [name, spec]);
  const values = new Map<string, unknown>();
  const positionals: string[] = [];

  /** Takes one flag's value; false when the line is not plain. */
  const take = (key: string, inline: string | undefined, next: string | undefined): { ok: boolean; used: number } => {
    const hit = byKey.get(key);
    if (!hit) return { ok: false, used: 0 };
    const [name, spec] = hit;
    if (spec.type === 'boolean' || spec.type === undefined) {
      if (spec.type === undefined || values.has(name)) return { ok: false, used: 0 };
      if (inline !== undefined) {
        if (inline !== 'true' && inline !== 'false') return { ok: false, used: 0 };
        values.set(name, inline === 'true');
        return { ok: true, used: 0 };
      }
      // yargs reads "--flag true" and "--flag false" as the flag's value.
      if (next === 'true' || next === 'false') return { ok: false, used: 0 };
      values.set(name, true);
      return { ok: true, used: 0 };
    }
    const value = inline ?? next;
    if (value === undefined || value === '' || (inline === undefined && value.startsWith('-'))) return { ok: false, used: 0 };
    let parsed: unknown = value;
    if (spec.type === 'number') {
      if (!/^-?\d+(\.\d+)?$/.test(value)) return { ok: false, used: 0 };
      parsed = Number(value);
    }
    if (spec.choices && !spec.choices.includes(parsed)) return { ok: false, used: 0 };
    if (spec.array) {
      values.set(name, [...((values.get(name) as unknown[] | undefined) ?? []), parsed]);
    } else {
      if (values.has(name)) return { ok: false, used: 0 };
      values.set(name, parsed);
    }
    return { ok: true, used: inline === undefined ? 1 : 0 };
  };

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    // yargs makes a lone "-" true or "" by where it stands: its own to parse.
    if (token === '--' || token === '-') return undefined;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const key = eq > 0 ? token.slice(2, eq) : token.slice(2);
      if (key === '' || key.includes('.')) return undefined;
      const r = take(key, eq > 0 ? token.slice(eq + 1) : undefined, tokens[i + 1]);
      if (!r.ok) return undefined;
      i += r.used;
      const hit = byKey.get(key)!;
      // A greedy array flag would take the words after its value too: not a plain line.
      if (hit[1].array && level.greedyArrays && r.used + (eq > 0 ? 1 : 0) > 0 && tokens[i + 1] !== undefined && !tokens[i + 1].startsWith('-')) return undefined;
    } else if (token.startsWith('-') && token.length > 1) {
      const letters = token.slice(1);
      if (letters.length === 1 || letters[1] === '=') {
        const r = take(letters[0], letters[1] === '=' ? letters.slice(2) : undefined, tokens[i + 1]);
        if (!r.ok) return undefined;
        i += r.used;
        const hit = byKey.get(letters[0])!;
        if (hit[1].array && level.greedyArrays && tokens[i + 1] !== undefined && !tokens[i + 1].startsWith('-')) return undefined;
      } else {
        // Combined short flags (`-aq`): booleans only.
        for (const letter of letters) {
          const hit = byKey.get(letter);
          if (!hit || hit[1].type !== 'boolean') return undefined;
          const r = take(letter, undefined, undefined);
          if (!r.ok) return undefined;
        }
        if (tokens[i + 1] === 'true' || tokens[i + 1] === 'false') return undefined;
      }
    } else {
      positionals.push(token);
    }
  }

  const out: Record<string, unknown> = { _: [...words] };
  const set = (name: string, spec: OptionSpec, value: unknown, positional = false) => {
    for (const key of keysOf(name, spec, positional)) out[key] = value;
  };
  for (const [name, spec] of level.options) {
    if (values.has(name)) set(name, spec, values.get(name));
    else if (spec.demandOption) return undefined;
    else if ('default' in spec) set(name, spec, spec.default);
  }
  // Positionals, as the command's declaration names them.
  let p = 0;
  for (const pos of command.positionals) {
    const spec = level.positionalSpecs.get(pos.name) ?? {};
    if (spec.type !== undefined && spec.type !== 'string') return undefined;
    if (pos.variadic) {
      const taken = positionals.slice(p);
      p = positionals.length;
      if (taken.length === 0 && (pos.required || spec.demandOption)) return undefined;
      if (taken.length > 0) set(pos.name, spec, taken, true);
      else if ('default' in spec) set(pos.name, spec, spec.default, true);
      continue;
    }
    const value = positionals[p];
    if (value === undefined) {
      if (pos.required || spec.demandOption) return undefined;
      if ('default' in spec) set(pos.name, spec, spec.default, true);
      continue;
    }
    p++;
    if (spec.choices && !spec.choices.includes(value)) return undefined;
    set(pos.name, spec, spec.array ? [value] : value, true);
  }
  // Words no positional takes: yargs's strict mode refuses them.
  if (p < positionals.length) return undefined;
  out.$0 = scriptName;
  return { handler: command.handler!, argv: out };
}
