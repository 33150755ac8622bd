// Failpoints: named moments at which a test can make strata die as a `kill -9` would, to prove
// crash safety deterministically (as etcd's gofail and TiKV's fail-rs do), instead of timers.
//
//   STRATA_FAILPOINT=NAME          the process kills itself (SIGKILL) the first time NAME is hit
//   STRATA_FAILPOINT=NAME:N        ... the Nth time
//   STRATA_FAILPOINT=NAME:group    ... and takes its whole process group with it (kill(0, SIGKILL)),
//   STRATA_FAILPOINT=NAME:N:group  as a terminal's Ctrl-\ or a supervisor's group kill would
//   STRATA_FAILPOINT=NAME[:N]:stop the process stops itself (SIGSTOP) there instead: a test sees it
//                                  stopped (/proc/PID/stat state T), acts meanwhile (a concurrent
//                                  prune), then lets it go on with SIGCONT; no timers either way
//
// The variable is read once, when this module is first loaded, and removed from the environment,
// so child processes (runc, shims, hooks) never inherit it. Unset, a failpoint costs one
// property read. The state lives on globalThis: the CLI bundles and the ES modules they import
// each carry a copy of this module, and all copies must count hits together.
//
// The points (each is a moment that matters for what a kill leaves behind):
//   context.hashed            a batch of build-context files was hashed (a large context: N picks the batch)
//   context.stat-cache        the context's stat cache is written to its temp file, not yet renamed
//   build.run-output          a RUN step's container wrote output (mid-RUN: the container is running)
//   build.ssh-agent-spawned   `build --ssh ID=KEY`: the private ssh-agent was spawned (it notes itself), nothing else done yet
//   build.run-exited          a RUN step's container exited; its upper dir is not yet packed
//   layer.chunk               a chunk of a layer's tar was packed or read (mid-layer: N picks the chunk, 1 MiB each when packed)
//   layer.written             a layer's tar is hashed and its tar-split written to tmp/; the layer is not yet in place
//   layer.snapshot-moved      a build step's upper dir was moved into layers/ under a temp name, not yet put in place
//   layer.split-placed        a layer's tar-split is in place, its snapshot not yet renamed (the layer's commit point)
//   layer.unpacking           a layer snapshot is being extracted (load, commit, a re-made snapshot; N: the Nth entry)
//   blob.chunk-written        a chunk of a blob was written to its temp file (a pulled layer's compressed blob)
//   blob.before-rename        a blob's temp file (config, manifest, pulled blob) is complete, not yet renamed into blobs/
//   cache.before-record       a built step's layer is stored, its cache entry not yet recorded
//   cache.index-written       the cache index's temp file is written, not yet renamed
//   image.before-index        an image's config and manifest blobs are written, index.json not yet updated
//   index.before-rename       index.json's replacement is written, not yet renamed
//   save.entry-written        an entry of a `save` archive was written (mid-archive: N picks the entry)
//   save.before-rename        `save -o FILE`: the archive is complete in its temp file, not yet renamed to FILE
//   load.layer-imported       `load`: a layer of the archive is imported (mid-import: N picks the layer)
//   load.before-tag           `load`: every blob of an image is stored, its name not yet in index.json
//   pull.before-image         `pull`: every layer is here (fetched, or found "Already exists"), the image not yet written
//   commit.layer-written      `commit`: the container's layer is stored, the image not yet written
//   rootfs.mounted            `cp`/`export` of a stopped container: its root (and volumes) are mounted in the state root's tmp/
//   rootfs.volume-resolved    ... one of its volumes' destinations is resolved in that root, not yet mounted (N: the Nth)
//   container.image-resolved  `create`/`run`: the container's image is resolved, not yet leased (a removal now wins)
//   container.image-leased    `create`/`run`: the image is leased and found still here, the container's record not yet written
//   run.created               `run -d`: the container's record is written, nothing started yet (its shim, spawned early, waits for "go")
//   start.spec-made           `run -d`/`start`: the container's run spec (its limits among them) is made from its record; its shim not yet told to go
//   start.looked-up           `start`/`restart`: the container was found stopped, not yet claimed for its start
//   container.remove-checked  `rm`/`prune`/--rm: the container was found stopped (or killed), its files not yet moved away
//   run.status-saved          a foreground run recorded its container as running (shim.json); runc not yet started
//   update.runc-refused       `update`: `runc update` failed (under the record's lock), runc not yet asked whether the container exists
//   net.bridge-up             a network's bridge is made, its nftables rules not yet, its claim still pending
//   net.record-written        a network's or endpoint's record is written to its temp file, not yet renamed
//   net.claim-written         a subnet claim is written to its temp file (in the machine's dir), not yet renamed
//   net.record-moved          `network rm`: the network's dir is renamed `.removing-ID`, not yet deleted
//   net.network-removed       `network rm`: the network's record is gone, its bridge, rules and claim not yet
//   net.responder-ready       a network's DNS responder was started and said it listens; the starter has done nothing since
//   net.netns-ready           a container's network namespace is plumbed and its endpoints recorded; runc may not have started it
//   volume.create-tmp         `volume create` (and a container's new volume): the volume is made under its temp name, not yet renamed into place
//   volume.users-read         `volume rm`/`prune`, `rm -v`: no container uses the volume, it is not yet moved aside
//   volume.moved-aside        ... the volume is moved aside (`.rm-…`), its users not yet read again: undecided
//   volume.drop-decided       ... the removal decided to delete it (renamed `.drop-…`), nothing deleted yet
//   remove.detached-checked  a detached rm(1) of a removed container's files found nothing mounted in its own mount namespace, not yet removing (told to stop: its sh stops)
//   logs.opened               `logs`: the current log file is open, the rotated ones not read yet
//   cp.resolved               `cp` into or out of a container: its path is resolved inside the root, nothing copied yet
//   cp.placed                 ... an entry was placed (N: the Nth)
//   cp.read                   `cp` out of a container, `export`: an entry was read from its tree, not yet handed on (N: the Nth)

