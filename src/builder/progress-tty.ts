// The terminal view: finished steps scroll up as plain lines; running steps stay at the
// bottom, one line each with a live timer (parallel stages side by side, as rows), plus a
// progress bar while context files are hashed. Redrawn in place with ANSI cursor moves.
import type { Reporter, StepOutcome, StepView } from './progress.js';

export class TtyReporter implements Reporter {
  private running = new Map<number, { view: StepView; started: number; last: string }>();
  private hash: { done: number; total: number } | undefined;
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: NodeJS.WritableStream & { columns?: number }) {}

  private width(): number {
    return Math.max(40, (this.out as { columns?: number }).columns || 80);
  }

  private clear() {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw() {
    this.clear();
    const w = this.width();
    const rows: string[] = [];
    if (this.hash && this.hash.done < this.hash.total) {
      const barW = Math.max(10, Math.min(40, w - 40));
      const filled = Math.round((this.hash.done / this.hash.total) * barW);
      rows.push(`hashing context [${'#'.repeat(filled)}${'.'.repeat(barW - filled)}] ${this.hash.done}/${this.hash.total}`);
    }
    for (const { view, started, last } of this.running.values()) {
      const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
      const head = `=> ${view.label} ${view.display}`;
      rows.push(`${head.slice(0, w - 9).padEnd(Math.min(w - 9, head.length))} ${t}s`);
      if (last) rows.push(`   ${last.slice(0, w - 4)}`);
    }
    if (rows.length) this.out.write(`${rows.join('\n')}\n`);
    this.drawn = rows.length;
    if (this.running.size > 0 && !this.timer) {
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    } else if (this.running.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private print(text: string) {
    this.clear();
    this.out.write(`${text}\n`);
    this.draw();
  }

  warn(message: string) {
    this.print(message);
  }
  hashing(done: number, total: number) {
    this.hash = { done, total };
    this.draw();
  }
  stepStart(step: StepView, missReason?: string) {
    this.running.set(step.id, { view: step, started: Date.now(), last: missReason ? `cache miss: ${missReason}` : '' });
    this.draw();
  }
  stepOutput(step: StepView, chunk: string) {
    const r = this.running.get(step.id);
    const lines = chunk.split('\n').filter((l) => l.trim());
    if (r && lines.length) r.last = lines[lines.length - 1];
  }
  stepDone(step: StepView, outcome: StepOutcome) {
    this.running.delete(step.id);
    const what = outcome.cached ? 'CACHED' : `${outcome.seconds.toFixed(1)}s`;
    this.print(`=> ${outcome.cached ? 'CACHED ' : ''}${step.label} ${step.display}${outcome.cached ? '' : ` ${what}`}${outcome.missReason ? `  (${outcome.missReason})` : ''}`);
  }
  stepFailed(step: StepView, message: string, lastLines: string[]) {
    this.running.delete(step.id);
    this.print([`=> ERROR ${step.label} ${step.display}`, ...lastLines.map((l) => `   ${l}`), `   ${message}`].join('\n'));
  }
  info(message: string) {
    this.print(message);
  }
  close() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }
}
