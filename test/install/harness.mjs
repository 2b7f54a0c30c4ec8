// What test/install/prebuilt-install.test.ts and bench/install.mjs share: packing the package, a folder of failing
// compiler shims, a fresh app that installs the tarball, the environment a child runs in, and app-probe.cjs run in
// that app. Plain ESM (bench/ runs without a build step); types in harness.d.mts.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PLATFORM = `${process.platform}-${process.arch}`;
export const { PRELOAD_FILE } = createRequire(import.meta.url)('../../scripts/libtorch-locator.cjs');
const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'app-probe.cjs');

/** Every compiler, linker and build tool a build from source could call. */
export const SHIMMED = ['cc', 'gcc', 'g++', 'c++', 'clang', 'clang++', 'cmake', 'make', 'ninja', 'ld', 'nvcc'];

/**
 * A folder of failing shims, one per SHIMMED name: each prints `compiler shim: NAME was called` to stderr, appends
 * its command line to `log` (seen even where npm swallows a script's output) and exits 1.
 */
export function makeShims(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const log = path.join(dir, 'calls.log');
  for (const name of SHIMMED) {
    const script = `#!/bin/sh\necho 'compiler shim: ${name} was called' >&2\necho '${name}' "$@" >> '${log}'\nexit 1\n`;
    fs.writeFileSync(path.join(dir, name), script, { mode: 0o755 });
  }
  return {
    dir,
    log,
    /** the shims' command lines so far */
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    reset: () => fs.rmSync(log, { force: true }),
  };
}

// What would make a child pick a libtorch, an addon or a build other than the case says.
const DROPPED = ['LIBTORCH_DIR', 'Torch_DIR', 'BERT_EMBED_ADDON', 'BERT_EMBED_BUILD_FROM_SOURCE', 'VIRTUAL_ENV', 'CONDA_PREFIX', 'PYTHONPATH', 'PYTHONHOME', 'LD_LIBRARY_PATH', 'LD_PRELOAD', 'NODE_OPTIONS', 'INIT_CWD'];

/** A PATH entry a child must not see: this repository's (node_modules/.bin), any node_modules/.bin, a Python venv's bin. */
function hiddenPathEntry(dir) {
  const resolved = path.resolve(dir);
  return resolved === repoRoot || resolved.startsWith(repoRoot + path.sep) || /[\\/]node_modules[\\/]\.bin$/.test(resolved) || fs.existsSync(path.join(resolved, '..', 'pyvenv.cfg'));
}

/**
 * The environment of a child working in an app, as a user's shell would have it: none of the variables that choose a
 * libtorch or an addon unless `set` gives them, no npm_* of the npm that runs these tests, and a PATH without this
 * repository's folders and Python venvs (so python3 finds no pip torch), led by `shims` when given.
 */
export function appEnv({ shims, set = {} } = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (DROPPED.includes(key) || /^npm_/i.test(key) || /^VITEST/.test(key)) continue;
    env[key] = value;
  }
  const entries = (process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir && !hiddenPathEntry(dir));
  env.PATH = [...(shims ? [shims] : []), path.dirname(process.execPath), ...entries].join(path.delimiter);
  return { ...env, ...set };
}

/** Runs a command; resolves with its status, output and wall time (never rejects on a non-zero status). */
export function run(command, args, { cwd, env, timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, output: `${stdout}\n${stderr}`, ms: performance.now() - start });
    });
  });
}

/** `npm pack` of this repository into `dest` (its `prepare` compiles lib/ to dist/); the tarball's path. */
export async function packPackage(dest) {
  fs.mkdirSync(dest, { recursive: true });
  const before = new Set(fs.readdirSync(dest));
  const result = await run('npm', ['pack', '--pack-destination', dest], { cwd: repoRoot, env: appEnv() });
  const made = fs.readdirSync(dest).filter((name) => name.endsWith('.tgz') && !before.has(name));
  if (result.status !== 0 || made.length !== 1) throw new Error(`npm pack failed (${result.status ?? result.signal}):\n${result.output}`);
  return { tarball: path.join(dest, made[0]), ms: result.ms };
}

