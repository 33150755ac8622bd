// Typed instructions (stage two of parsing, like BuildKit's instructions/commands.go): the raw
// AST from src/parser becomes a discriminated union with flags checked and split. Values stay
// unexpanded here; the planner expands them with the variables in scope.
import type { Heredoc, Instruction } from '../parser/index.js';
import { goQuote } from '../go-quote.js';
import { BuildError, errors, type SourceRef } from './errors.js';

interface Base {
  /** 1-based Dockerfile line of the instruction. */
  line: number;
  /** The instruction as written (for history rows and messages). */
  original: string;
  raw: Instruction;
}

export interface KeyValue {
  key: string;
  value: string;
}

export type FromCmd = Base & { kind: 'FROM'; image: string; platform?: string; stageName?: string };
export type RunCmd = Base & {
  kind: 'RUN';
  /** Shell form: one script string in `args[0]`; exec form: the argv. */
  exec: boolean;
  args: string[];
  heredocs: Heredoc[];
  mounts: string[];
  network?: string;
};
export type CopyCmd = Base & {
  kind: 'COPY' | 'ADD';
  sources: string[];
  dest: string;
  heredocs: Heredoc[];
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
  checksum?: string;
  keepGitDir: boolean;
};
export type EnvCmd = Base & { kind: 'ENV' | 'LABEL'; pairs: KeyValue[] };
export type ArgCmd = Base & { kind: 'ARG'; args: { key: string; value?: string }[] };
export type CmdCmd = Base & { kind: 'CMD' | 'ENTRYPOINT'; exec: boolean; args: string[] };
export type ShellCmd = Base & { kind: 'SHELL'; args: string[] };
export type WordsCmd = Base & { kind: 'EXPOSE' | 'VOLUME'; words: string[] };
export type OneCmd = Base & { kind: 'USER' | 'WORKDIR' | 'STOPSIGNAL' | 'MAINTAINER'; value: string };
export type HealthcheckCmd = Base & {
  kind: 'HEALTHCHECK';
  none: boolean;
  exec: boolean;
  args: string[];
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: string;
};
export type OnbuildCmd = Base & { kind: 'ONBUILD'; trigger: string };

export type Command =
  | FromCmd | RunCmd | CopyCmd | EnvCmd | ArgCmd | CmdCmd | ShellCmd | WordsCmd | OneCmd | HealthcheckCmd | OnbuildCmd;

interface FlagSpec {
  bool?: string[];
  value?: string[];
  multi?: string[];
}

