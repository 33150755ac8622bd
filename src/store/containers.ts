// Container state: one JSON document per container at <root>/containers/<id>/config.json,
// replaced atomically (temp file, fsync, rename) under a per-container lock, beside the
// container's overlay upper/work dirs and runtime bundle. Names are claimed by linking a
// complete claim file to <root>/containers/by-name/<name> (link() fails when it exists), so two
// processes can never take the same name, and no claim is ever read half-written.
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import path from 'node:path';
import { NotFoundError, StrataError } from '../errors.js';
import { DamagedError } from './damage.js';
import type { ContainerRecord, ContainerState } from './container-record.js';
import { atomicWrite, tempName } from './fsutil.js';
import { appendContainerRemoval } from './events.js';
import { withContainerLock } from './container-lock.js';
import { pidAlive } from './owner.js';
import { mountsInside, removeTree, removeTreeDetached } from './remove-tree.js';

const ID_RE = /^[0-9a-f]{64}$/;
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateName(name: string): void {
  if (!NAME_RE.test(name)) throw new StrataError(`invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
}

function isEmptyDir(dir: string): boolean {
  try {
    return fsSync.readdirSync(dir).length === 0;
  } catch {
    return false;
  }
}

/** Graveyards this process gave a detached rm (which renames them a moment later): not twice. */
const handedOff = new Set<string>();

/** How old an empty name claim (see #takeOverStaleName) must be to be taken over. */
const EMPTY_CLAIM_MS = 5_000;

export class ContainerStore {
  readonly dir: string;
  readonly #names: string;

  constructor(readonly root: string) {
    this.dir = path.join(root, 'containers');
    this.#names = path.join(this.dir, 'by-name');
  }

  /** The container's own directory and the overlay dirs and bundle inside it. */
  paths(id: string): { dir: string; config: string; upper: string; work: string; bundle: string } {
    if (!ID_RE.test(id)) throw new StrataError(`invalid container ID "${id}"`);
    const dir = path.join(this.dir, id);
    return { dir, config: path.join(dir, 'config.json'), upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), bundle: path.join(dir, 'bundle') };
  }

  /** Creates the container: claims its name (throws on a conflict), makes its dirs, writes its record. */
  async create(record: ContainerRecord): Promise<void> {
    const name = record.Name.replace(/^\//, '');
    validateName(name);
    const p = this.paths(record.Id);
    await this.#claimName(name, record.Id);
    let made = false;
    try {
      await fs.mkdir(p.dir, { recursive: false });
      made = true;
      await Promise.all([fs.mkdir(p.upper), fs.mkdir(p.work), fs.mkdir(p.bundle)]);
      // A --rm container's record lives only as long as its run: atomic (a kill -9 leaves the
      // old file or the new), but not fsynced; a power loss may leave it torn, which `ps` and
      // `rm` handle (DamagedError). Two fsyncs of the file and its dir are ~2 ms of `run --rm` on ext4.
      await atomicWrite(p.config, JSON.stringify(record, null, 2), { mode: 0o600, durable: !record.HostConfig?.AutoRemove });
    } catch (err) {
      // Only what this call made: an existing dir of that ID (EEXIST) is another container's.
      if (made) await fs.rm(p.dir, { recursive: true, force: true });
      await fs.rm(path.join(this.#names, name), { force: true });
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && !made) throw new StrataError(`conflict: a container with ID "${record.Id}" already exists`);
      throw err;
    }
  }

  /** Who holds a name: the container ID and the pid of the process that claimed it. */
  async #nameOwner(name: string): Promise<{ id: string; pid: number } | undefined> {
    const text = await fs.readFile(path.join(this.#names, name), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const [id = '', pid = '0'] = text.split('\n');
    return { id: id.trim(), pid: Number(pid) || 0 };
  }

  /**
   * Claims NAME for the container ID. The claim is written whole to a temp file beside it and
   * linked into place: link() fails when the name exists, so two claimants never both win, and
   * a claim is never seen half-written nor left empty by a claimant killed mid-way.
   */
  async #claimName(name: string, id: string): Promise<void> {
    const file = path.join(this.#names, name);
    // A dot can't start a container name: a temp here is never taken for one (swept when its writer is dead).
    const temp = tempName(this.#names, '-claim');
    await fs.mkdir(this.#names, { recursive: true });
    await fs.writeFile(temp, `${id}\n${process.pid}\n`, { flag: 'wx' });
    try {
      await fs.link(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await this.#takeOverStaleName(name)) return this.#claimName(name, id);
      const owner = (await this.#nameOwner(name))?.id ?? '';
      throw new StrataError(`conflict: the container name "/${name}" is already in use by container "${owner}": remove (or rename) that container to be able to reuse that name`);
    } finally {
      await fs.rm(temp, { force: true });
    }
  }

  /**
   * A name is stale when its container has no record and the process that claimed it is gone
   * (killed mid-create or mid-remove). Removing it happens under a per-name lock, after a
   * second look, so a name another process has just claimed is never taken away.
   */
  async #takeOverStaleName(name: string): Promise<boolean> {
    const isStale = async () => {
      const owner = await this.#nameOwner(name);
      if (owner === undefined) return false;
      // An empty claim: left by a version that created the claim and wrote it in two steps, killed
      // between them. Nobody writes one now; one a few seconds old is no claim in progress.
      if (owner.id === '') return Date.now() - (await fs.stat(path.join(this.#names, name)).then((st) => st.mtimeMs, () => Date.now())) > EMPTY_CLAIM_MS;
      return ID_RE.test(owner.id) && !(await this.#exists(owner.id)) && !(owner.pid > 0 && pidAlive(owner.pid));
    };
    if (!(await isStale())) return false;
    const lock = path.join(this.#names, `.${name}.takeover`);
    try {
      await fs.mkdir(lock);
    } catch {
      return false; // another process is on it: treat the name as taken this time
    }
    try {
      if (!(await isStale())) return false;
      await fs.rm(path.join(this.#names, name), { force: true });
      return true;
    } finally {
      await fs.rm(lock, { recursive: true, force: true });
    }
  }

  async #exists(id: string): Promise<boolean> {
    return fs.access(this.paths(id).config).then(() => true, () => false);
  }

  /** Removes every name claim that names the container ID (its record, which names it, could not be read). */
  async #releaseNamesOf(id: string): Promise<void> {
    const names = await fs.readdir(this.#names).catch(() => [] as string[]);
    for (const name of names) {
      if (NAME_RE.test(name) && (await this.#nameOwner(name))?.id === id) await fs.rm(path.join(this.#names, name), { force: true });
    }
  }

  /**
   * The ID REF names, in Docker's order: a full ID, a name, a unique ID prefix (more than one
   * throws). IS(ID, NAME) says whether an ID found that way is a container (found by NAME: one
   * that bears it), else the search goes on.
   */
  async #resolve(ref: string, is: (id: string, name?: string) => Promise<boolean>): Promise<string | undefined> {
    if (ID_RE.test(ref) && (await is(ref))) return ref;
    const name = ref.replace(/^\//, '');
    if (NAME_RE.test(name)) {
      const owner = (await this.#nameOwner(name))?.id ?? '';
      if (ID_RE.test(owner) && (await is(owner, name))) return owner;
    }
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const entries = await fs.readdir(this.dir).catch(() => [] as string[]);
    const matches = entries.filter((e) => ID_RE.test(e) && e.startsWith(ref));
    if (matches.length > 1) throw new StrataError(`multiple IDs found with provided prefix: ${ref}`);
    return matches.length === 1 && (await is(matches[0]!)) ? matches[0] : undefined;
  }

  /**
   * The ID REF names (as find()) without reading any record: how a container whose record is
   * damaged is still found for `rm`. Undefined when none.
   */
  async idOf(ref: string): Promise<string | undefined> {
    return this.#resolve(ref, async (id) => fsSync.existsSync(this.paths(id).dir));
  }

  /** True when a name is taken (by an existing container). */
  async nameTaken(name: string): Promise<boolean> {
    const owner = await this.#nameOwner(name);
    return owner !== undefined && ID_RE.test(owner.id) && this.#exists(owner.id);
  }

  async read(id: string): Promise<ContainerRecord | undefined> {
    const file = this.paths(id).config;
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StrataError(`reading container "${id.slice(0, 12)}": ${(err as Error).message}`);
    }
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch {
      throw new DamagedError(`container "${id.slice(0, 12)}"`, `its record "${file}" is not valid JSON`);
    }
  }

  async list(): Promise<ContainerRecord[]> {
    const entries = await fs.readdir(this.dir).catch(() => [] as string[]);
    const records = await Promise.all(entries.filter((e) => ID_RE.test(e)).map((id) => this.read(id)));
    return records.filter((r): r is ContainerRecord => r !== undefined);
  }

  /** list(), with the containers whose record is damaged set apart instead of failing the whole (`ps`). */
  async listReadable(): Promise<{ records: ContainerRecord[]; damaged: DamagedError[] }> {
    const entries = await fs.readdir(this.dir).catch(() => [] as string[]);
    const damaged: DamagedError[] = [];
    const records = await Promise.all(entries.filter((e) => ID_RE.test(e)).map((id) => this.read(id).catch((err: unknown) => {
      if (!(err instanceof DamagedError)) throw err;
      damaged.push(err);
      return undefined;
    })));
    return { records: records.filter((r): r is ContainerRecord => r !== undefined), damaged };
  }

  /** By full ID, name, or unique ID prefix (Docker's order). Throws `no such container`. */
  async get(ref: string): Promise<ContainerRecord> {
    const found = await this.find(ref);
    if (!found) throw new NotFoundError(`no such container: "${ref}"`);
    return found;
  }

  async find(ref: string): Promise<ContainerRecord | undefined> {
    let found: ContainerRecord | undefined;
    const is = async (id: string, name?: string) => {
      found = await this.read(id);
      // A name's claim may outlive a rename for a moment: only the record that bears it counts.
      return found !== undefined && (name === undefined || found.Name === `/${name}`);
    };
    return (await this.#resolve(ref, is)) === undefined ? undefined : found;
  }

  /**
   * Read-modify-write of one record under its lock. Returns the new record. `durable: false`
   * skips the fsync (still atomic against crashes of the process) for state that can be
   * rebuilt, such as the runtime state mirrored from shim.json.
   */
  async update(id: string, change: (record: ContainerRecord) => void, options: { durable?: boolean } = {}): Promise<ContainerRecord> {
    return this.#withLock(id, async () => {
      const record = await this.read(id);
      if (!record) throw new NotFoundError(`no such container: "${id}"`);
      change(record);
      await atomicWrite(this.paths(id).config, JSON.stringify(record, null, 2), { mode: 0o600, durable: options.durable ?? true });
      return record;
    });
  }

  /**
   * Runs FN with the record read under its lock, held until FN is done; writes nothing. For an
   * act that must not interleave with update(): `runc update` from the record's limits (see
   * src/runtime/live-limits.ts).
   */
  async withRecord<T>(id: string, fn: (record: ContainerRecord) => Promise<T> | T): Promise<T> {
    return this.#withLock(id, async () => {
      const record = await this.read(id);
      if (!record) throw new NotFoundError(`no such container: "${id}"`);
      return fn(record);
    });
  }

  /** Gives a container a new name; the old one is released only once the new one is taken. */
  async rename(id: string, newName: string): Promise<void> {
    validateName(newName);
    await this.#claimName(newName, id);
    let oldName = '';
    try {
      await this.update(id, (r) => {
        oldName = r.Name.replace(/^\//, '');
        r.Name = `/${newName}`;
      });
    } catch (err) {
      await fs.rm(path.join(this.#names, newName), { force: true });
      throw err;
    }
    if (oldName && oldName !== newName) await fs.rm(path.join(this.#names, oldName), { force: true });
  }

  /**
   * Deletes the container's state and files. The dir is renamed away first, so a reader sees it
   * whole or not at all. With `background` the renamed dir is not unlinked before returning: a
   * detached `rm -rf` takes it, or, when the container wrote nothing, the next `run`'s sweep
   * (sweepGraveyards). The container and its name are gone either way, and a foreground
   * `run --rm` exits without waiting for some 25 unlinks (slow on ext4).
   */
  async remove(id: string, options: { background?: boolean; state?: ContainerState; guard?: () => void | Promise<void> } = {}): Promise<void> {
    // A damaged record (torn JSON) does not keep its container from being removed (`rm`).
    const record = await this.read(id).catch((err: unknown) => {
      if (err instanceof DamagedError) return undefined;
      throw err;
    });
    const p = this.paths(id);
    // Nothing of strata's is mounted in a container's dir on the host (runc mounts in the
    // container's namespace); something that is (a user's bind mount) is not the container's.
    const mounted = mountsInside(p.dir);
    if (mounted.length) throw new StrataError(`removing container "${id.slice(0, 12)}": "${mounted[mounted.length - 1]}" is a mount point in its files: unmount it first`);
    const graveyard = path.join(this.dir, `.removing-${id}-${process.pid}`);
    const moved = await this.#moveAway(id, graveyard, options.guard);
    if (!record && moved) await this.#releaseNamesOf(id);
    if (record) {
      const name = record.Name.replace(/^\//, '');
      if ((await this.#nameOwner(name))?.id === id) await fs.rm(path.join(this.#names, name), { force: true });
      // The events log keeps its life; `state` is how it ended when the record was not told.
      if (moved) appendContainerRemoval(this.root, options.state ? { ...record, State: options.state } : record);
    }
    if (options.background) {
      // A container that wrote nothing leaves a few small files: the next `run`'s sweep takes
      // them, off its critical path, and this one exits without forking. Data goes at once.
      if (isEmptyDir(path.join(graveyard, 'upper'))) return;
      // Renamed after the rm itself first (adopt): a sweep started once this process is gone sees a live owner.
      if (removeTreeDetached(graveyard, { adopt: true })) return;
    }
    await removeTree(graveyard);
  }

  /**
   * Renames the container's dir to GRAVEYARD, the removal's point of no return; false when it
   * is gone already. GUARD (the runtime's "is it running?") and the rename are one step under
   * the container's lock, which a start takes to claim the container (runtime/start-claim.ts):
   * a start either claimed it before, and GUARD sees it live and throws (nothing is removed),
   * or comes after and finds no container. The lock file moves away with the dir, so a start
   * waiting for it is told "no such container".
   */
  async #moveAway(id: string, graveyard: string, guard: (() => void | Promise<void>) | undefined): Promise<boolean> {
    const { dir } = this.paths(id);
    const rename = () => fs.rename(dir, graveyard).then(() => true, (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      return false;
    });
    if (!guard) return rename();
    try {
      return await this.#withLock(id, async () => {
        await guard();
        return rename();
      });
    } catch (err) {
      if (!fsSync.existsSync(dir)) return false; // removed by another process meanwhile
      throw err;
    }
  }

  /**
   * Runs FN under the container's lock without reading its record: a check-and-act that must not
   * interleave with another process's (a start's claim against a removal's last look, see
   * #moveAway). Throws "no such container" when its dir is gone.
   */
  locked<T>(id: string, fn: () => Promise<T> | T): Promise<T> {
    return this.#withLock(id, async () => fn());
  }

  /**
   * Unlinks what removals left behind: graveyards whose process is gone (see remove(); a kill
   * mid-removal leaves one too). Safe beside other strata processes: only dead owners' dirs are
   * taken, and a race on one is left to the next sweep. One whose container wrote nothing is a
   * few small files, unlinked here; one with data goes to a detached rm in a mount namespace of
   * its own (as remove()'s), which renames it after itself: an rm here would go through a mount
   * made into the tree after the mount table was read (and would hold up this command).
   */
  async sweepGraveyards(): Promise<void> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      const m = /^\.removing-[0-9a-f]{64}-(\d+)$/.exec(name);
      if (!m || pidAlive(Number(m[1]))) continue;
      const dir = path.join(this.dir, name);
      if (isEmptyDir(path.join(dir, 'upper')) || !fsSync.existsSync(path.join(dir, 'upper'))) await removeTree(dir).catch(() => undefined); // kept while anything is mounted in it
      else if (!handedOff.has(dir) && removeTreeDetached(dir, { adopt: true })) handedOff.add(dir); // not started: the next sweep tries again
    }
  }

  #withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return withContainerLock(this.paths(id).dir, id, fn);
  }
}
