// yargs's validation messages ("Not enough non-option arguments: got 0, need at least 1",
// "Unknown argument: c") said in the user's terms, as Docker says them: what is missing or extra,
// named as the usage line names it, and that usage line. The CLI's fail handler (main.ts) uses it.

interface Positional {
  /** As the usage line shows it: "IMAGE", "SRC". */
  shown: string;
  required: boolean;
  variadic: boolean;
  /** A group of words shown as written ("[ps OPTIONS]": what top passes on to ps). */
  group?: boolean;
}

/** Usage names that read better than the declaration's own. */
const SHOWN: Record<string, string> = { context: 'PATH', newName: 'NEW_NAME', src: 'SRC_PATH', dest: 'DEST_PATH' };

function shownName(name: string, variadic: boolean): string {
  const base = SHOWN[name] ?? name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
  // "<images..>" is one or more IMAGE.
  return variadic && base.endsWith('S') && !SHOWN[name] ? base.slice(0, -1) : base;
}

/** Parses yargs's declaration "$0 image rm <images..>" into the command's words and its positionals. */
export function parseDeclaration(declaration: string): { command: string[]; positionals: Positional[] } {
  const command: string[] = [];
  const positionals: Positional[] = [];
  // A bracket holds one name, or words that go together ("[ps OPTIONS]"): one token either way.
  for (const word of declaration.match(/[<[][^>\]]*[>\]]|\S+/g) ?? []) {
    const m = /^([<[])([^>\]]+?)(\.\.)?[>\]]$/.exec(word);
    if (!m) {
      if (word !== '$0') command.push(word);
      continue;
    }
    if (/\s/.test(m[2]!)) {
      positionals.push({ shown: m[2]!, required: m[1] === '<', variadic: true, group: true });
      continue;
    }
    const variadic = m[3] !== undefined;
    positionals.push({ shown: shownName(m[2]!, variadic), required: m[1] === '<', variadic });
  }
  return { command, positionals };
}

/** Docker's usage line: "Usage: strata image rm [OPTIONS] IMAGE [IMAGE...]". */
export function usageLine(declaration: string): string {
  const { command, positionals } = parseDeclaration(declaration);
  const args = positionals.map((p) => {
    const one = p.variadic && !p.group ? `${p.shown} [${p.shown}...]` : p.shown;
    return p.required ? one : `[${one}]`;
  });
  return ['Usage:', 'strata', ...command, '[OPTIONS]', ...args].join(' ');
}

function listed(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** How an unknown name was written on the command line: "--bogus", "-z", or a plain word (an extra argument). */
function asTyped(name: string, argv: string[]): { flag: string } | { extra: string } {
  const flag = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`) || a === `-${name}` || a.startsWith(`-${name}=`));
  if (flag) return { flag: flag.replace(/=.*$/, '') };
  return { extra: name };
}

/**
 * The one line to show for a yargs failure MSG, with the usage line of the command it concerns
 * (DECLARATION, as yargs's usage instance holds it) when there is one. ARGV is the command line.
 */
export function argumentError(msg: string, declaration: string | undefined, argv: string[]): string {
  const decl = declaration && !declaration.includes('COMMAND') ? declaration : undefined;
  const parsed = decl ? parseDeclaration(decl) : undefined;
  const name = parsed ? `"strata ${parsed.command.join(' ')}"` : '"strata"';
  const withUsage = (line: string) => (decl ? `${line}\n${usageLine(decl)}` : line);
  let m = /^Not enough non-option arguments: got (\d+), need at least (\d+)$/.exec(msg);
  if (m && parsed) {
    const got = Number(m[1]);
    const required = parsed.positionals.filter((p) => p.required);
    const missing = required.slice(got).map((p) => p.shown);
    const needs = parsed.positionals.some((p) => p.variadic) ? `at least ${plural(required.length, 'argument')}` : plural(required.length, 'argument');
    return withUsage(`${name} requires ${needs}: ${listed(missing)} ${missing.length === 1 ? 'is' : 'are'} missing`);
  }
  m = /^Too many non-option arguments: got (\d+), maximum of (\d+)$/.exec(msg);
  if (m) return withUsage(`${name} accepts at most ${plural(Number(m[2]), 'argument')}, got ${m[1]}`);
  m = /^Unknown arguments?: (.+)$/.exec(msg);
  if (m) {
    const typed = m[1]!.split(', ').map((n) => asTyped(n, argv));
    const flags = typed.flatMap((t) => ('flag' in t ? [t.flag] : []));
    if (flags.length) return withUsage(`unknown flag: ${flags[0]}`);
    const extra = typed.map((t) => ('extra' in t ? `"${t.extra}"` : ''));
    const max = parsed?.positionals.some((p) => p.variadic) ? undefined : parsed?.positionals.length;
    const takes = max === undefined ? '' : ` accepts ${max === 0 ? 'no arguments' : `at most ${plural(max, 'argument')}`}:`;
    return withUsage(`${name}${takes} unexpected ${extra.length === 1 ? 'argument' : 'arguments'} ${listed(extra)}`);
  }
  m = /^Not enough arguments following: (.+)$/.exec(msg);
  if (m) return withUsage(`flag needs an argument: ${m[1]!.length === 1 ? '-' : '--'}${m[1]}`);
  m = /^Missing required arguments?: (.+)$/.exec(msg);
  if (m) return withUsage(`required flag ${listed(m[1]!.split(', ').map((f) => `"--${f}"`))} not set`);
  m = /^Invalid values:\s+Argument: (\S+), Given: (.+), Choices: (.+)$/s.exec(msg);
  if (m) return withUsage(`invalid value ${m[2]!.trim()} for --${m[1]}: choose from ${m[3]!.trim()}`);
  return withUsage(msg);
}

/**
 * The first flag of ARGV that takes a value but was given none ("ps --format" at the end, or
 * followed by another flag): yargs would take it as an empty value and go on silently. VALUED
 * are the names (and aliases) of the string and number options.
 */
export function flagWithoutValue(argv: string[], valued: ReadonlySet<string>): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return undefined;
    const m = /^--?([^=-][^=]*)$/.exec(a);
    if (!m || !valued.has(m[1]!)) continue;
    const next = argv[i + 1];
    if (next === undefined || (next.startsWith('-') && next !== '-' && !/^-\d/.test(next))) return a;
  }
  return undefined;
}

/**
 * The first flag of ARGV that the command does not know (KNOWN: its option names and aliases),
 * as typed: "--bogus", or "-z" of "-qz". yargs takes "--bogus VALUE" as a flag with a value and
 * then reports the positional it ate as missing; Docker names the flag.
 */
export function unknownFlag(argv: string[], known: ReadonlySet<string>): string | undefined {
  for (const a of argv) {
    if (a === '--') return undefined;
    const long = /^--([^=]+)/.exec(a);
    if (long) {
      const name = long[1]!;
      if (!known.has(name)) return `--${name}`;
      continue;
    }
    const short = /^-([^-=\d][^=]*)/.exec(a);
    if (!short) continue;
    if (known.has(short[1]!)) continue;
    // -qa: each letter a flag (-n5: a value follows its flag; not checked past a known one's digits)
    for (const c of short[1]!) {
      if (!/[a-zA-Z]/.test(c)) break;
      if (!known.has(c)) return `-${c}`;
    }
  }
  return undefined;
}
