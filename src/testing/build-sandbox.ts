// A state root with busybox and a supply of build contexts, for end-to-end tests of `build`
// through the real CLI: `ctx()` writes a Dockerfile (and files) into a fresh context dir,
// `build()` runs `strata build` on the root.
import fs from 'node:fs';
import path from 'node:path';
import { openStore } from '../store/index.js';
import { ensureBusybox } from './busybox.js';
import { runStrata, tempDir, type CliResult } from './cli.js';

export interface BuildSandbox {
  /** The sandbox's own dir (contexts, files the test writes). */
  dir: string;
  root: string;
  /** A new context holding DOCKERFILE as its Dockerfile, and FILES. */
  ctx(dockerfile: string, files?: Record<string, string>): string;
  build(args: string[], env?: NodeJS.ProcessEnv): CliResult;
  cleanup(): void;
}

export async function buildSandbox(prefix: string): Promise<BuildSandbox> {
  const t = tempDir(prefix);
  const root = path.join(t.dir, 'root');
  await ensureBusybox(await openStore(root));
  let n = 0;
  return {
    dir: t.dir,
    root,
    ctx(dockerfile, files = {}) {
      const dir = path.join(t.dir, `ctx-${++n}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
      for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), body);
      return dir;
    },
    build: (args, env) => runStrata(['build', ...args], { root, env, timeoutMs: 120_000 }),
    cleanup: t.cleanup,
  };
}
