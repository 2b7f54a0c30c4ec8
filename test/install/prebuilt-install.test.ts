/**
 * The package as a user installs it (issue 21): `npm pack`, then `npm install` of the tarball into a fresh app with
 * every compiler, linker and cmake on PATH replaced by a failing shim (test/install/harness.mjs). The install must
 * use a prebuilt addon and call no shim; the app then encodes the same sentences on each libtorch the prebuilt addons
 * are for, each in a fresh node process:
 *   - the system's (Debian's libtorch-dev): LIBTORCH_DIR unset, PATH without venvs, so python3 finds no pip torch;
 *   - pip torch CPU: LIBTORCH_DIR=.venv's torch (npm run setup);
 *   - pip torch CUDA: LIBTORCH_DIR=.venv-cuda's torch (npm run setup:cuda), run on the CPU.
 * Each must load the prebuilt addon for its libtorch (libtorchInfo()), and the vectors must agree across the three
 * (max |a - b| <= 1e-5, L2-normalized mean pooling) and with Hugging Face's BertModel in float64 on the same
 * random-weight checkpoint (test/reference/hf_embed.py, max |ours - hf| / max |hf| <= 1e-5 per vector).
 * A libtorch no addon is built for (a stand-in folder whose version.py says 2.99.0) must make Encoder.load reject
 * with ERR_LIBTORCH_MISMATCH naming both sides, and make `npm install` build from source, say why, and fail on a
 * shim.
 *
 * Not part of `npm test` (vitest.config.mts excludes test/install/): run after `npm run prebuild`, which it never
 * does itself:
 *   npx vitest run --config vitest.install.config.mts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointDir } from '../helpers/checkpoints.js';
import { expectRelativeClose } from '../helpers/compare.js';
import { stsSentences } from '../helpers/sts.js';
import { runHfEmbed, type HfPoolResult } from '../reference/hf-embed.js';
import {
  appEnv,
  fakeTorchPackage,
  folderSonames,
  installedPackage,
  libtorchCases,
  libtorchSonames,
  locate,
  locateFromRepo,
  makeApp,
  makeShims,
  npmInstall,
  packPackage,
  PLATFORM,
  PRELOAD_FILE,
  probeVectors,
  readDynamic,
  repoRoot,
  runProbe,
  tarballEntries,
  type LibtorchCase,
  type Located,
  type RunResult,
  type Shims,
  SYSTEM_RUNTIME,
} from './harness.mjs';

const MODEL = checkpointDir('minilm');
const MAX_SEQ_LEN = 32;
const TEXTS = [
  ...stsSentences('test').slice(0, 8),
  'A man is playing a flute. ||| A man plays the flute.',
  'Three dogs chased the postman down the long and winding road while all of the neighbours watched from their windows and laughed at him.',
  'word',
  'Café owners in Zürich disagreed about naïve résumés.',
  '北京是中国的首都。',
];
const POOLING = { pooling: 'REDUCE_MEAN', layers: [-1], normalize: true, maskClsSep: false };
const AGREEMENT = 1e-5;
const REFERENCE_TOLERANCE = 1e-5;
const FAKE_VERSION = '2.99.0+cpu';

const CASES = libtorchCases();
const keep = Boolean(process.env.KEEP_FIXTURES);
let work: string;
let shims: Shims;
let tarball: string;
let app: string;
let install: RunResult;
let hf: Promise<HfPoolResult[]>;
/** what the locator finds for each case, before anything is installed */
const located = new Map<string, Located>();
const vectors = new Map<string, Float32Array>();

const addonName = (key: string) => `bert_embed_native.${key}.node`;
const show = (result: RunResult) => `exit ${result.status ?? result.signal} after ${(result.ms / 1000).toFixed(1)} s:\n${result.output.slice(-6000)}`;

beforeAll(async () => {
  // Hugging Face's float64 vectors, computed while the package is packed and installed.
  hf = runHfEmbed([{ op: 'pool', model: MODEL, texts: TEXTS, max_length: MAX_SEQ_LEN, cases: [{ pooling: 'REDUCE_MEAN', layers: [-1], mask_cls_sep: false, normalize: true }] }]);
  hf.catch(() => {}); // reported by the test that awaits it

  // Every libtorch must be here and have its prebuilt addon: this test never builds them.
  const missing: string[] = [];
  for (const c of CASES) {
    if (c.venv && !c.set.LIBTORCH_DIR) {
      missing.push(`${c.venv}/ has no torch package (${c.venv === '.venv' ? 'npm run setup' : 'npm run setup:cuda'})`);
      continue;
    }
    const found = await locateFromRepo(appEnv({ set: c.set }));
    if (!found || found.unusable) {
      missing.push(`${c.label}: the locator finds no libtorch`);
      continue;
    }
    if (found.source !== c.source) missing.push(`${c.label}: the locator found torch ${found.version} from ${found.source}, not from ${c.source}`);
    located.set(c.name, found);
    const addon = path.join(repoRoot, 'prebuilds', PLATFORM, addonName(found.key));
    if (!fs.existsSync(addon)) missing.push(`${path.relative(repoRoot, addon)} (for torch ${found.version}) is missing: run \`npm run prebuild\``);
  }
  if (!fs.existsSync(path.join(repoRoot, 'prebuilds', PLATFORM, PRELOAD_FILE))) missing.push(`prebuilds/${PLATFORM}/${PRELOAD_FILE} is missing: run \`npm run prebuild\``);
  if (missing.length) throw new Error(`the install test needs the three libtorches and their prebuilt addons:\n  ${missing.join('\n  ')}`);

  work = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-install-'));
  shims = makeShims(path.join(work, 'shims'));
  ({ tarball } = await packPackage(path.join(work, 'pack')));
  app = await makeApp(path.join(work, 'app'));
  install = await npmInstall(app, tarball, appEnv({ shims: shims.dir }));
}, 300_000);

