// Container logs in Docker's json-file format: one JSON object per output line,
// {"log":"line\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}, appended by the
// shim as the container writes, rotated (and with `compress` gzipped: FILE.1.gz ...) as Docker's
// json-file driver rotates it, read back by `logs` with --tail, --since, -t and -f.
import fs from 'node:fs';
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  log: string;
  stream: LogStream;
  time: string;
  /** Docker's json-file: the entry's extra attributes (strata's writer leaves them to the reader, `details`). */
  attrs?: Record<string, string>;
}

/** Docker splits a line that grows past this without a newline into several entries. */
const MAX_LINE = 16 * 1024;

// Wall time with nanosecond digits: the wall clock at start plus the monotonic clock since.
const wallStartNs = BigInt(Date.now()) * 1_000_000n;
const monoStart = process.hrtime.bigint();

/** The current time as RFC 3339 with nanoseconds, as Docker writes it. */
export function rfc3339Nano(ns: bigint = wallStartNs + (process.hrtime.bigint() - monoStart)): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}

/** Parses an RFC 3339 time (any fraction length) to nanoseconds since the epoch. */
export function parseRfc3339(text: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/**
 * The rotated files of a log, oldest first (FILE.N … FILE.1), as Docker's json-file names them:
 * FILE.k, or FILE.k.gz once compressed (a FILE.k not compressed yet is read as it is).
 */
export function rotatedLogs(file: string): string[] {
  const out: string[] = [];
  for (let i = 1; ; i++) {
    const plain = `${file}.${i}`;
    if (fs.existsSync(plain)) out.unshift(plain);
    else if (fs.existsSync(`${plain}.gz`)) out.unshift(`${plain}.gz`);
    else return out;
  }
}

/** A rotated log's bytes (gunzipped), its inode and whether it was compressed; FILE.k compressed meanwhile is read as FILE.k.gz; undefined when gone. */
function readRotated(f: string): { data: Buffer; ino: number; gz: boolean } | undefined {
  for (const name of f.endsWith('.gz') ? [f] : [f, `${f}.gz`]) {
    let fd: number;
    try {
      fd = fs.openSync(name, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // dropped (or compressed) by a rotation meanwhile
      throw err;
    }
    try {
      const gz = name.endsWith('.gz');
      const raw = fs.readFileSync(fd);
      return { data: gz ? zlib.gunzipSync(raw) : raw, ino: fs.fstatSync(fd).ino, gz };
    } finally {
      fs.closeSync(fd);
    }
  }
  return undefined;
}

/**
 * FILE.1's gzipped bytes put in place as FILE.1.gz, as Docker's json-file driver compresses a
 * rotated file: written aside and renamed, then FILE.1 removed, so a reader finds one or the
 * other whole (both: the same lines).
 */
function placeCompressed(file: string, gzipped: Buffer): void {
  const plain = `${file}.1`;
  const tmp = `${plain}.gz.tmp`;
  fs.writeFileSync(tmp, gzipped, { mode: 0o640 });
  fs.renameSync(tmp, `${plain}.gz`);
  fs.rmSync(plain);
}

/** FILE.1 gzipped into FILE.1.gz now (placeCompressed). */
function compressRotated(file: string): void {
  placeCompressed(file, zlib.gzipSync(fs.readFileSync(`${file}.1`)));
}

const gzip = (data: Buffer) => new Promise<Buffer>((resolve, reject) => zlib.gzip(data, (err, out) => (err ? reject(err) : resolve(out))));

/**
 * Appends the container's output to a json-file log, one entry per line. With `limits`, the
 * file is rotated as Docker's json-file driver does: when a write would take it past max-size,
 * FILE.1 … FILE.(max-file − 1) shift up (the oldest goes) and a new FILE starts; with one file
 * only, FILE is emptied instead. With `compress`, the rotated files are FILE.1.gz …, each gzipped
 * after it is rotated, off the write path (compressLater).
 */
export class JsonLogWriter {
  private fd: number;
  private size: number;
  private readonly partial: Record<LogStream, string> = { stdout: '', stderr: '' };
  /** The gzip of the last rotated file, under way off the write path (compressLater). */
  private compressing: { cancelled: boolean; done: Promise<void> } | undefined;

  constructor(
    readonly file: string,
    private readonly limits: { maxSize?: number; maxFiles: number; compress?: boolean } = { maxFiles: 1 },
  ) {
    this.fd = fs.openSync(file, 'a', 0o640);
    this.size = fs.fstatSync(this.fd).size;
  }

  /** Writes ENTRIES (one line each) in one write, or in one a file when they rotate it. */
  private append(entries: string[]): void {
    if (this.limits.maxSize === undefined) {
      // No rotation: one write, no per-entry accounting.
      fs.writeSync(this.fd, entries.length === 1 ? entries[0]! : entries.join(''));
      return;
    }
    let batch = '';
    for (const entry of entries) {
      const bytes = Buffer.byteLength(entry);
      if (this.limits.maxSize !== undefined && this.size > 0 && this.size + bytes > this.limits.maxSize) {
        if (batch) fs.writeSync(this.fd, batch);
        batch = '';
        this.rotate();
      }
      batch += entry;
      this.size += bytes;
    }
    if (batch) fs.writeSync(this.fd, batch);
  }

  private rotate(): void {
    if (this.limits.maxFiles <= 1) {
      fs.ftruncateSync(this.fd, 0);
    } else {
      fs.closeSync(this.fd);
      const ext = this.limits.compress ? '.gz' : '';
      // A FILE.1 left uncompressed (its gzip still under way, or killed before it was gzipped) is
      // compressed before it shifts; a gzip under way then places nothing.
      this.cancelCompression();
      if (ext && fs.existsSync(`${this.file}.1`)) compressRotated(this.file);
      fs.rmSync(`${this.file}.${this.limits.maxFiles - 1}${ext}`, { force: true });
      for (let i = this.limits.maxFiles - 2; i >= 1; i--) {
        if (fs.existsSync(`${this.file}.${i}${ext}`)) fs.renameSync(`${this.file}.${i}${ext}`, `${this.file}.${i + 1}${ext}`);
      }
      fs.renameSync(this.file, `${this.file}.1`);
      this.fd = fs.openSync(this.file, 'a', 0o640);
      if (ext) this.compressLater();
    }
    this.size = 0;
  }

  /**
   * Gzips FILE.1 off the write path (Docker's driver compresses in the background too): read and
   * compressed asynchronously (zlib on libuv's pool), then checked and put in place synchronously,
   * so that no rotation can come between the check and the rename. A failure leaves FILE.1 as it
   * is: readers take it so, and the next rotation compresses it.
   */
  private compressLater(): void {
    const job = { cancelled: false, done: Promise.resolve() };
    job.done = (async () => {
      try {
        const gzipped = await gzip(await fs.promises.readFile(`${this.file}.1`));
        if (!job.cancelled) placeCompressed(this.file, gzipped);
      } catch {
        // left as FILE.1 (see above)
      } finally {
        if (this.compressing === job) this.compressing = undefined;
      }
    })();
    this.compressing = job;
  }

  private cancelCompression(): void {
    if (this.compressing) this.compressing.cancelled = true;
    this.compressing = undefined;
  }

  /** Resolves once the gzip of a rotated file under way is done (or gave up). */
  async compressed(): Promise<void> {
    await this.compressing?.done;
  }

  /** A writable stream for one of the container's streams; its end flushes a last partial line. */
  stream(name: LogStream): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.write(name, chunk);
        done();
      },
      final: (done) => {
        this.flush(name);
        done();
      },
    });
  }

  write(name: LogStream, chunk: Buffer | string): void {
    let text = this.partial[name] + chunk.toString();
    const entries: string[] = [];
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
      entries.push(this.entry(name, text.slice(0, nl + 1)));
      text = text.slice(nl + 1);
    }
    while (text.length >= MAX_LINE) {
      entries.push(this.entry(name, text.slice(0, MAX_LINE)));
      text = text.slice(MAX_LINE);
    }
    this.partial[name] = text;
    if (entries.length) this.append(entries);
  }

  flush(name: LogStream): void {
    if (!this.partial[name]) return;
    this.append([this.entry(name, this.partial[name])]);
    this.partial[name] = '';
  }

  close(): void {
    this.flush('stdout');
    this.flush('stderr');
    fs.closeSync(this.fd);
    // The last rotated file is not left uncompressed by an exit that comes first.
    if (this.compressing) {
      this.cancelCompression();
      if (fs.existsSync(`${this.file}.1`)) compressRotated(this.file);
    }
  }

  private entry(stream: LogStream, log: string): string {
    return `${JSON.stringify({ log, stream, time: rfc3339Nano() })}\n`;
  }
}

