// How the package finds libtorch and the addon for it (scripts/libtorch-locator.cjs, lib/native/addon-loader.ts):
// LIBTORCH_DIR, then the torch python3 finds, then the system's; each libtorch's version is checked against
// what that torch itself says when imported, and a libtorch no addon is built for is refused by name.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeTorchPackage, locateFromRepo } from '../install/harness.mjs';
import { repoRoot } from '../reference/helpers.js';
import { VENV_PYTHON } from '../reference/hf-mlm.js';

const SYSTEM_LIBRARY_DIR = '/usr/lib/x86_64-linux-gnu';

/**
 * A PATH whose python3 is the one in `venvBin` (a virtual environment's bin/, which a link to its python
 * would not activate) or, with null, /usr/bin's (Debian's python3-torch, which has no CMake config and so
 * leaves the system's libtorch to be found as such); nothing else on it finds a torch.
 */
function pathWithPython(venvBin: string | null): string {
  return [...(venvBin ? [venvBin] : []), path.dirname(process.execPath), '/usr/local/sbin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');
}

/** What a python's torch says about itself when imported: the independent answer. */
function importedTorch(python: string): { version: string; cuda: string | null; libraryDir: string } {
  const probe = spawnSync(python, ['-c', 'import json, os, torch; print(json.dumps({"version": torch.__version__, "cuda": torch.version.cuda, "libraryDir": os.path.join(os.path.dirname(torch.__file__), "lib")}))'], { encoding: 'utf8' });
  expect(probe.status, probe.stderr).toBe(0);
  return JSON.parse(probe.stdout);
}

function torchPackageDir(python: string): string {
  return path.dirname(importedTorch(python).libraryDir);
}

describe('finding libtorch', () => {
  let work: string;
  let venvTorch: ReturnType<typeof importedTorch>;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-locate-'));
    venvTorch = importedTorch(VENV_PYTHON);
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('takes LIBTORCH_DIR first, named as the torch package folder, its share/cmake or share/cmake/Torch', async () => {
    const torchDir = path.dirname(venvTorch.libraryDir);
    for (const named of [torchDir, path.join(torchDir, 'share', 'cmake'), path.join(torchDir, 'share', 'cmake', 'Torch')]) {
      const found = await locateFromRepo({ LIBTORCH_DIR: named, PATH: pathWithPython(null) });
      expect(found, named).toMatchObject({ source: 'LIBTORCH_DIR', version: venvTorch.version, cuda: venvTorch.cuda });
      expect(fs.realpathSync(found!.libraryDir)).toBe(fs.realpathSync(venvTorch.libraryDir));
      const [major, minor] = venvTorch.version.split('.');
      expect(found!.key).toBe(`torch-${major}.${minor}-${venvTorch.cuda ? `cu${venvTorch.cuda.replace('.', '')}` : 'cpu'}`);
    }
  });

  it('then the torch python3 finds, without importing it', async () => {
    const found = await locateFromRepo({ PATH: pathWithPython(path.dirname(VENV_PYTHON)) });
    expect(found).toMatchObject({ source: 'python3', version: venvTorch.version });
    expect(fs.realpathSync(found!.libraryDir)).toBe(fs.realpathSync(venvTorch.libraryDir));
  });

  it("then the system's (Debian's libtorch-dev), whose version its package gives", async () => {
    const found = await locateFromRepo({ PATH: pathWithPython(null) });
    expect(found).toMatchObject({ source: 'system', libraryDir: SYSTEM_LIBRARY_DIR, cuda: null });
    const dpkg = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'libtorch-dev'], { encoding: 'utf8' }).stdout;
    const [major, minor] = dpkg.split('.');
    expect(found!.key).toBe(`torch-${major}.${minor}-cpu`);
  });

  it('reports a LIBTORCH_DIR that holds no libtorch rather than passing it over', async () => {
    const found = await locateFromRepo({ LIBTORCH_DIR: work, PATH: pathWithPython(path.dirname(VENV_PYTHON)) });
    expect(found).toMatchObject({ source: 'LIBTORCH_DIR', unusable: true });
  });
});

/**
 * Runs `script` in a fresh node process with the package's dist/ as `bertEmbed`; it prints JSON, or the
 * error it throws is printed as {code, message}.
 */
function inProcess(script: string, env: NodeJS.ProcessEnv): { status: number | null; out: any; stderr: string } {
  const full = `const bertEmbed = require(${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))});
try {
${script}
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message }));
}`;
  const result = spawnSync(process.execPath, ['-e', full], { encoding: 'utf8', env });
  const last = result.stdout.trim().split('\n').pop() ?? '';
  return { status: result.status, out: last ? JSON.parse(last) : undefined, stderr: result.stderr };
}

describe('loading the addon', () => {
  let work: string;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-loader-'));
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('refuses a libtorch no addon here is built for, naming both', () => {
    // A torch package folder as pip lays it out, of a version nobody built for, around a real libc10.
    const fake = fakeTorchPackage(path.join(work, 'torch'), '2.99.0+cpu', path.join(torchPackageDir(VENV_PYTHON), 'lib', 'libc10.so'));
    const env = { ...process.env, LIBTORCH_DIR: fake, BERT_EMBED_ADDON: '' };
    const { out } = inProcess('bertEmbed.libtorchInfo();', env);
    expect(out.code).toBe('ERR_LIBTORCH_MISMATCH');
    expect(out.message).toContain('torch 2.99.0+cpu (torch-2.99-cpu) from LIBTORCH_DIR');
    expect(out.message).toMatch(/built for torch-\d+\.\d+-(cpu|cu\d+)/);
    expect(out.message).toContain('BERT_EMBED_BUILD_FROM_SOURCE=1 npm rebuild bert-embed-native');
  });

  it('refuses to run beside a second libtorch already in the process', () => {
    // Another libtorch's libc10 (pip torch's, soname libc10.so) is loaded first, as another native module
    // might; the addon then loads its own libtorch (Debian's, libc10.so.1.13): two libtorch installs.
    const preload = path.join(repoRoot, 'build', 'Release', 'bert_embed_preload.node');
    const otherC10 = path.join(torchPackageDir(VENV_PYTHON), 'lib', 'libc10.so');
    const env = { ...process.env, PATH: pathWithPython(null), BERT_EMBED_ADDON: '', LIBTORCH_DIR: '' };
    const { out } = inProcess(`require(${JSON.stringify(preload)}).load([${JSON.stringify(otherC10)}]);\nbertEmbed.libtorchInfo();`, env);
    expect(out.code).toBe('ERR_LIBTORCH_MISMATCH');
    expect(out.message).toContain('two libtorch installs are loaded into this process');
    expect(out.message).toContain(fs.realpathSync(path.dirname(otherC10)));
  });

  it('says which addon and which libtorch it loaded', () => {
    const env = { ...process.env, PATH: pathWithPython(null), BERT_EMBED_ADDON: '', LIBTORCH_DIR: '' };
    const { out, stderr } = inProcess('console.log(JSON.stringify(bertEmbed.libtorchInfo()));', env);
    expect(out, stderr).toMatchObject({
      addon: { file: path.join(repoRoot, 'build', 'Release', 'bert_embed_native.node'), prebuilt: false },
      libtorch: { source: 'system', libraryDir: SYSTEM_LIBRARY_DIR },
    });
    expect(out.addon.key).toBe(out.libtorch.key);
    // the version the addon was compiled with agrees with the libtorch it loaded
    expect(out.version.split('.').slice(0, 2).join('.')).toBe(out.libtorch.key.match(/^torch-(\d+\.\d+)/)[1]);
  });
});