/** The tarball's entries (`package/...`) and their sizes in bytes. */
export async function tarballEntries(tarball) {
  const result = await run('tar', ['-tvzf', tarball]);
  if (result.status !== 0) throw new Error(`tar -tvzf ${tarball} failed:\n${result.output}`);
  const entries = new Map();
  for (const line of result.stdout.split('\n')) {
    // -rw-r--r-- 0/0   629512 1985-10-26 08:15 package/prebuilds/linux-x64/x.node
    const match = /^\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.+)$/.exec(line);
    if (match) entries.set(match[2], Number(match[1]));
  }
  return entries;
}

/** A copy of `tarball` without package/prebuilds/ (what installing without prebuilt addons is). */
export async function repackWithoutPrebuilds(tarball, dest) {
  const unpacked = fs.mkdtempSync(path.join(path.dirname(dest), 'unpacked-'));
  const untar = await run('tar', ['-xzf', tarball, '-C', unpacked]);
  if (untar.status !== 0) throw new Error(`tar -xzf failed:\n${untar.output}`);
  fs.rmSync(path.join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
  const retar = await run('tar', ['-czf', dest, '-C', unpacked, 'package']);
  if (retar.status !== 0) throw new Error(`tar -czf failed:\n${retar.output}`);
  fs.rmSync(unpacked, { recursive: true, force: true });
  return dest;
}

/** A fresh app (`npm init -y`) in `dir`. */
export async function makeApp(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const result = await run('npm', ['init', '-y'], { cwd: dir, env: appEnv() });
  if (result.status !== 0) throw new Error(`npm init -y failed in ${dir}:\n${result.output}`);
  fs.copyFileSync(PROBE, path.join(dir, 'app-probe.cjs'));
  return dir;
}

/** `npm install TARBALL` in `app` with the install hook's output shown (--foreground-scripts); never rejects on failure. */
export function npmInstall(app, tarball, env, timeoutMs = 600_000) {
  return run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts'], { cwd: app, env, timeoutMs });
}

/** The installed package's folder in `app`. */
export const installedPackage = (app) => path.join(app, 'node_modules', 'bert-embed-native');

/** What the installed package's locator finds under `env` (null when nothing), run as the install hook runs it. */
export async function locate(app, env) {
  const result = await run(process.execPath, [path.join(installedPackage(app), 'scripts', 'libtorch-locator.cjs')], { cwd: app, env });
  return JSON.parse(result.stdout.trim() || 'null');
}

/** The locator run from this repository (before anything is installed). */
export async function locateFromRepo(env) {
  const result = await run(process.execPath, [path.join(repoRoot, 'scripts', 'libtorch-locator.cjs')], { cwd: repoRoot, env });
  return JSON.parse(result.stdout.trim() || 'null');
}

let probes = 0;
/** Runs app-probe.cjs in a fresh node process in `app` (see its header); resolves with its result and the process's wall time. */
export async function runProbe(app, request, env, timeoutMs = 180_000) {
  const id = `${process.pid}-${probes++}`;
  const requestFile = path.join(app, `probe-request-${id}.json`);
  const resultFile = path.join(app, `probe-result-${id}.json`);
  fs.writeFileSync(requestFile, JSON.stringify(request));
  const child = await run(process.execPath, ['app-probe.cjs', requestFile, resultFile], { cwd: app, env, timeoutMs });
  if (!fs.existsSync(resultFile)) throw new Error(`app-probe.cjs wrote no result (${child.status ?? child.signal}):\n${child.output}`);
  const result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  fs.rmSync(requestFile);
  fs.rmSync(resultFile);
  return { ...result, processMs: child.ms, stderr: child.stderr };
}

/** A probe result's vectors. */
export function probeVectors(result) {
  const bytes = Buffer.from(result.data, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** The torch package folder of a Python venv (lib/python3.X/site-packages/torch), or undefined. */
export function venvTorch(venv) {
  const lib = path.join(repoRoot, venv, 'lib');
  let versions = [];
  try {
    versions = fs.readdirSync(lib).filter((name) => name.startsWith('python3'));
  } catch {
    return undefined;
  }
  return versions.map((name) => path.join(lib, name, 'site-packages', 'torch')).find((dir) => fs.existsSync(path.join(dir, 'share', 'cmake', 'Torch', 'TorchConfig.cmake')));
}

/** A shared object's dynamic section (`readelf -d`): its SONAME, NEEDED entries and RPATH/RUNPATH. */
export function readDynamic(file) {
  const text = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
  return {
    soname: /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(text)?.[1] ?? null,
    needed: [...text.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((match) => match[1]),
    rpath: [...text.matchAll(/\((?:RPATH|RUNPATH)\)\s+Library (?:rpath|runpath): \[([^\]]+)\]/g)].map((match) => match[1]),
  };
}

/** What a prebuilt addon may need besides its libtorch's libraries: glibc, libstdc++, libgcc_s and libgomp. */
export const SYSTEM_RUNTIME = ['libc.so.6', 'libm.so.6', 'libdl.so.2', 'libpthread.so.0', 'librt.so.1', 'ld-linux-x86-64.so.2', 'ld-linux-aarch64.so.1', 'libstdc++.so.6', 'libgcc_s.so.1', 'libgomp.so.1'];

/** The SONAMEs of a libtorch's torch and c10 libraries (what an addon built against it NEEDs by name). */
export function libtorchSonames(libraryDir) {
  const sonames = new Map();
  for (const name of fs.readdirSync(libraryDir)) {
    if (!/^lib(torch|c10)[a-z0-9_]*\.so$/.test(name)) continue;
    const soname = readDynamic(path.join(libraryDir, name)).soname;
    if (soname) sonames.set(soname, name);
  }
  return sonames;
}

/** The SONAMEs of every shared object in a folder (a pip torch's lib/: what its wheel ships). */
export function folderSonames(dir) {
  const sonames = new Set();
  for (const name of fs.readdirSync(dir)) {
    if (!/\.so(\.|$)/.test(name)) continue;
    try {
      const soname = readDynamic(path.join(dir, name)).soname;
      sonames.add(soname ?? name);
    } catch {
      // not an ELF file
    }
  }
  return sonames;
}

/** The libtorches the prebuilt addons are for: the system's, .venv's pip torch (CPU), .venv-cuda's (CUDA). */
export function libtorchCases() {
  return [
    { name: 'system', label: "the system's libtorch (LIBTORCH_DIR unset, python3 finds no pip torch)", set: {}, source: 'system', cuda: false },
    { name: '.venv', label: "pip torch CPU (LIBTORCH_DIR=.venv's torch)", venv: '.venv', set: { LIBTORCH_DIR: venvTorch('.venv') }, source: 'LIBTORCH_DIR', cuda: false },
    { name: '.venv-cuda', label: "pip torch CUDA (LIBTORCH_DIR=.venv-cuda's torch), on the CPU", venv: '.venv-cuda', set: { LIBTORCH_DIR: venvTorch('.venv-cuda') }, source: 'LIBTORCH_DIR', cuda: true },
  ];
}

/**
 * A folder that looks like a torch package of another version to the locator: share/cmake/Torch/TorchConfig.cmake,
 * lib/libc10.so (a link to a real one) and version.py saying `version`.
 */
export function fakeTorchPackage(dir, version, realLibc10) {
  fs.mkdirSync(path.join(dir, 'share', 'cmake', 'Torch'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'share', 'cmake', 'Torch', 'TorchConfig.cmake'), '# not a libtorch: the install test\'s stand-in for one no addon is built for\n');
  fs.mkdirSync(path.join(dir, 'lib'), { recursive: true });
  fs.symlinkSync(realLibc10, path.join(dir, 'lib', 'libc10.so'));
  fs.writeFileSync(path.join(dir, 'version.py'), `__version__ = '${version}'\ndebug = False\ncuda: Optional[str] = None\ngit_version = 'unknown'\n`);
  return dir;
}
