#!/usr/bin/env node
// One sentence per call, the way a service embeds a query: p50 and p99 latency of ours against
// transformers.js, quiet and with two busy processes (`node -e 'for(;;){}'`) on the cores, as issue 22
// defines contention. Each engine and setting runs in a process of its own; the settings take turns
// for --rounds rounds of --calls calls (after 20 untimed ones) and the median round's percentiles count.
// Settings are OpenMP environment variables and encoder options, so a lever is compared against the
// default in the same run.
//
//   npx tsc -p tsconfig.json && node bench/one-sentence.mjs [--rounds 3] [--calls 200] [--dtype float32|int8] [--levers]
//     [--baseline other/build/Release/bert_embed_native.node --baseline-name 'before X']
// (--levers adds OpenMP's wait policy and spin count, which lost to one thread under contention)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomWeightCheckpoint, readStsPairs } from '../scripts/example-fixtures.mjs';
import { startEngineProcess } from './engine-process.mjs';
import { describeHost } from './host.mjs';
import { onnxExportOf, openEngine, percentile, quantizeOnnxOnce } from './peer-engines.mjs';

const { values: args } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    engine: { type: 'string' },
    dir: { type: 'string' },
    options: { type: 'string', default: '{}' },
    rounds: { type: 'string', default: '3' },
    calls: { type: 'string', default: '200' },
    dtype: { type: 'string', default: 'float32' },
    levers: { type: 'boolean', default: false },
    baseline: { type: 'string' },
    'baseline-name': { type: 'string', default: 'baseline build' },
  },
});
const here = path.dirname(fileURLToPath(import.meta.url));

if (args.child) {
  // One engine; each stdin line {texts} answers {latencies} in ms, one call per text.
  const readline = await import('node:readline');
  const engine = await openEngine(args.engine, args.dir, 128, JSON.parse(args.options));
  const encode = (text) => engine.encode([text]);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const { texts } = JSON.parse(line);
    const latencies = [];
    for (const text of texts) {
      const start = process.hrtime.bigint();
      await encode(text);
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    console.log(JSON.stringify({ latencies }));
  }
  process.exit(0);
}

const rounds = Number(args.rounds);
const calls = Number(args.calls);
const checkpoint = await randomWeightCheckpoint();
const onnxDir = onnxExportOf(checkpoint);
const int8 = args.dtype === 'int8';
if (int8) quantizeOnnxOnce(onnxDir);
const sentences = readStsPairs('test').flatMap((pair) => [pair.first, pair.second]);

const ours = int8 ? 'ours int8' : 'ours';
const settings = [
  { name: `ours ${args.dtype} (default)`, engine: ours, options: {}, env: {} },
  // Another build of ours to compare with (BERT_EMBED_ADDON: an addon file, as the loader reads it).
  ...(args.baseline
    ? [{ name: `ours ${args.dtype}, ${args['baseline-name']}`, engine: ours, options: {}, env: { BERT_EMBED_ADDON: path.resolve(args.baseline) } }]
    : []),
  { name: `ours ${args.dtype}, 1 thread`, engine: ours, options: { threads: 1 }, env: {} },
  ...(args.levers
    ? [
        { name: `ours ${args.dtype}, OMP_WAIT_POLICY=PASSIVE`, engine: ours, options: {}, env: { OMP_WAIT_POLICY: 'PASSIVE' } },
        { name: `ours ${args.dtype}, GOMP_SPINCOUNT=10000`, engine: ours, options: {}, env: { GOMP_SPINCOUNT: '10000' } },
      ]
    : []),
  { name: `transformers.js ${int8 ? 'q8' : 'fp32'}`, engine: int8 ? 'transformers.js q8' : 'transformers.js', options: {}, env: {} },
];

async function openSetting(setting) {
  const dir = setting.engine.startsWith('ours') ? checkpoint : onnxDir;
  return startEngineProcess(
    setting.name,
    process.execPath,
    [path.join(here, 'one-sentence.mjs'), '--child', '--engine', setting.engine, '--dir', dir, '--options', JSON.stringify(setting.options)],
    { ...process.env, ...setting.env },
  );
}

const running = new Set();
// Busy processes must not outlive the bench, whatever ends it: they would skew every later figure.
process.on('exit', () => {
  for (const busy of running) busy.kill('SIGKILL');
});

function busyProcesses(count) {
  return Array.from({ length: count }, () => {
    const busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    running.add(busy);
    busy.on('exit', () => running.delete(busy));
    return busy;
  });
}

const results = new Map(); // `${name}|${load}` → [{p50, p99}]
for (let round = 0; round < rounds; round++) {
  for (const load of ['quiet', 'two busy processes']) {
    for (const setting of settings) {
      const child = await openSetting(setting);
      const busy = load === 'quiet' ? [] : busyProcesses(2);
      try {
        await child.request({ texts: sentences.slice(0, 20) }); // loads the model, then warms up
        const texts = sentences.slice(20 + round * calls, 20 + (round + 1) * calls);
        const { latencies } = await child.request({ texts });
        const figures = { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
        const key = `${setting.name}|${load}`;
        results.set(key, [...(results.get(key) ?? []), figures]);
        console.error(`round ${round + 1}, ${load}: ${setting.name} p50 ${figures.p50.toFixed(2)} ms, p99 ${figures.p99.toFixed(2)} ms`);
      } finally {
        for (const process of busy) process.kill();
        child.kill();
      }
    }
  }
}

console.log(`all-MiniLM-L6-v2 shape (random weights), one STS-B test sentence per call, ${calls} calls a round, median of ${rounds} rounds, ${describeHost()}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| engine and setting | p50 quiet | p99 quiet | p50, two busy processes | p99, two busy processes |');
console.log('| --- | --- | --- | --- | --- |');
for (const setting of settings) {
  const cell = (load, p) => `${percentile(results.get(`${setting.name}|${load}`).map((r) => r[p]), 50).toFixed(2)} ms`;
  console.log(`| ${setting.name} | ${cell('quiet', 'p50')} | ${cell('quiet', 'p99')} | ${cell('two busy processes', 'p50')} | ${cell('two busy processes', 'p99')} |`);
}
