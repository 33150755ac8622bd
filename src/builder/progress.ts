// Progress reporting: what the executor tells the user (a Reporter's calls, or the same as
// BuildEvent data), in three renderings. `plain` prints one line per event (for logs and CI),
// `json` one JSON object per line (for tools), `tty` a live view of running steps with timers,
// redrawn in place (see progress-tty.ts).

export interface StepView {
  /** Sequence number of the step in this build ("#3"). */
  id: number;
  /** "[builder 2/4]" */
  label: string;
  /** The instruction as shown: "RUN make". */
  display: string;
  stage: string;
}

export interface StepOutcome {
  cached: boolean;
  seconds: number;
  missReason?: string;
}

export interface Reporter {
  warn(message: string): void;
  hashing(done: number, total: number): void;
  stepStart(step: StepView, missReason?: string): void;
  stepOutput(step: StepView, chunk: string): void;
  stepDone(step: StepView, outcome: StepOutcome): void;
  stepFailed(step: StepView, message: string, lastLines: string[]): void;
  info(message: string): void;
  close(): void;
}

/** The same reports as data: what the Builder service streams to its caller. */
export type BuildEvent =
  | { type: 'warning'; message: string }
  | { type: 'hashing'; done: number; total: number }
  | { type: 'step-start'; step: StepView; missReason?: string }
  | { type: 'step-output'; step: StepView; chunk: string }
  | { type: 'step-done'; step: StepView; outcome: StepOutcome }
  | { type: 'step-error'; step: StepView; message: string; lastLines: string[] }
  | { type: 'info'; message: string };

/** A Reporter that turns every report into an event for `onEvent`. */
export function eventReporter(onEvent: (event: BuildEvent) => void): Reporter {
  return {
    warn: (message) => onEvent({ type: 'warning', message }),
    hashing: (done, total) => onEvent({ type: 'hashing', done, total }),
    stepStart: (step, missReason) => onEvent({ type: 'step-start', step, missReason }),
    stepOutput: (step, chunk) => onEvent({ type: 'step-output', step, chunk }),
    stepDone: (step, outcome) => onEvent({ type: 'step-done', step, outcome }),
    stepFailed: (step, message, lastLines) => onEvent({ type: 'step-error', step, message, lastLines }),
    info: (message) => onEvent({ type: 'info', message }),
    close: () => undefined,
  };
}

/** Hands an event to a renderer (plain, json, tty): the reverse of eventReporter. */
export function renderEvent(event: BuildEvent, to: Reporter): void {
  switch (event.type) {
    case 'warning': return to.warn(event.message);
    case 'hashing': return to.hashing(event.done, event.total);
    case 'step-start': return to.stepStart(event.step, event.missReason);
    case 'step-output': return to.stepOutput(event.step, event.chunk);
    case 'step-done': return to.stepDone(event.step, event.outcome);
    case 'step-error': return to.stepFailed(event.step, event.message, event.lastLines);
    case 'info': return to.info(event.message);
  }
}

export class PlainReporter implements Reporter {
  private partial = new Map<number, string>();
  constructor(private readonly out: NodeJS.WritableStream, private readonly started = Date.now()) {}

  private line(text: string) {
    this.out.write(`${text}\n`);
  }
  private elapsed(): string {
    return ((Date.now() - this.started) / 1000).toFixed(3);
  }

  warn(message: string) {
    this.line(message);
  }
  hashing(done: number, total: number) {
    if (done === total) this.line(`#0 hashed ${total} context file${total === 1 ? '' : 's'}`);
  }
  stepStart(step: StepView, missReason?: string) {
    this.line(`#${step.id} ${step.label} ${step.display}`);
    if (missReason) this.line(`#${step.id} cache miss: ${missReason}`);
  }
  stepOutput(step: StepView, chunk: string) {
    const text = (this.partial.get(step.id) ?? '') + chunk;
    const lines = text.split('\n');
    this.partial.set(step.id, lines.pop() ?? '');
    for (const l of lines) this.line(`#${step.id} ${this.elapsed()} ${l}`);
  }
  private flush(step: StepView) {
    const rest = this.partial.get(step.id);
    if (rest) this.line(`#${step.id} ${this.elapsed()} ${rest}`);
    this.partial.delete(step.id);
  }
  stepDone(step: StepView, outcome: StepOutcome) {
    this.flush(step);
    if (outcome.cached) this.line(`#${step.id} CACHED`);
    else this.line(`#${step.id} DONE ${outcome.seconds.toFixed(1)}s`);
  }
  stepFailed(step: StepView, message: string) {
    this.flush(step);
    this.line(`#${step.id} ERROR: ${message}`);
  }
  info(message: string) {
    this.line(message);
  }
  close() {}
}

export class JsonReporter implements Reporter {
  constructor(private readonly out: NodeJS.WritableStream) {}
  private emit(event: Record<string, unknown>) {
    this.out.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }
  warn(message: string) {
    this.emit({ type: 'warning', message });
  }
  hashing(done: number, total: number) {
    this.emit({ type: 'hashing', done, total });
  }
  stepStart(step: StepView, missReason?: string) {
    this.emit({ type: 'step-start', ...step, missReason });
  }
  stepOutput(step: StepView, chunk: string) {
    this.emit({ type: 'step-output', id: step.id, data: chunk });
  }
  stepDone(step: StepView, outcome: StepOutcome) {
    this.emit({ type: 'step-done', ...step, ...outcome });
  }
  stepFailed(step: StepView, message: string, lastLines: string[]) {
    this.emit({ type: 'step-error', ...step, message, lastLines });
  }
  info(message: string) {
    this.emit({ type: 'info', message });
  }
  close() {}
}

/** Nothing but warnings and, for a failed step, its last lines of output (for -q). */
export class QuietReporter implements Reporter {
  constructor(private readonly err: NodeJS.WritableStream) {}
  warn(message: string) {
    this.err.write(`${message}\n`);
  }
  hashing() {}
  stepStart() {}
  stepOutput() {}
  stepDone() {}
  stepFailed(step: StepView, _message: string, lastLines: string[]) {
    if (lastLines.length) this.err.write(`${[`${step.label} ${step.display}:`, ...lastLines.map((l) => `  ${l}`)].join('\n')}\n`);
  }
  info() {}
  close() {}
}

/** Keeps the last lines of a step's output, for the error report. */
export class TailBuffer {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max = 10) {}
  push(chunk: string) {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.max) this.lines = this.lines.slice(-this.max);
  }
  tail(): string[] {
    return [...this.lines, ...(this.partial ? [this.partial] : [])].slice(-this.max);
  }
}
