// The addon builds against pip torch 2.x's libtorch (how GPU machines have it) as well as Debian's
// 1.13, and a build never mixes two libtorch installs, nor links the distribution's oneDNN beside a
// pip torch. .ci/run builds the addon that way (npm run prebuild) and runs the engine, heads, task and
// CLI suites and this file on it with BERT_EMBED_ADDON; this file configures such a build and checks
// what the configuration links, and checks what the addon under test really maps into its process.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../reference/helpers.js';
import { VENV_PYTHON } from '../reference/hf-mlm.js';

function pipTorchPrefix(): { cmakePrefix: string; libDir: string; includeDir: string } {
  const probe = spawnSync(VENV_PYTHON, ['-c', 'import os, torch.utils; print(torch.utils.cmake_prefix_path); print(os.path.dirname(torch.__file__))'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`${VENV_PYTHON} cannot import torch (${probe.stderr.trim().split('\n').pop()}): run \`npm run setup\` first`);
  }
  const [cmakePrefix, torchDir] = probe.stdout.trim().split('\n');
  return { cmakePrefix, libDir: path.join(torchDir, 'lib'), includeDir: path.join(torchDir, 'include') };
}

function configure(outDir: string, libtorchDir: string, extra: string[] = []) {
  return spawnSync('npx', ['cmake-js', 'configure', '--out', outDir, ...extra], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, LIBTORCH_DIR: libtorchDir },
  });
}

describe('a build against pip torch 2.x', () => {
  let torch: ReturnType<typeof pipTorchPrefix>;
  let work: string;
  let ninja: string;

  beforeAll(() => {
    torch = pipTorchPrefix();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-embed-build-'));
    const result = configure(path.join(work, 'pip-torch'), torch.cmakePrefix);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    ninja = fs.readFileSync(path.join(work, 'pip-torch', 'build.ninja'), 'utf8');
  }, 300_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("links only that torch's libraries", () => {
    const link = ninja.split('\n').filter((line) => /LINK_LIBRARIES = /.test(line)).join(' ');
    const torchLibraries = [...link.matchAll(/(\/[^\s",]*\/lib(?:torch|torch_cpu|c10)\.so)\b/g)].map((m) => m[1]);
    expect(torchLibraries.length).toBeGreaterThanOrEqual(2);
    for (const library of torchLibraries) expect(fs.realpathSync(library).startsWith(fs.realpathSync(torch.libDir) + path.sep)).toBe(true);
    // and finds them at run time there, without LD_LIBRARY_PATH
    expect(link).toContain(torch.libDir);
  });

  it("depends on nothing beyond that torch: not the distribution's oneDNN, so its oneDNN kernels are left out", () => {
    // pip torch's own oneDNN 3 lives inside libtorch_cpu.so with its symbols hidden; Debian's libdnnl.so.2
    // is not part of that wheel, so the kernels written against oneDNN 2 (native/cpu) are not built here.
    const link = ninja.split('\n').filter((line) => /LINK_LIBRARIES = /.test(line)).join(' ');
    expect(link).not.toMatch(/libdnnl/);
    const sources = [...ninja.matchAll(/^build \S+\.o: CXX_COMPILER__\S+ (\S+)/gm)].map((m) => path.basename(m[1]));
    expect(sources).toContain('onednn_linear_unavailable.cpp');
    expect(sources).not.toContain('onednn_linear.cpp');
  });

  it("never links another libtorch's library, even one named on the command line", () => {
    // CMake's cached answers for the torch libraries are its own: a path into Debian's libtorch, as a stale
    // cache or a user's -D would give, is dropped and the chosen libtorch's own library found again.
    const debianC10 = '/usr/lib/x86_64-linux-gnu/libc10.so';
    expect(fs.existsSync(debianC10), `${debianC10} (Debian's libtorch-dev, from npm run setup)`).toBe(true);
    const result = configure(path.join(work, 'mixed'), torch.cmakePrefix, [`--CDc10_LIBRARY=${debianC10}`, `--CDTORCH_LIBRARY=${debianC10.replace('c10', 'torch')}`]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const mixed = fs.readFileSync(path.join(work, 'mixed', 'build.ninja'), 'utf8');
    const link = mixed.split('\n').filter((line) => /LINK_LIBRARIES = /.test(line)).join(' ');
    expect(link).not.toMatch(/\/usr\/lib\/x86_64-linux-gnu\/lib(c10|torch)/);
    expect(link).toContain(path.join(torch.libDir, 'libc10.so'));
  }, 300_000);
});

describe('the addon under test', () => {
  it('maps one libtorch, one oneDNN and one OpenMP runtime', () => {
    // A fresh process loads the addon (BERT_EMBED_ADDON's, when set) and lists what it mapped.
    const script = `
      const { libtorchInfo } = require(${JSON.stringify(path.join(repoRoot, 'dist', 'native', 'libtorch-info.js'))});
      const info = libtorchInfo();
      const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');
      const files = [...new Set(maps.split('\\n').map((l) => l.split(/\\s+/)[5]).filter((f) => f && f.startsWith('/')))];
      console.log(JSON.stringify({ info, files }));`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const { info, files } = JSON.parse(result.stdout) as { info: { version: string; oneDnnLinear: boolean }; files: string[] };
    const named = (pattern: RegExp) => files.filter((file) => pattern.test(path.basename(file)));
    const torchLibraries = named(/^lib(torch|torch_cpu|c10)(-[0-9a-f]+)?\.so/);
    expect(torchLibraries.length).toBeGreaterThanOrEqual(2);
    expect(new Set(torchLibraries.map((file) => path.dirname(fs.realpathSync(file)))).size, torchLibraries.join(', ')).toBe(1);
    expect(named(/^libgomp(-[0-9a-f]+)?\.so/).length, files.join('\n')).toBeLessThanOrEqual(1);
    // Only the distribution's libtorch runs with the distribution's oneDNN; another libtorch's addon never maps it.
    const dnnl = named(/^libdnnl\.so/);
    const systemLibtorch = path.dirname(fs.realpathSync(torchLibraries[0])) === '/usr/lib/x86_64-linux-gnu';
    expect(dnnl.length, dnnl.join(', ')).toBe(systemLibtorch && info.oneDnnLinear ? 1 : 0);
    // the version the addon reports is that of the libtorch it mapped
    const majorMinor = info.version.split('.').slice(0, 2).join('.');
    const dir = path.dirname(fs.realpathSync(torchLibraries[0]));
    if (dir.includes('site-packages')) {
      const version = fs.readFileSync(path.join(dir, '..', 'version.py'), 'utf8').match(/__version__ = '([^']+)'/)![1];
      expect(version.startsWith(majorMinor)).toBe(true);
    } else {
      expect(path.basename(fs.realpathSync(named(/^libtorch_cpu\.so/)[0]))).toContain(majorMinor);
    }
  });
});
