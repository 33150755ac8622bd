// `strata build --ssh ID[=SOCKET|KEY[,KEY...]]` and `RUN --mount=type=ssh`: an SSH agent
// forwarded into a step. Each step gets a socket of its own (owner and mode from the mount)
// that relays every connection to the agent, so the host's socket path and permissions never
// show in the container. Keys given as files are loaded into a private `ssh-agent`.
// Sockets are in the OS temp dir (a socket path is limited to 108 bytes), in dirs named after
// this process (`.tmp-PID.START-*`) and noted in the state root, as is the agent (which outlives
// a killed build): a later command's sweep removes them if the build is killed (runtime/leftovers.ts).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { helperCommand, reserveHelperNote } from '../runtime/index.js';
import { noteOutsideTemp, tempName } from '../store/index.js';

/** Parsed `--ssh` flags: id -> paths (one agent socket, or key files); [] means $SSH_AUTH_SOCK. */
export type SshSpecs = ReadonlyMap<string, string[]>;

/** Parses `--ssh` values as `docker build` takes them: `default`, `ID=SOCKET`, `ID=KEY[,KEY]`. */
export function parseSshSpecs(values: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const id = eq < 0 ? v : v.slice(0, eq);
    if (!id || /[\s,]/.test(id)) throw new StrataError(`invalid ssh "${v}": expected ID[=SOCKET|KEY[,KEY]]`);
    if (out.has(id)) throw new StrataError(`invalid ssh "${v}": id "${id}" given twice`);
    const paths = eq < 0 ? [] : v.slice(eq + 1).split(',').filter(Boolean).map((p) => path.resolve(p));
    if (eq >= 0 && paths.length === 0) throw new StrataError(`invalid ssh "${v}": expected ID[=SOCKET|KEY[,KEY]]`);
    out.set(id, paths);
  }
  return out;
}

/** The agents of one build: their sockets by id, and the private agents to stop at the end. */
export class SshAgents {
  private constructor(private readonly root: string, private readonly sockets: Map<string, string>, private readonly stops: (() => Promise<void>)[]) {}

  /** The agents of SPECS for a build in the state root ROOT (where what a kill leaves is noted). */
  static async open(specs: SshSpecs, root: string): Promise<SshAgents> {
    const agents = new SshAgents(root, new Map(), []);
    try {
      for (const [id, paths] of specs) agents.sockets.set(id, await agents.resolve(id, paths));
    } catch (err) {
      await agents.close();
      throw err;
    }
    return agents;
  }

  has(id: string): boolean {
    return this.sockets.has(id);
  }

  /** The agent socket of an id, for the host's own ssh (git fetches of ADD git@...). */
  socket(id: string): string | undefined {
    return this.sockets.get(id);
  }

  /**
   * A relay socket for one step, in a fresh private dir: mode, uid and gid as the mount asks.
   * `close` stops it and removes the dir.
   */
  async relay(id: string, opts: { mode: number; uid: number; gid: number }): Promise<{ path: string; close: () => Promise<void> }> {
    const agent = this.sockets.get(id);
    if (!agent) throw new Error(`no SSH key "${id}" forwarded from the client (strata build --ssh ${id}[=SOCKET|KEY])`);
    const { dir, forget } = await this.socketDir('-ssh');
    const sock = path.join(dir, 'agent.sock');
    const open = new Set<net.Socket>();
    const server = net.createServer((client) => {
      const upstream = net.connect(agent);
      open.add(client).add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        open.delete(client);
        open.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(sock, resolve));
    await fs.chmod(sock, opts.mode);
    await fs.chown(sock, opts.uid, opts.gid);
    // The dir is only a holder: whoever can reach the socket (bind-mounted) is the container.
    await fs.chmod(dir, 0o711);
    return {
      path: sock,
      close: async () => {
        for (const s of open) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await fs.rm(dir, { recursive: true, force: true });
        await forget();
      },
    };
  }

  /** A private dir for a socket, in the OS temp dir (short paths), noted in the state root. */
  private async socketDir(hint: string): Promise<{ dir: string; forget: () => Promise<void> }> {
    const dir = tempName(os.tmpdir(), hint);
    const forget = await noteOutsideTemp(path.join(this.root, 'tmp'), dir);
    try {
      await fs.mkdir(dir, { mode: 0o700 });
    } catch (err) {
      await forget();
      throw err;
    }
    return { dir, forget };
  }

  async close(): Promise<void> {
    for (const stop of this.stops.splice(0)) await stop().catch(() => undefined);
  }

  private async resolve(id: string, paths: string[]): Promise<string> {
    if (paths.length === 0) {
      const sock = process.env.SSH_AUTH_SOCK;
      if (!sock) throw new StrataError(`ssh "${id}": SSH_AUTH_SOCK is not set (give a socket or key: --ssh ${id}=PATH)`);
      paths = [sock];
    }
    const kinds = paths.map((p) => {
      try {
        return statSync(p).isSocket() ? 'socket' : 'file';
      } catch {
        throw new StrataError(`ssh "${id}": ${p}: no such file or socket`);
      }
    });
    if (kinds[0] === 'socket') {
      if (paths.length > 1) throw new StrataError(`ssh "${id}": give one agent socket or key files, not both`);
      return paths[0];
    }
    if (kinds.includes('socket')) throw new StrataError(`ssh "${id}": give one agent socket or key files, not both`);
    return this.startAgent(id, paths);
  }

  /** A private ssh-agent holding the key files, stopped by close(). */
  private async startAgent(id: string, keys: string[]): Promise<string> {
    const { dir, forget } = await this.socketDir('-agent');
    const sock = path.join(dir, 'agent.sock');
    // -D keeps it in the foreground, where it never looks whether its parent lives: it notes
    // itself in the state root before it runs, for a sweep to end it if this build is killed.
    const note = await reserveHelperNote(this.root);
    const [cmd, args] = helperCommand(note.file, ['ssh-agent', '-D', '-a', sock]);
    const agent = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    failpoint('build.ssh-agent-spawned');
    let failed: Error | undefined;
    agent.once('error', (err) => (failed = err));
    const exited = new Promise<void>((resolve) => agent.once('close', () => resolve()));
    this.stops.push(async () => {
      agent.kill('SIGTERM');
      await exited;
      await note.forget();
      await fs.rm(dir, { recursive: true, force: true });
      await forget();
    });
    for (let i = 0; i < 100 && !failed && agent.exitCode === null; i++) {
      if (await fs.stat(sock).then((s) => s.isSocket(), () => false)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    if (failed || agent.exitCode !== null) throw new StrataError(`ssh "${id}": cannot start ssh-agent: ${failed?.message ?? `exit code ${agent.exitCode}`}`);
    for (const key of keys) {
      const added = spawnSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: '', DISPLAY: '' }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 10_000 });
      if (added.status !== 0) throw new StrataError(`ssh "${id}": cannot load key ${key}: ${(added.stderr || added.error?.message || '').trim().split('\n')[0]}`);
    }
    return sock;
  }
}
