// `--progress=rawjson`: BuildKit's SolveStatus stream, one JSON object per line, as buildx
// prints it: `vertexes` (a step started, done, cached or failed), `logs` (its output, base64),
// `statuses` (context transfer) and `warnings`. Digests name vertexes; strata's steps have no
// LLB digest, so each gets a stable stand-in hashed from its number and instruction.
import { createHash } from 'node:crypto';
import type { Reporter, StepOutcome, StepView } from './progress.js';

interface Vertex {
  digest: string;
  name: string;
  started?: string;
  completed?: string;
  cached?: boolean;
  error?: string;
}

const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

export class RawJsonReporter implements Reporter {
  private readonly started = new Map<number, string>();
  private contextStarted: string | undefined;
  constructor(private readonly out: NodeJS.WritableStream) {}

  private emit(status: { vertexes?: Vertex[]; logs?: unknown[]; statuses?: unknown[]; warnings?: unknown[] }) {
    this.out.write(`${JSON.stringify(status)}\n`);
  }
  private vertex(step: StepView): Vertex {
    return { digest: digestOf(`strata-step ${step.id} ${step.display}`), name: `${step.label} ${step.display}` };
  }
  warn(message: string) {
    this.emit({ warnings: [{ level: 1, short: Buffer.from(message).toString('base64') }] });
  }
  hashing(done: number, total: number) {
    const now = new Date().toISOString();
    const v: Vertex = { digest: digestOf('strata-context'), name: '[internal] load build context', started: (this.contextStarted ??= now) };
    if (done === total) v.completed = now;
    this.emit({ vertexes: [v], statuses: [{ id: 'hashing context files', vertex: v.digest, name: 'hashing context files', current: done, total, timestamp: now, started: v.started, ...(v.completed ? { completed: now } : {}) }] });
  }
  stepStart(step: StepView) {
    const now = new Date().toISOString();
    this.started.set(step.id, now);
    this.emit({ vertexes: [{ ...this.vertex(step), started: now }] });
  }
  stepOutput(step: StepView, chunk: string) {
    this.emit({ logs: [{ vertex: this.vertex(step).digest, stream: 1, data: Buffer.from(chunk).toString('base64'), timestamp: new Date().toISOString() }] });
  }
  stepDone(step: StepView, outcome: StepOutcome) {
    const now = new Date().toISOString();
    this.emit({ vertexes: [{ ...this.vertex(step), started: this.started.get(step.id) ?? now, completed: now, ...(outcome.cached ? { cached: true } : {}) }] });
  }
  stepFailed(step: StepView, message: string) {
    const now = new Date().toISOString();
    this.emit({ vertexes: [{ ...this.vertex(step), started: this.started.get(step.id) ?? now, completed: now, error: message }] });
  }
  info(message: string) {
    const now = new Date().toISOString();
    this.emit({ vertexes: [{ digest: digestOf(`strata-info ${message}`), name: message, started: now, completed: now }] });
  }
  close() {}
}