/** What the shim writes a container's output through. */
export type LogWriter = Pick<JsonLogWriter, 'write' | 'flush' | 'close'>;

/** `--log-driver none`: the output is kept nowhere. */
export const NO_LOG: LogWriter = { write: () => undefined, flush: () => undefined, close: () => undefined };

/**
 * Output of a container attached to the CLI (a foreground `run`, `start -a`) goes both to the
 * terminal and to its json-file log, so `logs` shows it afterwards as Docker's does.
 */
export function teeToLog(
  file: string, targets: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }, limits?: { maxSize?: number; maxFiles: number; compress?: boolean },
): { stdout: Writable; stderr: Writable; close(): void } {
  const log = new JsonLogWriter(file, limits);
  const tee = (name: LogStream) =>
    new Writable({
      write: (chunk: Buffer, _enc, done) => {
        log.write(name, chunk);
        // Waits for the terminal (or pipe) to take the chunk: backpressure reaches runc.
        if (targets[name].write(chunk)) done();
        else targets[name].once('drain', () => done());
      },
      final: (done) => {
        log.flush(name);
        done();
      },
    });
  return { stdout: tee('stdout'), stderr: tee('stderr'), close: () => log.close() };
}

const UNITS: Record<string, bigint> = { ns: 1n, us: 1_000n, '\u00b5s': 1_000n, '\u03bcs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };

/**
 * A timestamp as Docker's timetypes.GetTimestamp reads one: a date, or a date and an hour with
 * optional minutes, seconds and fraction; with a zone (Z, +01:00) or else in local time.
 */
function parseTimestamp(text: string): bigint | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d\d:\d\d)?$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return undefined;
  const zone = m[8];
  let ms: number;
  if (zone === undefined) ms = new Date(y, mo - 1, d, h, mi, sec).getTime();
  else {
    const offset = /^[zZ]$/.test(zone) ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    ms = Date.UTC(y, mo - 1, d, h, mi, sec) - offset * 60_000;
  }
  return BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
}

