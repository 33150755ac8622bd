// Signal names as Docker knows them (moby/sys/signal's SignalMap for Linux, what ParseSignal
// accepts for STOPSIGNAL, --stop-signal and kill -s): the standard names and aliases, and the
// real-time ones RTMIN, RTMIN+1..RTMIN+15, RTMAX-14..RTMAX-1 and RTMAX (systemd images stop on
// SIGRTMIN+3). runc's kill knows only the standard names, so the others go to it as numbers.
import os from 'node:os';

const RTMIN = 34; // glibc's SIGRTMIN (the kernel's 32 and 33 are the C library's own)
const RTMAX = 64;

function realTime(name: string): number | undefined {
  if (name === 'RTMIN') return RTMIN;
  if (name === 'RTMAX') return RTMAX;
  const m = /^RT(MIN\+|MAX-)(\d+)$/.exec(name);
  if (!m || !/^[1-9]\d?$/.test(m[2])) return undefined;
  const n = Number(m[2]);
  if (m[1] === 'MIN+' ? n > 15 : n > 14) return undefined;
  return m[1] === 'MIN+' ? RTMIN + n : RTMAX - n;
}

/** The number of a signal name ("TERM", "SIGTERM", "sigrtmin+3"), as Docker's ParseSignal; undefined if unknown. */
export function signalByName(text: string): number | undefined {
  const name = text.toUpperCase().replace(/^SIG/, '');
  if (name === 'CLD') return os.constants.signals.SIGCHLD;
  return os.constants.signals[`SIG${name}` as NodeJS.Signals] ?? realTime(name);
}

/** Docker's ParseSignal: a number other than 0, or a known name. */
export function isDockerSignal(text: string): boolean {
  return /^\d+$/.test(text) ? Number(text) !== 0 : signalByName(text) !== undefined;
}
