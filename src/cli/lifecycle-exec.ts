// `exec`'s command line: Docker's flags up to the container name, the command after it untouched
// (so `exec c sh -c 'x -y'` never has `-c` or `-y` taken as ours).
import { StrataError } from '../errors.js';

export interface ExecArgs {
  container: string; command: string[]; interactive?: boolean; tty?: boolean; env: string[]; envFile: string[]; workdir?: string; user?: string; detach?: boolean;
  privileged?: boolean;
}

const EXEC_USAGE = `Usage:  strata exec [OPTIONS] CONTAINER COMMAND [ARG...]

Execute a command in a running container

Options:
  -d, --detach               Detached mode: run command in the background
  -e, --env list             Set environment variables
      --env-file list        Read in a file of environment variables
  -i, --interactive          Keep STDIN open even if not attached
      --privileged           Give extended privileges to the command
  -t, --tty                  Allocate a pseudo-TTY
  -u, --user string          Username or UID (format: "<name|uid>[:<group|gid>]")
  -w, --workdir string       Working directory inside the container
`;

/** `--tty=false`, `-i=true`: a bool flag's value, as pflag's strconv.ParseBool reads it. */
function execBool(key: 'interactive' | 'tty' | 'detach' | 'privileged', value: string): boolean {
  if (/^(1|t|T|TRUE|true|True)$/.test(value)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(value)) return false;
  const shown = key === 'privileged' ? '--privileged' : `-${key[0]}, --${key}`;
  throw new StrataError(`invalid argument "${value}" for "${shown}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
}

/** exec's flags, up to the container name; everything after it is the command, untouched. */
export function parseExecArgs(words: string[]): ExecArgs {
  const out: ExecArgs = { container: '', command: [], env: [], envFile: [] };
  const valued: Record<string, 'env' | 'env-file' | 'workdir' | 'user' | 'detach-keys'> = {
    e: 'env', env: 'env', 'env-file': 'env-file', w: 'workdir', workdir: 'workdir', u: 'user', user: 'user', 'detach-keys': 'detach-keys',
  };
  const bools: Record<string, 'interactive' | 'tty' | 'detach' | 'privileged'> = {
    i: 'interactive', interactive: 'interactive', t: 'tty', tty: 'tty', d: 'detach', detach: 'detach', privileged: 'privileged',
  };
  let i = 0;
  const set = (key: string, value: string) => {
    if (key === 'env') out.env.push(value);
    else if (key === 'env-file') out.envFile.push(value);
    else if (key === 'workdir') out.workdir = value;
    else if (key === 'user') out.user = value;
  };
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--help' || w === '-h') {
      process.stdout.write(EXEC_USAGE);
      process.exit(0);
    }
    if (!w.startsWith('-') || w === '-') break;
    if (w === '--') {
      i++;
      break;
    }
    const long = w.startsWith('--');
    const body = w.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (long || name.length === 1 || eq >= 0) {
      if (valued[name]) {
        const value = eq >= 0 ? body.slice(eq + 1) : words[++i];
        if (value === undefined) throw new StrataError(`flag needs an argument: ${w}`);
        set(valued[name]!, value);
        continue;
      }
      if (bools[name]) {
        out[bools[name]!] = eq < 0 || execBool(bools[name]!, body.slice(eq + 1));
        continue;
      }
      if (long) throw new StrataError(`unknown flag: --${name}`);
    }
    // A cluster of short flags: -it, -itd, -ie VAR (the last may take a value).
    for (let j = 0; j < body.length; j++) {
      const f = body[j]!;
      if (bools[f]) out[bools[f]!] = true;
      else if (valued[f]) {
        const rest = body.slice(j + 1).replace(/^=/, '');
        const value = rest || words[++i];
        if (value === undefined) throw new StrataError(`flag needs an argument: '${f}' in ${w}`);
        set(valued[f]!, value);
        break;
      } else throw new StrataError(`unknown shorthand flag: '${f}' in ${w}`);
    }
  }
  out.container = words[i] ?? '';
  out.command = words.slice(i + 1);
  if (!out.container || out.command.length === 0) {
    const missing = out.container ? 'COMMAND is missing' : 'CONTAINER and COMMAND are missing';
    throw new StrataError(`"strata exec" requires at least 2 arguments: ${missing}\nUsage: strata exec [OPTIONS] CONTAINER COMMAND [ARG...]`);
  }
  return out;
}