const FLAGS: Record<string, FlagSpec> = {
  FROM: { value: ['platform'] },
  RUN: { value: ['network', 'security'], multi: ['mount'] },
  COPY: { value: ['from', 'chown', 'chmod'], bool: ['link', 'parents'], multi: ['exclude'] },
  ADD: { value: ['chown', 'chmod', 'checksum'], bool: ['link', 'keep-git-dir'], multi: ['exclude'] },
  HEALTHCHECK: { value: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'] },
};

type Flags = { values: Map<string, string>; bools: Set<string>; multi: Map<string, string[]> };

function parseFlags(ins: Instruction, at: SourceRef): Flags {
  const spec = FLAGS[ins.keyword] ?? {};
  const out: Flags = { values: new Map(), bools: new Set(), multi: new Map() };
  for (const raw of ins.flags) {
    const body = raw.replace(/^--/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    if (spec.bool?.includes(name)) {
      if (value !== undefined && value !== 'true' && value !== 'false') throw new BuildError(errors.flagTakesNoValue(name), at);
      if (value !== 'false') out.bools.add(name);
    } else if (spec.value?.includes(name) || spec.multi?.includes(name)) {
      if (value === undefined) throw new BuildError(errors.flagNeedsValue(`--${name}`), at);
      if (spec.multi?.includes(name)) out.multi.set(name, [...(out.multi.get(name) ?? []), value]);
      else out.values.set(name, value);
    } else {
      throw new BuildError(errors.unknownFlag(ins.keyword, `--${name}`), at);
    }
  }
  return out;
}

/** Converts one raw instruction; `file` names the Dockerfile in messages. */
export function toCommand(ins: Instruction, file = 'Dockerfile'): Command {
  const at = { file, line: ins.startLine };
  const flags = parseFlags(ins, at);
  const base: Base = { line: ins.startLine, original: ins.original, raw: ins };
  const need = (n: number, what: string) => {
    if (ins.args.length < n) throw new BuildError(errors.badArgCount(ins.keyword, what), at);
  };
  switch (ins.keyword) {
    case 'FROM': {
      const a = ins.args;
      if (!(a.length === 1 || (a.length === 3 && a[1].toLowerCase() === 'as'))) {
        throw new BuildError(errors.badArgCount('FROM', 'either one or three arguments'), at);
      }
      return { ...base, kind: 'FROM', image: a[0], stageName: a[2]?.toLowerCase(), platform: flags.values.get('platform') };
    }
    case 'RUN': {
      if (ins.args.length === 0 && ins.heredocs.length === 0) need(1, 'at least one argument');
      const security = flags.values.get('security');
      if (security !== undefined && security !== 'sandbox') throw new BuildError(`RUN --security=${security} is not supported`, at);
      return { ...base, kind: 'RUN', exec: ins.json, args: ins.args, heredocs: ins.heredocs, mounts: flags.multi.get('mount') ?? [], network: flags.values.get('network') };
    }
    case 'COPY':
    case 'ADD': {
      const args = ins.args;
      if (args.length < 2 && !(args.length === 1 && ins.heredocs.length > 0)) need(2, 'at least two arguments, but only one was provided. Destination could not be determined');
      return {
        ...base, kind: ins.keyword, sources: args.slice(0, -1), dest: args[args.length - 1], heredocs: ins.heredocs,
        from: flags.values.get('from'), chown: flags.values.get('chown'), chmod: flags.values.get('chmod'),
        link: flags.bools.has('link'), parents: flags.bools.has('parents'), exclude: flags.multi.get('exclude') ?? [],
        checksum: flags.values.get('checksum'), keepGitDir: flags.bools.has('keep-git-dir'),
      };
    }
    case 'ENV':
    case 'LABEL': {
      need(1, 'at least one argument');
      const pairs: KeyValue[] = [];
      for (let i = 0; i + 1 < ins.args.length; i += 3) pairs.push({ key: ins.args[i], value: ins.args[i + 1] });
      return { ...base, kind: ins.keyword, pairs };
    }
    case 'ARG': {
      need(1, 'at least one argument');
      const args = ins.args.map((w) => {
        const eq = w.indexOf('=');
        return eq < 0 ? { key: w } : { key: w.slice(0, eq), value: w.slice(eq + 1) };
      });
      return { ...base, kind: 'ARG', args };
    }
    case 'CMD':
    case 'ENTRYPOINT':
      return { ...base, kind: ins.keyword, exec: ins.json, args: ins.args };
    case 'SHELL':
      if (!ins.json) throw new BuildError('SHELL requires the arguments to be in JSON form', at);
      need(1, 'at least one argument');
      return { ...base, kind: 'SHELL', args: ins.args };
    case 'EXPOSE':
    case 'VOLUME':
      need(1, 'at least one argument');
      return { ...base, kind: ins.keyword, words: ins.args };
    case 'USER':
    case 'WORKDIR':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      if (ins.args.length !== 1) throw new BuildError(errors.badArgCount(ins.keyword, 'exactly one argument'), at);
      return { ...base, kind: ins.keyword, value: ins.args[0] };
    case 'HEALTHCHECK': {
      need(1, 'at least one argument');
      const kind = ins.args[0].toUpperCase();
      const none = kind === 'NONE';
      // BuildKit's parseHealthcheck words (its Go %#v of the upper-cased type).
      if (!none && kind !== 'CMD') throw new BuildError(`Unknown type ${goQuote(kind)} in HEALTHCHECK (try CMD)`, at);
      if (!none && ins.args.length < 2) throw new BuildError('Missing command after HEALTHCHECK CMD', at);
      const exec = ins.json;
      const args = ins.args.slice(1);
      return {
        ...base, kind: 'HEALTHCHECK', none, exec, args,
        interval: flags.values.get('interval'), timeout: flags.values.get('timeout'),
        startPeriod: flags.values.get('start-period'), startInterval: flags.values.get('start-interval'),
        retries: flags.values.get('retries'),
      };
    }
    case 'ONBUILD': {
      const trigger = ins.onbuild;
      if (!trigger) throw new BuildError(errors.badArgCount('ONBUILD', 'at least one argument'), at);
      return { ...base, kind: 'ONBUILD', trigger: ins.original.replace(/^\s*onbuild\s+/i, '').trim() };
    }
    default:
      throw new BuildError(`unknown instruction: ${ins.keyword}`, at);
  }
}