const STATE = Symbol.for('strata.failpoint');

interface Armed {
  name: string;
  /** Die at this hit (1-based). */
  nth: number;
  /** Kill the whole process group, not only this process. */
  group: boolean;
  /** Stop (SIGSTOP) instead of dying. */
  stop: boolean;
  hits: number;
}

/** Parses `NAME[:N][:group]`; null when unset or empty. */
export function parseFailpoint(text: string | undefined): Armed | null {
  if (!text) return null;
  const [name, ...rest] = text.split(':');
  let nth = 1;
  let group = false;
  let stop = false;
  for (const part of rest) {
    if (part === 'group') group = true;
    else if (part === 'stop') stop = true;
    else if (/^[1-9]\d*$/.test(part)) nth = Number(part);
    else throw new Error(`invalid STRATA_FAILPOINT "${text}": expected NAME[:N][:group|:stop]`);
  }
  return { name, nth, group, stop, hits: 0 };
}

function armed(): Armed | null {
  const g = globalThis as unknown as Record<symbol, Armed | null | undefined>;
  let a = g[STATE];
  if (a === undefined) {
    a = parseFailpoint(process.env.STRATA_FAILPOINT);
    g[STATE] = a;
    delete process.env.STRATA_FAILPOINT;
  }
  return a;
}

armed();

/** Dies here (SIGKILL, no cleanup of any kind) when STRATA_FAILPOINT names this point and hit. */
export function failpoint(name: string): void {
  let a = (globalThis as unknown as Record<symbol, Armed | null | undefined>)[STATE];
  if (a === undefined) a = armed(); // a bundler dropped the call at load
  if (!a || a.name !== name || ++a.hits !== a.nth) return;
  if (a.stop) process.kill(process.pid, 'SIGSTOP');
  else process.kill(a.group ? 0 : process.pid, 'SIGKILL');
}

/**
 * True when STRATA_FAILPOINT names this point with `:stop` (for the first hit, counted as a
 * hit): a child process that cannot read the variable (it is not inherited) is told to stop there.
 */
export function failpointStops(name: string): boolean {
  let a = (globalThis as unknown as Record<symbol, Armed | null | undefined>)[STATE];
  if (a === undefined) a = armed();
  return !!a && a.name === name && a.stop && ++a.hits === a.nth;
}
