// Shared helpers for benchmarks: the machine description, medians, and the section of
// bench/RESULTS.md that one benchmark owns (between <!-- begin NAME --> and <!-- end NAME -->),
// so that benchmarks can be rerun one at a time without clobbering each other.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const resultsFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'RESULTS.md');

export function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  const podman = tryRun('podman', ['--version']);
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}` +
    (podman ? `, ${podman}` : ', podman not installed');
}

export function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * Replaces (or appends) the section NAME of bench/RESULTS.md with MARKDOWN. What the old section
 * holds from a `<!-- notes NAME -->` line to its end (hand-written findings: what was tried, side by
 * side measurements) is kept below the new text, so that a rerun does not silently drop it.
 */
export function writeSection(name, markdown) {
  const begin = `<!-- begin ${name} -->`;
  const end = `<!-- end ${name} -->`;
  const notes = `<!-- notes ${name} -->`;
  let text = fs.existsSync(resultsFile) ? fs.readFileSync(resultsFile, 'utf8') : '# Benchmark results\n';
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  const found = start >= 0 && stop > start;
  const at = found ? text.indexOf(notes, start) : -1;
  const kept = at >= 0 && at < stop ? `\n\n${text.slice(at, stop).trim()}` : '';
  const block = `${begin}\n${markdown.trim()}${kept}\n${end}`;
  if (found) text = text.slice(0, start) + block + text.slice(stop + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(resultsFile, text);
}
