// Pull and push progress as Docker shows it: on a terminal one line per layer, redrawn in place,
// with a bar, the bytes and the speed; otherwise a plain line each time a layer's status changes.
import type { LayerStatus, ProgressSink } from '../registry/index.js';
import { humanSize } from './format/human.js';

const BAR = 50;

function bar(cur: number, total: number): string {
  const filled = total > 0 ? Math.min(BAR, Math.floor((cur / total) * BAR)) : 0;
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(BAR - filled)}]`;
}

/** Plain lines: every status change, never the byte counts in between. */
export class PlainTransferProgress implements ProgressSink {
  private last = new Map<string, string>();
  constructor(private readonly out: NodeJS.WritableStream) {}
  line(text: string): void {
    this.out.write(`${text}\n`);
  }
  layer(id: string, status: LayerStatus): void {
    if (this.last.get(id) === status) return;
    this.last.set(id, status);
    this.out.write(`${id}: ${status}\n`);
  }
  done(): void {}
}

/** A terminal: the layers' lines redrawn at most ten times a second. */
export class TtyTransferProgress implements ProgressSink {
  private order: string[] = [];
  private state = new Map<string, { status: string; cur?: number; total?: number; started?: number }>();
  private drawn = 0;
  private timer?: NodeJS.Timeout;
  constructor(private readonly out: NodeJS.WriteStream) {}

  line(text: string): void {
    this.draw();
    this.out.write(`${text}\n`);
    this.order = [];
    this.drawn = 0;
  }

  layer(id: string, status: LayerStatus, cur?: number, total?: number): void {
    if (!this.state.has(id) || !this.order.includes(id)) this.order.push(id);
    const s = this.state.get(id) ?? { status };
    s.status = status;
    if (cur !== undefined) {
      s.started ??= Date.now();
      s.cur = cur;
      s.total = total;
    }
    this.state.set(id, s);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 100);
  }

  private text(id: string): string {
    const s = this.state.get(id)!;
    if ((s.status === 'Downloading' || s.status === 'Pushing') && s.cur !== undefined) {
      const secs = Math.max(0.001, (Date.now() - (s.started ?? Date.now())) / 1000);
      return `${id}: ${s.status} ${bar(s.cur, s.total ?? 0)}  ${humanSize(s.cur)}/${humanSize(s.total ?? 0)}  ${humanSize(s.cur / secs)}/s`;
    }
    return `${id}: ${s.status}`;
  }

  private draw(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A`);
    for (const id of this.order) this.out.write(`\x1b[2K${this.text(id)}\n`);
    this.drawn = this.order.length;
  }

  done(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.draw();
  }
}

export type TransferProgress = ProgressSink & { done(): void };

export function transferProgress(quiet: boolean | undefined): TransferProgress | undefined {
  if (quiet) return undefined;
  return process.stdout.isTTY ? new TtyTransferProgress(process.stdout) : new PlainTransferProgress(process.stdout);
}
