// `login` without a username or a password on a terminal: Docker's prompts (docker/cli's
// ConfigureAuth). "Username: " (or "Username (NAME): " with the one stored for the registry,
// taken on an empty line), then "Password: " with the terminal's echo off; an empty answer is
// Docker's error. Without a terminal there is nobody to ask: Docker's error too.
import { spawnSync } from 'node:child_process';
import readline from 'node:readline';
import { StrataError } from '../errors.js';

export interface LoginAnswers {
  username: string;
  password: string;
}

/** Turns the terminal's echo off (stty on our stdin); returns what turns it back on. */
function echoOff(): () => void {
  const stty = (arg: string) => spawnSync('stty', [arg], { stdio: ['inherit', 'ignore', 'ignore'] });
  stty('-echo');
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    stty('echo');
  };
  // A Ctrl-C at the prompt must not leave the user's terminal without echo.
  const interrupted = () => {
    restore();
    process.stdout.write('\n');
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  return () => {
    process.off('SIGINT', interrupted);
    restore();
  };
}

/**
 * Asks on the terminal for what GIVEN lacks (its username, its password); STORED gives the
 * username of the credentials kept for the registry, if any (asked only when the username is).
 */
export async function promptLogin(given: { username?: string; password?: string }, stored: () => Promise<string | undefined>): Promise<LoginAnswers> {
  const password = given.password?.trim() ?? '';
  if (!password && !process.stdin.isTTY) throw new StrataError('Cannot perform an interactive login from a non TTY device');
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const answer = async (): Promise<string> => {
    const next = await lines.next();
    if (next.done) throw new StrataError('login cancelled: the input ended');
    return String(next.value);
  };
  try {
    let username = given.username?.trim() ?? '';
    if (!username) {
      const kept = await stored();
      process.stdout.write(kept ? `Username (${kept}): ` : 'Username: ');
      username = (await answer()).trim() || (kept ?? '');
      if (!username) throw new StrataError('Non-null Username Required');
    }
    if (password) return { username, password };
    // Echo off before the prompt shows: what is typed once it shows is never echoed.
    const echoOn = echoOff();
    process.stdout.write('Password: ');
    let typed: string;
    try {
      typed = await answer();
    } finally {
      echoOn();
      process.stdout.write('\n');
    }
    if (!typed.trim()) throw new StrataError('Password Required');
    return { username, password: typed.trim() };
  } finally {
    rl.close();
    process.stdin.pause();
  }
}
