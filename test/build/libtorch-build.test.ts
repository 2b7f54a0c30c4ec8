// The addon builds against pip torch 2.x's libtorch (how GPU machines have it) as well as Debian's
// 1.13, and a build never mixes two libtorch installs or two oneDNNs' headers and libraries.
// .ci/run builds the addon that way (npm run build:native:pip-torch) and runs the whole suite on it
// with BERT_EMBED_ADDON; this file configures such a build and checks what the configuration links
// and includes, and checks what the addon under test really maps into its process.
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

  it("compiles the oneDNN kernels against the oneDNN they link, ahead of torch's bundled headers", () => {
    const build = ninja.split('\nbuild ').find((block) => block.includes('onednn_linear.cpp'));
    expect(build, 'native/cpu/onednn_linear.cpp is compiled').toBeDefined();
    const includes = build!.match(/INCLUDES = (.*)/)![1].split(/\s+/).map((flag) => flag.replace(/^-(I|isystem)/, ''));
    const mask = includes.findIndex((dir) => dir.endsWith('system-onednn-include'));
    const torchInclude = includes.findIndex((dir) => dir === torch.includeDir);
    expect(mask).toBeGreaterThanOrEqual(0);
    expect(torchInclude).toBeGreaterThan(mask);
    // The masking folder holds the system's oneDNN 2 headers and nothing else (no libtorch headers).
    const maskDir = includes[mask];
    expect(fs.readdirSync(maskDir)).toEqual(['oneapi']);
    const version = fs.readFileSync(path.join(maskDir, 'oneapi', 'dnnl', 'dnnl_version.h'), 'utf8');
    expect(version).toMatch(/#define DNNL_VERSION_MAJOR 2\b/);
    // torch 2.x bundles oneDNN 3's headers: the ones masked
    expect(fs.readFileSync(path.join(torch.includeDir, 'oneapi', 'dnnl', 'dnnl_version.h'), 'utf8')).toMatch(/#define DNNL_VERSION_MAJOR 3\b/);
    const link = ninja.split('\n').filter((line) => /LINK_LIBRARIES = /.test(line)).join(' ');
    expect(link).toMatch(/libdnnl\.so(\.2)?\b/);
  });

  it('refuses a configuration that would load two libtorch installs', () => {
    const debianC10 = '/usr/lib/x86_64-linux-gnu/libc10.so';
    expect(fs.existsSync(debianC10), `${debianC10} (Debian's libtorch-dev, from npm run setup)`).toBe(true);
    const result = configure(path.join(work, 'mixed'), torch.cmakePrefix, [`--CDc10_LIBRARY=${debianC10}`]);
    expect(result.status).not.toBe(0);
    // (CMake wraps its messages)
    expect((result.stdout + result.stderr).replace(/\s+/g, ' ')).toContain('two libtorch installs would be loaded into one process');
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
    const dnnl = named(/^libdnnl\.so/);
    expect(dnnl.length).toBe(info.oneDnnLinear ? 1 : 0);
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