afterAll(() => {
  if (work && !keep) fs.rmSync(work, { recursive: true, force: true });
  else if (work) console.log(`install test folder kept: ${work}`);
});

describe('the packed tarball', () => {
  it('ships one prebuilt addon per libtorch and the libtorch-free preload addon, and no build from source', async () => {
    const entries = await tarballEntries(tarball);
    const prebuilds = [...entries.keys()].filter((name) => name.startsWith(`package/prebuilds/${PLATFORM}/`)).sort();
    const expected = [...[...located.values()].map((found) => addonName(found.key)), PRELOAD_FILE].map((name) => `package/prebuilds/${PLATFORM}/${name}`).sort();
    expect(prebuilds).toEqual(expected);
    expect(new Set([...located.values()].map((found) => found.key)).size, 'the three libtorches have three keys').toBe(CASES.length);
    expect([...entries.keys()].filter((name) => name.startsWith('package/build')), 'no build folder in the tarball').toEqual([]);
    expect(entries.has('package/dist/index.js'), 'dist/ (compiled by prepare) is in the tarball').toBe(true);
  });
});

describe('npm install of the tarball with every compiler and cmake replaced by a failing shim', () => {
  it('succeeds, compiles nothing, and says it uses the prebuilt addon', () => {
    expect(install.status, show(install)).toBe(0);
    expect(shims.calls(), `shims called during npm install:\n${show(install)}`).toEqual([]);
    expect(install.output).not.toContain('compiler shim:');
    const system = located.get('system')!;
    expect(install.output, show(install)).toContain(`bert-embed-native: using prebuilds/${PLATFORM}/${addonName(system.key)} for torch ${system.version}`);
    expect(install.output).not.toContain('building the native addon from source');
    expect(fs.existsSync(path.join(installedPackage(app), 'build')), 'no build/ in the installed package').toBe(false);
  });
});

describe.each(CASES)('the installed app on $label', (c: LibtorchCase) => {
  // An addon that NEEDs another libtorch's library (a soname that libtorch does not have) pulls a second libtorch
  // into the process, which aborts in that libtorch's static initializers, before the loader can say anything.
  it("links that libtorch's own libraries by their sonames (and, built on a pip torch, nothing but what its wheel ships, glibc, libstdc++ and libgomp)", () => {
    const found = located.get(c.name)!;
    const file = path.join(installedPackage(app), 'prebuilds', PLATFORM, addonName(found.key));
    const { needed, rpath } = readDynamic(file);
    const own = libtorchSonames(found.libraryDir);
    const foreign = needed.filter((name) => /^lib(torch|c10)/.test(name) && !own.has(name));
    expect(foreign, `${addonName(found.key)} NEEDs ${foreign.join(', ')}, which torch ${found.version} at ${found.libraryDir} does not have (its sonames: ${[...own.keys()].join(', ')}): it was linked against another libtorch`).toEqual([]);
    expect(rpath, 'a prebuilt addon has no RPATH/RUNPATH').toEqual([]);
    if (!found.system) {
      const shipped = folderSonames(found.libraryDir);
      expect(needed.filter((name) => !shipped.has(name) && !SYSTEM_RUNTIME.includes(name)), `what ${addonName(found.key)} NEEDs beyond its torch wheel`).toEqual([]);
    }
  });

  it('loads the prebuilt addon for that libtorch and encodes', async () => {
    expect(install.status, 'the install failed').toBe(0);
    const found = located.get(c.name)!;
    const env = appEnv({ shims: shims.dir, set: c.set });
    // What the installed package's locator finds in the app is what the repository's found.
    expect(await locate(app, env)).toMatchObject({ source: c.source, key: found.key, version: found.version, libraryDir: found.libraryDir });
    const result = await runProbe(app, { model: MODEL, maxSeqLen: MAX_SEQ_LEN, texts: TEXTS, pooling: POOLING }, env);
    expect(result.error, `${result.error?.message}\n${result.stderr}`).toBeUndefined();
    const info = result.info!;
    expect(info.addon).toEqual({ file: path.join(fs.realpathSync(installedPackage(app)), 'prebuilds', PLATFORM, addonName(found.key)), key: found.key, prebuilt: true });
    expect(info.libtorch).toEqual({ source: c.source, libraryDir: found.libraryDir, version: found.version, key: found.key });
    // The addon's own (compiled-in) libtorch version is the one found, and so is its CUDA support.
    expect(info.version.split('.').slice(0, 2).join('.')).toBe(found.version.split(/[.+]/).slice(0, 2).join('.'));
    expect(info.cudaCompiled).toBe(c.cuda);
    expect(found.key).toMatch(c.cuda ? /^torch-\d+\.\d+-cu\d+$/ : /^torch-\d+\.\d+-cpu$/);
    expect(result.shape).toEqual([TEXTS.length, 384]);
    vectors.set(c.name, probeVectors(result));
    expect(shims.calls(), 'nothing is compiled at run time').toEqual([]);
  });
});