/**
 * `--since`/`--until` (flag names the option in the error): a timestamp (parseTimestamp), a Unix
 * time (`1700000000.5`) or a Go duration back from now (`10m`, `1h30m`).
 */
export function parseSince(text: string, nowNs: bigint = BigInt(Date.now()) * 1_000_000n, flag = 'since'): bigint {
  const abs = parseTimestamp(text);
  if (abs !== undefined) return abs;
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (unix) return BigInt(unix[1]!) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0'));
  const dur = /^(?:\d+(?:\.\d+)?(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g) : null;
  if (!dur) throw new StrataError(`invalid value for "${flag}": "${text}" is not a time or a duration`);
  let total = 0n;
  for (const part of dur) {
    const [, num, unit] = /^(\d+(?:\.\d+)?)(.*)$/.exec(part)!;
    total += BigInt(Math.round(Number(num) * Number(UNITS[unit!]!)));
  }
  return nowNs - total;
}

export interface ReadLogsOptions {
  /** Only the last N lines (undefined: all). */
  tail?: number;
  /** Only entries at or after this time (ns since the epoch). */
  sinceNs?: bigint;
  /** Only entries before this time. */
  untilNs?: bigint;
  /** Prefix each line with its RFC 3339 time. */
  timestamps?: boolean;
  /** `--details`: prefix each line with these attributes (log-config.ts logAttributes), as Docker's. */
  details?: Record<string, string>;
  /** Keep reading new entries while this says the container runs. */
  follow?: () => boolean | Promise<boolean>;
  /** Poll interval for follow. */
  pollMs?: number;
}

export type LogSink = (stream: LogStream, text: string) => void;

function parseLines(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as LogEntry);
    } catch {
      // A torn last line (the shim was killed mid-write) is skipped, as Docker does.
    }
  }
  return out;
}

function emit(entries: LogEntry[], options: ReadLogsOptions, sink: LogSink): void {
  for (const e of entries) {
    const t = parseRfc3339(e.time);
    if (options.sinceNs !== undefined && t !== undefined && t < options.sinceNs) continue;
    if (options.untilNs !== undefined && t !== undefined && t >= options.untilNs) continue;
    const line = options.details ? `${attributesText(e.attrs ?? options.details)} ${e.log}` : e.log;
    sink(e.stream, options.timestamps ? `${e.time} ${line}` : line);
  }
}

