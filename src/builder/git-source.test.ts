// ADD of git repositories: URL forms, and real builds (FROM scratch, no container) fetching
// from a local repository served by `git daemon` on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerRunner } from '../runtime/types.js';
import { openStore, type Store } from '../store/store.js';
import { tempDir } from '../testing/cli.js';
import { build } from './build.js';
import { closeHashing } from './context.js';
import { parseGitSource } from './git-source.js';
import { QuietReporter } from './progress.js';

describe('git sources', () => {
  it('recognises BuildKit git URL forms with #ref:subdir', () => {
    assert.deepEqual(parseGitSource('https://example.com/org/repo.git#v1.2:docs/api'), { word: 'https://example.com/org/repo.git#v1.2:docs/api', remote: 'https://example.com/org/repo.git', ref: 'v1.2', subdir: 'docs/api' });
    assert.deepEqual(parseGitSource('git@github.com:org/repo.git'), { word: 'git@github.com:org/repo.git', remote: 'git@github.com:org/repo.git', ref: undefined, subdir: undefined });
    assert.equal(parseGitSource('git://127.0.0.1:9418/repo#:sub')?.subdir, 'sub');
    assert.equal(parseGitSource('ssh://git@host/repo.git#main')?.ref, 'main');
    assert.equal(parseGitSource('https://example.com/file.tar.gz'), undefined);
    assert.equal(parseGitSource('src/repo.git'), undefined);
    assert.throws(() => parseGitSource('git://h/r.git#main:../../etc'), /invalid git subdir "\.\.\/\.\.\/etc" .*leaves the repository/);
    assert.throws(() => parseGitSource('git://h/r.git#ma;in'), /invalid git ref "ma;in"/);
  });
});

