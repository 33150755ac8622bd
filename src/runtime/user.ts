// Resolving Docker's `-u name|uid[:group|gid]` against the container's own /etc/passwd and
// /etc/group, with the rules of moby/sys/user GetExecUser: a matched user brings its primary
// group and, when no group is given, the groups that list it as a member.
import { StrataError } from '../errors.js';
import { resolveInRoot, type FsView } from './resolve.js';

export interface PasswdEntry { name: string; uid: number; gid: number; home: string }
export interface GroupEntry { name: string; gid: number; members: string[] }

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

/** A view that can also read a file it resolved (UnionView, or a directory view with readFile). */
export interface ReadableView extends FsView {
  readFile(rel: string): Promise<Buffer>;
}

const NUMERIC = /^[0-9]+$/;
const MAX_ID = 2 ** 31 - 1;

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 4 || f[0] === '' || f[0]!.startsWith('#') || !NUMERIC.test(f[2]!) || !NUMERIC.test(f[3]!)) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 3 || f[0] === '' || f[0]!.startsWith('#') || !NUMERIC.test(f[2]!)) continue;
    out.push({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

/** Reads a file of the container's tree, confined to it; '' when it does not exist or is not a regular file. */
export async function readContainerFile(view: ReadableView, file: string): Promise<string> {
  try {
    const found = await resolveInRoot(view, file, { followLast: true });
    if (!found.stat?.isFile()) return '';
    if (found.stat.size > 16 * 1024 * 1024) throw new StrataError(`reading "${file}" in the container: file too large`);
    return (await view.readFile(found.rel)).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return '';
    throw err;
  }
}

function parseId(text: string, what: string): number {
  const n = Number(text);
  if (n > MAX_ID) throw new StrataError(`${what} ${text} out of range`);
  return n;
}

/** Resolves a user spec with the given passwd and group entries (pure; see resolveUser). */
export function resolveUserSpec(spec: string, passwd: PasswdEntry[], groups: GroupEntry[], additional: string[] = []): ResolvedUser {
  const [userArg = '', groupArg = ''] = splitOnce(spec.trim(), ':');
  const user: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };
  let matchedName: string | undefined;
  const wantUser = userArg === '' ? '0' : userArg;
  const entry = passwd.find((p) => (NUMERIC.test(wantUser) ? p.uid === Number(wantUser) : p.name === wantUser));
  if (entry) {
    Object.assign(user, { uid: entry.uid, gid: entry.gid, home: entry.home });
    matchedName = entry.name;
  } else if (NUMERIC.test(wantUser)) {
    user.uid = parseId(wantUser, 'uid');
  } else {
    throw new StrataError(`unable to find user ${userArg}: no matching entries in passwd file`);
  }
  if (groupArg !== '') {
    const group = groups.find((g) => (NUMERIC.test(groupArg) ? g.gid === Number(groupArg) : g.name === groupArg));
    if (group) user.gid = group.gid;
    else if (NUMERIC.test(groupArg)) user.gid = parseId(groupArg, 'gid');
    else throw new StrataError(`unable to find group ${groupArg}: no matching entries in group file`);
  } else if (matchedName !== undefined) {
    user.additionalGids = groups.filter((g) => g.members.includes(matchedName!)).map((g) => g.gid);
  }
  for (const extra of additional) {
    const group = groups.find((g) => g.name === extra || (NUMERIC.test(extra) && g.gid === Number(extra)));
    if (group) user.additionalGids.push(group.gid);
    else if (NUMERIC.test(extra)) user.additionalGids.push(parseId(extra, 'gid'));
    else throw new StrataError(`unable to find group ${extra}: no matching entries in group file`);
  }
  user.additionalGids = [...new Set(user.additionalGids)];
  return user;
}

/** Resolves `-u` against the container's /etc/passwd and /etc/group (read confined to its root). */
export async function resolveUser(view: ReadableView, spec: string, additional: string[] = []): Promise<ResolvedUser> {
  const [passwd, group] = await Promise.all([readContainerFile(view, '/etc/passwd'), readContainerFile(view, '/etc/group')]);
  return resolveUserSpec(spec, parsePasswd(passwd), parseGroup(group), additional);
}

function splitOnce(text: string, sep: string): [string, string] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 1)];
}