describe('the vectors', () => {
  it(`agree across the three libtorches within ${AGREEMENT} (max abs diff)`, () => {
    const names = [...vectors.keys()];
    const diffs: { pair: string; worst: number }[] = [];
    names.forEach((a, i) =>
      names.slice(i + 1).forEach((b) => {
        const [x, y] = [vectors.get(a)!, vectors.get(b)!];
        let worst = 0;
        for (let k = 0; k < x.length; k++) worst = Math.max(worst, Math.abs(x[k] - y[k]));
        diffs.push({ pair: `${a} vs ${b}`, worst });
      }),
    );
    console.log(`max abs diff of the vectors: ${diffs.map((d) => `${d.pair}: ${d.worst.toExponential(2)}`).join(', ')}`);
    expect(names.sort(), 'every libtorch encoded').toEqual(CASES.map((c) => c.name).sort());
    for (const { pair, worst } of diffs) expect(worst, `max abs diff, ${pair}`).toBeLessThanOrEqual(AGREEMENT);
  });

  it(`match Hugging Face's BertModel (float64) on the same checkpoint within ${REFERENCE_TOLERANCE} of each vector's largest value`, async () => {
    const expected = (await hf)[0].vectors[0];
    const worst: string[] = [];
    for (const [name, got] of vectors) {
      let caseWorst = 0;
      expected.forEach((want, i) => {
        caseWorst = Math.max(caseWorst, expectRelativeClose(got.subarray(i * 384, (i + 1) * 384), want, 384, REFERENCE_TOLERANCE, `${name}, text ${i}`));
      });
      worst.push(`${name}: ${caseWorst.toExponential(2)}`);
    }
    console.log(`worst max|ours - hf| / max|hf|: ${worst.join(', ')}`);
  });
});

describe(`a libtorch no prebuilt addon is built for (a torch package folder whose version.py says ${FAKE_VERSION})`, () => {
  let fake: string;
  beforeAll(() => {
    const realLibc10 = path.join(located.get('.venv')!.libraryDir, 'libc10.so');
    fake = fakeTorchPackage(path.join(work, 'fake-torch'), FAKE_VERSION, realLibc10);
  });

  it('makes Encoder.load reject with ERR_LIBTORCH_MISMATCH naming the version found and the addons there are', async () => {
    const result = await runProbe(app, { model: MODEL, maxSeqLen: MAX_SEQ_LEN, infoFirst: false }, appEnv({ shims: shims.dir, set: { LIBTORCH_DIR: fake } }));
    expect(result.error, 'Encoder.load succeeded').toBeDefined();
    expect(result.error!.stage).toBe('Encoder.load');
    expect(result.error!.code, result.error!.message).toBe('ERR_LIBTORCH_MISMATCH');
    expect(result.error!.message).toContain(FAKE_VERSION);
    expect(result.error!.message).toContain('torch-2.99-cpu');
    for (const found of located.values()) expect(result.error!.message).toContain(found.key);
    expect(result.error!.message).toContain('BERT_EMBED_BUILD_FROM_SOURCE=1');
  });

  it('makes npm install of the tarball build from source, say why, and fail on a compiler shim', async () => {
    const app2 = await makeApp(path.join(work, 'app-mismatch'));
    shims.reset();
    const result = await npmInstall(app2, tarball, appEnv({ shims: shims.dir, set: { LIBTORCH_DIR: fake } }));
    expect(result.status, show(result)).not.toBe(0);
    expect(result.output, show(result)).toContain(`bert-embed-native: building the native addon from source: no addon here is built for torch ${FAKE_VERSION} (torch-2.99-cpu)`);
    expect(shims.calls().length, `no shim was called: the build never tried to compile\n${show(result)}`).toBeGreaterThan(0);
    expect(result.output).toContain('compiler shim:');
  });
});