const noRunner: ContainerRunner = {
  run: async () => {
    throw new Error('no container expected');
  },
};

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Git's smart HTTP: `git http-backend` as a CGI behind a tiny server on 127.0.0.1. */
async function gitHttpServer(projectRoot: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        ...process.env, GIT_PROJECT_ROOT: projectRoot, GIT_HTTP_EXPORT_ALL: '1', PATH_INFO: u.pathname, QUERY_STRING: u.search.slice(1),
        REQUEST_METHOD: req.method, CONTENT_TYPE: req.headers['content-type'] ?? '', REMOTE_ADDR: '127.0.0.1', GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let started = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (started) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      started = true;
      const headers = head.subarray(0, end).toString().split('\r\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]);
      const status = Number(headers.find(([k]) => k.toLowerCase() === 'status')?.[1].split(' ')[0] ?? 200);
      res.writeHead(status, Object.fromEntries(headers.filter(([k]) => k.toLowerCase() !== 'status')));
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('ADD git (builds against git daemon)', () => {
  let t: ReturnType<typeof tempDir>;
  let store: Store;
  let ctx: string;
  let repo: string;
  let daemon: ChildProcess;
  let url: string;
  const g = (...args: string[]) => {
    const r = spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_COMMITTER_DATE: '2020-01-02T03:04:05Z', GIT_AUTHOR_DATE: '2020-01-02T03:04:05Z' } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };

  before(async () => {
    t = tempDir('strata-git-');
    store = await openStore(path.join(t.dir, 'root'));
    ctx = path.join(t.dir, 'ctx');
    fs.mkdirSync(ctx);
    const base = path.join(t.dir, 'served');
    repo = path.join(base, 'repo.git');
    fs.mkdirSync(path.join(repo, 'docs', 'api'), { recursive: true });
    g('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'README'), 'v1\n');
    fs.writeFileSync(path.join(repo, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(repo, 'docs', 'api', 'index.md'), '# api\n');
    g('add', '.');
    g('commit', '-q', '-m', 'one');
    g('tag', '-a', 'v1', '-m', 'release 1');
    const port = await freePort();
    daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${base}`, '--listen=127.0.0.1', `--port=${port}`, base], { stdio: 'ignore' });
    url = `git://127.0.0.1:${port}/repo.git`;
    for (let i = 0; i < 100; i++) {
      if (spawnSync('git', ['ls-remote', url], { stdio: 'ignore' }).status === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    daemon?.kill();
    await closeHashing();
    t.cleanup();
  });

  async function run(text: string) {
    const r = await build({
      stateRoot: store.root, store, runner: noRunner, reporter: new QuietReporter(process.stderr), contextDir: ctx,
      dockerfile: { text, name: 'Dockerfile' },
    });
    const top = await store.layerPath(r.image.config.rootfs.diff_ids.at(-1)!);
    return { r, top, step: r.steps.at(-1)! };
  }

  it('adds the checkout without .git, files stamped with the commit time, and caches by commit', async () => {
    const { top, step, r } = await run(`FROM scratch\nADD ${url} /src\n`);
    assert.equal(step.cached, false);
    assert.deepEqual(fs.readdirSync(path.join(top, 'src')).sort(), ['README', 'docs', 'run.sh']);
    assert.equal(fs.readFileSync(path.join(top, 'src', 'README'), 'utf8'), 'v1\n');
    const st = fs.statSync(path.join(top, 'src', 'run.sh'));
    assert.equal(st.mode & 0o777, 0o755);
    assert.equal(st.mtime.toISOString(), '2020-01-02T03:04:05.000Z');
    assert.equal(st.uid, 0);
    const again = await run(`FROM scratch\nADD ${url} /src\n`);
    assert.equal(again.step.cached, true, 'same commit: cached');
    assert.equal(again.r.image.id, r.image.id);
  });

  it('takes a ref and a subdir; a moved branch misses, a tag stays cached', async () => {
    const sub = await run(`FROM scratch\nADD ${url}#v1:docs /d/\n`);
    assert.deepEqual(fs.readdirSync(path.join(sub.top, 'd')), ['api']);
    await run(`FROM scratch\nADD ${url}#main /m/\n`);
    fs.writeFileSync(path.join(repo, 'README'), 'v2\n');
    g('commit', '-q', '-am', 'two');
    const moved = await run(`FROM scratch\nADD ${url}#main /m/\n`);
    assert.equal(moved.step.cached, false);
    assert.equal(moved.step.missReason, `git ${url}#main changed`);
    assert.equal(fs.readFileSync(path.join(moved.top, 'm', 'README'), 'utf8'), 'v2\n');
    const tag = await run(`FROM scratch\nADD ${url}#v1:docs /d/\n`);
    assert.equal(tag.step.cached, true);
    const commit = g('rev-parse', 'HEAD~1');
    const pinned = await run(`FROM scratch\nADD ${url}#${commit} /p/\n`);
    assert.equal(fs.readFileSync(path.join(pinned.top, 'p', 'README'), 'utf8'), 'v1\n');
  });

  it('applies --exclude and --chmod to the checkout', async () => {
    const { top } = await run(`FROM scratch\nADD --exclude=*.sh --chmod=600 ${url}#v1 /e/\n`);
    assert.deepEqual(fs.readdirSync(path.join(top, 'e')).sort(), ['README', 'docs']);
    assert.equal(fs.statSync(path.join(top, 'e', 'README')).mode & 0o777, 0o600);
  });

  it('keeps .git with --keep-git-dir, at the resolved commit', async () => {
    const { top } = await run(`FROM scratch\nADD --keep-git-dir ${url}#v1 /k\n`);
    const head = spawnSync('git', ['-C', path.join(top, 'k'), 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(head, g('rev-parse', 'v1^{commit}'));
  });

  it('checks --checksum against the commit', async () => {
    const commit = g('rev-parse', 'v1^{commit}');
    await run(`FROM scratch\nADD --checksum=${commit} ${url}#v1 /c/\n`);
    await assert.rejects(run(`FROM scratch\nADD --checksum=${'0'.repeat(40)} ${url}#v1 /c/\n`), new RegExp(`Dockerfile:2: .*expected checksum 0{40}, got commit ${commit}`));
  });

  it('fetches over smart HTTP (an http URL ending in .git)', async () => {
    const srv = await gitHttpServer(path.dirname(repo));
    try {
      const { top } = await run(`FROM scratch\nADD ${srv.url}/repo.git#v1:docs/api /h/\n`);
      assert.equal(fs.readFileSync(path.join(top, 'h', 'index.md'), 'utf8'), '# api\n');
    } finally {
      await srv.close();
    }
  });

  it('brings submodules along, without their .git links', async () => {
    const lib = path.join(path.dirname(repo), 'lib.git');
    fs.mkdirSync(lib);
    const gl = (...args: string[]) => assert.equal(spawnSync('git', ['-C', lib, ...args], { env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).status, 0);
    gl('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(lib, 'lib.txt'), 'lib\n');
    gl('add', '.');
    gl('commit', '-q', '-m', 'lib');
    g('-c', 'protocol.allow=always', 'submodule', 'add', '-q', url.replace('repo.git', 'lib.git'), 'vendor/lib');
    g('commit', '-q', '-m', 'with submodule');
    const { top } = await run(`FROM scratch\nADD ${url}#main /s/\n`);
    assert.equal(fs.readFileSync(path.join(top, 's', 'vendor', 'lib', 'lib.txt'), 'utf8'), 'lib\n');
    assert.equal(fs.existsSync(path.join(top, 's', 'vendor', 'lib', '.git')), false);
    assert.equal(fs.existsSync(path.join(top, 's', '.git')), false);
    assert.equal(fs.existsSync(path.join(top, 's', '.gitmodules')), true);
  });

  it('names an unknown ref, a missing subdir and an unreachable remote with the line', async () => {
    await assert.rejects(run(`FROM scratch\nADD ${url}#nope /x/\n`), /^.*Dockerfile:2: git:\/\/.*#nope: git ref "nope" not found$/);
    await assert.rejects(run(`FROM scratch\nADD ${url}#v1:missing /x/\n`), /Dockerfile:2: .*subdir "missing" is not a directory of the repository/);
    await assert.rejects(run(`FROM scratch\nADD git://127.0.0.1:1/none.git /x/\n`), /Dockerfile:2: git:\/\/127\.0\.0\.1:1\/none\.git: git ls-remote failed: /);
  });
});
