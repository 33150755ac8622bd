// Parse throughput: strata's parse() against dockerfile-ast on the real-world corpus in
// testdata/corpus, side by side in one process, warmed up, several rounds, medians.
// Writes the `parse` section of bench/RESULTS.md. Run after `npm run build`:
//   node bench/parse.mjs [--rounds N] [--profile]
// When strata's time is over half of dockerfile-ast's (the target), or with --profile, it also
// takes a CPU profile of strata's parse loop (node:inspector) and lists the top functions.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import dockerfileAst from 'dockerfile-ast';
import { parse } from '../dist/index.js';
import { machine, median, writeSection } from './lib/results.mjs';

const { DockerfileParser } = dockerfileAst;
const here = path.dirname(fileURLToPath(import.meta.url));
const corpusDir = path.join(here, '..', 'testdata', 'corpus');
const TARGET = 0.5;
const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf('--rounds') + 1]) || 9;
const ROUND_SECONDS = 0.6;
const forceProfile = args.includes('--profile');

const files = fs.readdirSync(corpusDir).filter((f) => f.endsWith('.Dockerfile')).sort();
const texts = files.map((f) => fs.readFileSync(path.join(corpusDir, f), 'utf8'));
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
const lines = texts.reduce((n, t) => n + t.split('\n').length, 0);

/** strata: the whole raw tree (keywords, flags, split args, heredocs, lines) is built eagerly. */
function strataPass() {
  let n = 0;
  for (const text of texts) n += parse(text).instructions.length;
  return n;
}

/**
 * dockerfile-ast builds parts of its model lazily; force the equivalent of strata's output:
 * keyword and range, arguments, flags, ENV/LABEL properties, JSON strings, heredocs, ONBUILD trigger.
 */
function astPass() {
  let n = 0;
  for (const text of texts) {
    const df = DockerfileParser.parse(text);
    df.getDirectives();
    for (const ins of df.getInstructions()) n += touch(ins);
  }
  return n;
}

/** dockerfile-ast's parse() alone, its model left lazy: shown for reference, not the comparison. */
function astLazyPass() {
  let n = 0;
  for (const text of texts) n += DockerfileParser.parse(text).getInstructions().length;
  return n;
}

function touch(ins) {
  ins.getKeyword();
  ins.getRange();
  ins.getArguments();
  if (typeof ins.getFlags === 'function') ins.getFlags();
  if (typeof ins.getProperties === 'function') ins.getProperties();
  if (typeof ins.getJSONStrings === 'function') ins.getJSONStrings();
  if (typeof ins.getHeredocs === 'function') ins.getHeredocs();
  if (typeof ins.getTriggerInstruction === 'function') {
    const trigger = ins.getTriggerInstruction();
    if (trigger) touch(trigger);
  }
  return 1;
}

/** Seconds per pass over the corpus, measured over as many passes as fit in ROUND_SECONDS. */
function timeRound(pass, passes) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < passes; i++) pass();
  return Number(process.hrtime.bigint() - start) / 1e9 / passes;
}

function calibrate(pass) {
  const once = timeRound(pass, 3);
  return Math.max(3, Math.round(ROUND_SECONDS / once));
}

async function profileStrata(seconds) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) strataPass();
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  return topFunctions(profile, 12);
}

/** Self time per function (by name and file:line), as a share of all samples. */
function topFunctions(profile, count) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const self = new Map();
  for (const [id, n] of hits) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const file = url.startsWith('file:') ? path.relative(path.join(here, '..'), fileURLToPath(url)) : url;
    const where = file ? `${file}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}${where ? ` (${where})` : ''}`;
    self.set(key, (self.get(key) ?? 0) + n);
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, n]) => ({ name, share: n / total }));
}

async function main() {
  // Both must handle the whole corpus; count instructions for the record.
  const strataInstructions = strataPass();
  const astInstructions = astPass();

  const loadBefore = os.loadavg()[0];
  const runs = { strata: strataPass, ast: astPass, astLazy: astLazyPass };
  for (let i = 0; i < 20; i++) for (const run of Object.values(runs)) run(); // warm up the JITs
  const passes = Object.fromEntries(Object.entries(runs).map(([name, run]) => [name, calibrate(run)]));
  const times = { strata: [], ast: [], astLazy: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the order so that none always runs on a GC-heavier heap.
    const names = Object.keys(runs);
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      times[name].push(timeRound(runs[name], passes[name]));
    }
  }
  const strataSec = median(times.strata);
  const astSec = median(times.ast);
  const astLazySec = median(times.astLazy);
  const mbps = (sec) => bytes / 2 ** 20 / sec;
  const ratio = strataSec / astSec;
  const met = ratio <= TARGET;
  const profile = !met || forceProfile ? await profileStrata(3) : undefined;

  const md = [
    '## parse',
    '',
    `Parse throughput on the real-world corpus (\`testdata/corpus\`: ${files.length} Dockerfiles, ` +
      `${(bytes / 1024).toFixed(1)} KiB, ${lines} lines; ${strataInstructions} instructions by strata, ` +
      `${astInstructions} by dockerfile-ast). Median of ${ROUNDS} rounds of ~${ROUND_SECONDS} s each, ` +
      'after warm-up, all in one process, rotating order.',
    '',
    '| parser | MB/s | ms per corpus pass |',
    '| --- | ---: | ---: |',
    `| strata \`parse()\` | ${mbps(strataSec).toFixed(2)} | ${(strataSec * 1000).toFixed(3)} |`,
    `| dockerfile-ast 0.7 \`DockerfileParser.parse()\` + model forced | ${mbps(astSec).toFixed(2)} | ${(astSec * 1000).toFixed(3)} |`,
    `| (dockerfile-ast \`parse()\` alone, model left lazy; reference only) | ${mbps(astLazySec).toFixed(2)} | ${(astLazySec * 1000).toFixed(3)} |`,
    '',
    `Time ratio strata / dockerfile-ast: **${ratio.toFixed(3)}** (target ≤ ${TARGET}: ${met ? 'met' : 'NOT met'}).`,
    '',
    'dockerfile-ast builds parts of its model lazily, so for each instruction the benchmark calls',
    '`getKeyword`, `getRange`, `getArguments`, and where the instruction has them `getFlags`,',
    '`getProperties`, `getJSONStrings`, `getHeredocs` and the ONBUILD trigger — the equivalent of the',
    'instruction tree strata returns.',
  ];
  if (profile) {
    md.push('', `CPU profile of strata's parse loop (self time, top ${profile.length}):`, '', '| share | function |', '| ---: | --- |');
    for (const { name, share } of profile) md.push(`| ${(share * 100).toFixed(1)}% | \`${name}\` |`);
  }
  const load = `load average ${loadBefore.toFixed(1)} → ${os.loadavg()[0].toFixed(1)} during the run`;
  md.push('', `Machine: ${machine()}; ${load} (absolute MB/s move with the load, the ratio much less).`,
    `Run: ${new Date().toISOString().slice(0, 16)}Z, \`node bench/parse.mjs\`.`);
  const text = md.join('\n');
  writeSection('parse', text);
  console.log(text);
}

await main();