/** Docker's `--details` prefix (moby's attrsByteSlice): key=value pairs by key, query-escaped, comma-separated; "" for none. */
export function attributesText(attrs: Record<string, string>): string {
  return Object.keys(attrs).sort().map((k) => `${queryEscape(k)}=${queryEscape(attrs[k]!)}`).join(',');
}

/** Go's url.QueryEscape: all but letters, digits and -_.~ as %XX of their UTF-8 bytes, space as +. */
function queryEscape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

/** Reads a json-file log (its rotated files first) into SINK; with `follow`, keeps going until the container stops. */
export async function readLogs(file: string, options: ReadLogsOptions, sink: LogSink): Promise<void> {
  let offset = 0;
  let rest = '';
  // The file being followed, held open: when the writer rotates it away, what it still had is
  // read through this descriptor before the new file is opened.
  let held: { fd: number; ino: number } | undefined;
  const open = (): boolean => {
    try {
      const fd = fs.openSync(file, 'r');
      held = { fd, ino: fs.fstatSync(fd).ino };
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  };
  const drain = (): LogEntry[] => {
    if (!held && !open()) return [];
    const size = fs.fstatSync(held!.fd).size;
    if (size < offset) offset = 0; // emptied in place (max-file 1)
    if (size <= offset) return [];
    const buf = Buffer.alloc(size - offset);
    const n = fs.readSync(held!.fd, buf, 0, buf.length, offset);
    offset += n;
    const text = rest + buf.subarray(0, n).toString('utf8');
    const cut = text.lastIndexOf('\n') + 1;
    rest = text.slice(cut);
    return parseLines(text.slice(0, cut));
  };
  const readNew = (): LogEntry[] => {
    const entries = drain();
    let now: number | undefined;
    try {
      now = fs.statSync(file).ino;
    } catch {
      now = undefined;
    }
    if (held && now !== undefined && now !== held.ino) {
      // Rotated: the rest of the old file, then the new one from its start. Rotated more than
      // once since the last look, the old file is FILE.k(.gz) now: FILE.(k−1) … FILE.1 came after it.
      const rotated = rotatedLogs(file);
      const after: LogEntry[] = [];
      for (let i = rotated.length - 1; i >= 0; i--) {
        const f = rotated[i]!;
        if (f.endsWith('.gz') ? isHeld(readRotated(f)) : fs.statSync(f, { throwIfNoEntry: false })?.ino === held.ino) {
          for (const newer of rotated.slice(i + 1)) after.push(...parseLines(readRotated(newer)?.data.toString('utf8') ?? ''));
          break;
        }
      }
      fs.closeSync(held.fd);
      held = undefined;
      offset = 0;
      rest = '';
      entries.push(...after);
      entries.push(...drain());
    }
    return entries;
  };
  /**
   * Whether a rotated file read is the held one: the same inode, or compressed, the same bytes as
   * the held file once that was unlinked (gzipped away by the writer's rotation).
   */
  const isHeld = (r: ReturnType<typeof readRotated>): boolean => {
    if (!held || !r) return false;
    if (!r.gz) return r.ino === held.ino;
    const st = fs.fstatSync(held.fd);
    if (st.nlink !== 0 || st.size !== r.data.length) return false;
    const bytes = Buffer.alloc(st.size);
    fs.readSync(held.fd, bytes, 0, st.size, 0);
    return bytes.equals(r.data);
  };
  try {
    // The current file is held first: rotated away while the older files are read, it is then
    // skipped among them (same inode) and read through the descriptor, neither lost nor twice.
    open();
    failpoint('logs.opened');
    let first: LogEntry[] = [];
    for (const old of rotatedLogs(file)) {
      const r = readRotated(old);
      if (!r || isHeld(r)) continue;
      first.push(...parseLines(r.data.toString('utf8')));
    }
    first.push(...readNew());
    if (options.tail !== undefined) first = options.tail <= 0 ? [] : first.slice(-options.tail);
    emit(first, options, sink);
    if (!options.follow) return;
    for (;;) {
      const running = await options.follow();
      emit(readNew(), options, sink);
      if (!running) return;
      await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
    }
  } finally {
    if (held) fs.closeSync(held.fd);
  }
}
