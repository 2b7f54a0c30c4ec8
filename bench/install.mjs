#!/usr/bin/env node
// What the prebuilt addons (issue 21) buy a user: `npm install` of the packed tarball with its prebuilt addons (every
// compiler and cmake on PATH a failing shim, so nothing can be compiled) against the same tarball without prebuilds/
// (a build from source with the real compilers, against the system's libtorch), the tarball's size and each prebuilt
// addon's, and on each libtorch a prebuilt addon is for the time to load (require, the first libtorchInfo(), then
// Encoder.load of a random-weight all-MiniLM-L6-v2-shaped checkpoint) and the RSS right after, each a fresh node
// process in the app (test/install/app-probe.cjs). Also each prebuilt addon's glibc baseline (the highest GLIBC_
// version its dynamic symbols need, `objdump -T`) and its NEEDED entries (`readelf -d`).
//
// Uses the prebuilt addons `npm run prebuild` left in prebuilds/ (it never builds them); the three libtorches: the
// system's (python3 finding no pip torch), .venv's pip torch (CPU), .venv-cuda's (CUDA, run on the CPU).
// The prebuilt install takes --rounds turns (fresh app each; the median counts), as do the loads (the libtorches
// taking turns); the build from source runs once (minutes). The section goes to stdout and into BENCHMARKS.md between
// <!-- install:prebuilt --> and <!-- /install:prebuilt --> (unless --print-only).
//
//   node bench/install.mjs [--rounds 3] [--print-only] [--keep]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeCheckpoint } from '../scripts/make-checkpoint.mjs';
import {
  appEnv,
  installedPackage,
  libtorchCases,
  locateFromRepo,
  makeApp,
  makeShims,
  npmInstall,
  packPackage,
  PLATFORM,
  PRELOAD_FILE,
  readDynamic,
  repackWithoutPrebuilds,
  repoRoot,
  runProbe,
  tarballEntries,
} from '../test/install/harness.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'print-only': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const rounds = Number(args.rounds);
const sharedDir = process.env.BERT_EMBED_SHARED ?? path.resolve(repoRoot, '..', 'shared');
const MAX_SEQ_LEN = 128;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const millis = (ms) => `${Math.round(ms)} ms`;
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 2 : 0)} MiB`;
const kib = (bytes) => `${Math.round(bytes / 1024)} KiB`;
const log = (line) => console.error(`[install bench] ${line}`);

class BenchFailure extends Error {}

/** Stops the run (main's finally still removes the temporary folder). */
function fail(message) {
  throw new BenchFailure(message);
}

/** The machine: CPU family and model, and the ISA flags that choose libtorch's and oneDNN's kernels. */
function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const field = (name) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1].trim() ?? '?';
  const flags = field('flags').split(/\s+/);
  const isa = flags.filter((flag) => flag === 'avx2' || flag === 'fma' || flag.startsWith('avx512') || flag.startsWith('amx') || flag === 'avx_vnni').sort();
  const glibc = execFileSync('ldd', ['--version'], { encoding: 'utf8' }).split('\n')[0].replace(/^ldd\s*/, '');
  return { family: field('cpu family'), model: field('model name'), isa, cores: os.availableParallelism(), glibc };
}

/** A prebuilt addon's glibc (and libstdc++) baseline, NEEDED entries and any RPATH/RUNPATH. */
function linkage(file) {
  const symbols = execFileSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const highest = (prefix) => {
    const versions = [...symbols.matchAll(new RegExp(`\\b${prefix}_([0-9][0-9.]*)`, 'g'))].map((match) => match[1]);
    const sorted = [...new Set(versions)].sort((a, b) => {
      const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
      for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
      return 0;
    });
    return sorted.length ? `${prefix}_${sorted.at(-1)}` : '—';
  };
  const { needed, rpath } = readDynamic(file);
  return { glibc: highest('GLIBC'), glibcxx: highest('GLIBCXX'), needed, rpath };
}

async function main() {
  const cases = libtorchCases();
  const located = new Map();
  for (const c of cases) {
    const found = c.venv && !c.set.LIBTORCH_DIR ? null : await locateFromRepo(appEnv({ set: c.set }));
    if (!found || found.unusable || found.source !== c.source) fail(`${c.label}: no libtorch found (npm run setup, npm run setup:cuda)`);
    if (!fs.existsSync(path.join(repoRoot, 'prebuilds', PLATFORM, `bert_embed_native.${found.key}.node`))) fail(`no prebuilt addon for ${found.key}: run \`npm run prebuild\``);
    located.set(c.name, found);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-install-bench-'));
  try {
    return await measure(cases, located, work);
  } finally {
    if (args.keep) log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

async function measure(cases, located, work) {
  const loadSamples = [];
  const shims = makeShims(path.join(work, 'shims'));
  const model = path.join(work, 'minilm');
  await makeCheckpoint({ configPath: path.join(sharedDir, 'models', 'all-MiniLM-L6-v2', 'config.json'), outDir: model, seed: 12, std: 0.1 });

  log('npm pack');
  const { tarball } = await packPackage(path.join(work, 'pack'));
  const bare = await repackWithoutPrebuilds(tarball, path.join(work, 'pack', 'without-prebuilds.tgz'));
  const entries = await tarballEntries(tarball);
  const prebuilds = [...entries].filter(([name]) => name.startsWith(`package/prebuilds/${PLATFORM}/`)).map(([name, size]) => ({ name: path.basename(name), size }));
  const sizes = { tarball: fs.statSync(tarball).size, bare: fs.statSync(bare).size, unpacked: [...entries.values()].reduce((a, b) => a + b, 0), files: entries.size };

  // With prebuilds, every compiler a failing shim: fresh apps, the npm cache warm after the first.
  const prebuiltInstalls = [];
  let app;
  for (let round = 0; round < rounds; round++) {
    app = await makeApp(path.join(work, `app-prebuilt-${round}`));
    shims.reset();
    loadSamples.push(os.loadavg()[0]);
    const result = await npmInstall(app, tarball, appEnv({ shims: shims.dir }));
    if (result.status !== 0 || shims.calls().length) fail(`npm install with prebuilds failed or compiled (${shims.calls().join('; ')}):\n${result.output}`);
    if (!/bert-embed-native: using prebuilds\//.test(result.output)) fail(`npm install did not use a prebuilt addon:\n${result.output}`);
    prebuiltInstalls.push(result.ms);
    log(`npm install with prebuilds, round ${round + 1}: ${seconds(result.ms)}`);
    if (round < rounds - 1) fs.rmSync(app, { recursive: true, force: true });
  }

  // Without prebuilds: a build from source against the system's libtorch with the real compilers, once.
  log('npm install without prebuilds (a build from source: minutes)');
  const sourceApp = await makeApp(path.join(work, 'app-source'));
  loadSamples.push(os.loadavg()[0]);
  const source = await npmInstall(sourceApp, bare, appEnv(), 1_800_000);
  loadSamples.push(os.loadavg()[0]);
  if (source.status !== 0) fail(`npm install without prebuilds failed (${source.status ?? source.signal} after ${seconds(source.ms)}):\n${source.output.slice(-8000)}`);
  if (!/building the native addon from source/.test(source.output)) fail(`npm install without prebuilds did not build from source:\n${source.output}`);
  const sourceReason = /bert-embed-native: building the native addon from source: (.*)/.exec(source.output)?.[1] ?? '?';
  log(`npm install without prebuilds: ${seconds(source.ms)} (${sourceReason})`);
  const sourceProbe = await runProbe(sourceApp, { model, maxSeqLen: MAX_SEQ_LEN }, appEnv());
  if (sourceProbe.error || sourceProbe.info.addon.prebuilt) fail(`the app built from source does not load its own addon: ${JSON.stringify(sourceProbe.error ?? sourceProbe.info.addon)}`);

  // Loads: the libtorches take turns, a fresh node process each.
  // A libtorch whose addon fails to load is reported as such in its row (and not tried again).
  const loads = new Map(cases.map((c) => [c.name, []]));
  const failures = new Map();
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      if (failures.has(c.name)) continue;
      let result;
      loadSamples.push(os.loadavg()[0]);
      try {
        result = await runProbe(app, { model, maxSeqLen: MAX_SEQ_LEN }, appEnv({ shims: shims.dir, set: c.set }));
      } catch (error) {
        result = { error: { stage: 'process', message: error.message.replace(/\s+/g, ' ').trim() } };
      }
      if (result.error) {
        failures.set(c.name, `${result.error.stage}: ${result.error.message}`);
        log(`${c.label} fails to load: ${failures.get(c.name)}`);
        continue;
      }
      const found = located.get(c.name);
      if (!result.info.addon.prebuilt || result.info.addon.key !== found.key) fail(`${c.label} loaded ${JSON.stringify(result.info.addon)}, not the prebuilt ${found.key}`);
      const { requireMs, infoMs, loadMs } = result.timings;
      loads.get(c.name).push({ requireMs, infoMs, loadMs, totalMs: requireMs + infoMs + loadMs, processMs: result.processMs, rss: result.rssAfterLoad, info: result.info });
      log(`load on ${c.name}, round ${round + 1}: ${millis(requireMs + infoMs + loadMs)}, RSS ${mib(result.rssAfterLoad)}`);
    }
  }
  if (shims.calls().length) fail(`a shim was called at run time: ${shims.calls().join('; ')}`);

  const addonsDir = path.join(installedPackage(app), 'prebuilds', PLATFORM);
  const addons = [...located.values()].map((found) => ({ found, file: `bert_embed_native.${found.key}.node` }));
  addons.push({ found: null, file: PRELOAD_FILE });
  return { machine: machine(), loadSamples, sizes, prebuilds, prebuiltInstalls, source, sourceReason, loads, failures, cases, located, addons: addons.map((a) => ({ ...a, ...linkage(path.join(addonsDir, a.file)) })) };
}

function report(m) {
  const date = new Date().toISOString().slice(0, 10);
  const { family, model, isa, cores, glibc } = m.machine;
  const lines = [];
  lines.push(
    `\`node bench/install.mjs --rounds ${rounds}\`, ${date}; ${cores} cores of ${model}, \`cpu family : ${family}\`; ISA flags: ${isa.join(' ') || 'none of avx2/avx512*/amx'}; ${glibc}; node ${process.version}, npm ${execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim()}.`,
    '',
    `The host is shared: its 1-minute load average, sampled before each install and each load, was ${Math.min(...m.loadSamples).toFixed(1)}–${Math.max(...m.loadSamples).toFixed(1)} (median ${median(m.loadSamples).toFixed(1)}) on ${cores} cores (above ${cores}, a runnable process waits for a core).`,
    '',
    '**npm install of the tarball** into a fresh app (`npm init -y`; `npm install TARBALL --no-audit --no-fund --prefer-offline`; the npm cache warm, so the runtime dependencies come from it):',
    '',
    '| tarball | compilers | what the install hook did | npm install |',
    '| --- | --- | --- | --- |',
    `| with prebuilds/ (${mib(m.sizes.tarball)}) | every compiler, ld, make, ninja and cmake a failing shim (none called) | used prebuilds/${PLATFORM}/bert_embed_native.${m.located.get('system').key}.node | ${seconds(median(m.prebuiltInstalls))} (median of ${m.prebuiltInstalls.length}: ${m.prebuiltInstalls.map(seconds).join(', ')}) |`,
    `| without prebuilds/ (${mib(m.sizes.bare)}) | the real ones | built from source against the system's libtorch (${m.sourceReason}) | ${seconds(m.source.ms)} (once) |`,
    '',
    `**The tarball**: ${mib(m.sizes.tarball)} packed, ${mib(m.sizes.unpacked)} unpacked in ${m.sizes.files} files; without prebuilds/ ${mib(m.sizes.bare)} packed. The prebuilt addons (stripped, no RPATH), unpacked:`,
    '',
    '| file | size | glibc baseline (highest GLIBC_ in `objdump -T`) | highest GLIBCXX_ | NEEDED (`readelf -d`) |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const addon of m.addons) {
    const size = m.prebuilds.find((p) => p.name === addon.file)?.size ?? 0;
    const rpath = addon.rpath.length ? `; RPATH/RUNPATH ${addon.rpath.join(', ')}` : '';
    lines.push(`| ${addon.file} | ${kib(size)} | ${addon.glibc} | ${addon.glibcxx} | ${addon.needed.join(', ')}${rpath} |`);
  }
  lines.push(
    '',
    `**Load on each libtorch**, a fresh \`node\` process in the app each, the libtorches taking turns for ${rounds} rounds (medians): \`require('bert-embed-native')\`, the first \`libtorchInfo()\` (finds the libtorch, preloads its libraries, loads the addon), then \`Encoder.load\` of a random-weight all-MiniLM-L6-v2-shaped checkpoint (float32, maxSeqLen ${MAX_SEQ_LEN}, device cpu); RSS right after the load. "process" is the node process's whole wall time, start to exit, as its parent saw it.`,
    '',
    '| libtorch | found by | addon | require | first libtorchInfo() | Encoder.load | load in all | process | RSS after load |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const c of m.cases) {
    const runs = m.loads.get(c.name);
    const found = m.located.get(c.name);
    const med = (key) => median(runs.map((r) => r[key]));
    const where = c.source === 'system' ? 'system' : `LIBTORCH_DIR=${c.venv}/…/torch`;
    if (m.failures.has(c.name)) {
      lines.push(`| torch ${found.version} (${found.key}) | ${where} | prebuilt ${found.key} | fails to load: ${m.failures.get(c.name).replaceAll('|', '\\|')} | | | | | |`);
      continue;
    }
    lines.push(
      `| torch ${found.version} (${found.key}) | ${where} | prebuilt ${found.key} | ${millis(med('requireMs'))} | ${millis(med('infoMs'))} | ${millis(med('loadMs'))} | ${millis(med('totalMs'))} | ${millis(med('processMs'))} | ${mib(med('rss'))} |`,
    );
  }
  return lines.join('\n');
}

function writeSection(body) {
  const file = path.join(repoRoot, 'BENCHMARKS.md');
  const begin = '<!-- install:prebuilt -->';
  const end = '<!-- /install:prebuilt -->';
  let text = fs.readFileSync(file, 'utf8');
  if (!text.includes(begin)) {
    text = `${text.trimEnd()}\n\n## Install and load (prebuilt addons) (issue 21) — \`node bench/install.mjs\`\n\n${begin}\n${end}\n`;
  }
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  fs.writeFileSync(file, `${text.slice(0, from + begin.length)}\n${body}\n${text.slice(to)}`);
  log(`wrote the section into BENCHMARKS.md (${begin})`);
}

try {
  const section = report(await main());
  console.log(section);
  if (!args['print-only']) writeSection(section);
} catch (error) {
  console.error(`bench/install.mjs: ${error instanceof BenchFailure ? error.message : error.stack}`);
  process.exitCode = 1;
}
