#!/usr/bin/env node
// npm install hook: use the addon built for the libtorch this machine has (a prebuilt one, or an earlier
// build from source), else build from source with cmake-js against that libtorch. The libtorch is found
// as at run time (scripts/libtorch-locator.cjs): LIBTORCH_DIR, then the torch python3 finds, then the system's.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { chooseAddon } = require('./libtorch-locator.cjs');

const root = path.resolve(__dirname, '..');
// npm runs this hook in the package's folder: a relative LIBTORCH_DIR means the user's folder, as at run time.
for (const name of ['LIBTORCH_DIR', 'Torch_DIR']) {
  const value = process.env[name];
  if (value && !path.isAbsolute(value)) process.env[name] = path.resolve(process.env.INIT_CWD || process.cwd(), value);
}
// The prebuilt addons need glibc 2.34 (GLIBC_2.34 symbols) and libstdc++ from GCC 12 (GLIBCXX_3.4.30).
const PREBUILT_GLIBC = '2.34';
const fromSource = /^(1|true)$/i.test(process.env.BERT_EMBED_BUILD_FROM_SOURCE || process.env.npm_config_build_from_source || '');

function why() {
  if (fromSource) return 'BERT_EMBED_BUILD_FROM_SOURCE is set';
  const glibc = process.report?.getReport().header.glibcVersionRuntime;
  if (glibc && compareVersions(glibc, PREBUILT_GLIBC) < 0) return `this glibc is ${glibc}; the prebuilt addons need ${PREBUILT_GLIBC}`;
  const { libtorch, addons, addon } = chooseAddon(root);
  if (!libtorch) return 'no libtorch was found (LIBTORCH_DIR is unset, python3 finds no torch, the system has none)';
  if (libtorch.unusable) return `LIBTORCH_DIR=${libtorch.root} holds no libtorch`;
  const found = `torch ${libtorch.version} (${libtorch.key}) from ${libtorch.source} at ${libtorch.libraryDir}`;
  if (addon) {
    console.log(`bert-embed-native: using ${path.relative(root, addon.file)} for ${found}`);
    return undefined;
  }
  const have = addons.length > 0 ? addons.map((candidate) => candidate.key).join(', ') : 'none';
  return `no addon here is built for ${found} (addons: ${have})`;
}

function compareVersions(a, b) {
  const [x, y] = [a, b].map((version) => version.split('.').map(Number));
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
  return 0;
}

const reason = why();
if (reason === undefined) process.exit(0);
console.log(`bert-embed-native: building the native addon from source: ${reason}`);

const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const result = spawnSync(process.execPath, [cmakeJs, 'compile', '--directory', root], { stdio: 'inherit' });
if (result.status !== 0) {
  console.error(
    '\nbert-embed-native: building the native addon failed.\n' +
      '  It needs cmake, a C++17 compiler and libtorch. On Debian/Ubuntu:\n' +
      '    sudo apt-get install cmake g++ libtorch-dev libopenblas0-pthread\n' +
      '  or point LIBTORCH_DIR at an unpacked libtorch or a torch package, then run `npm rebuild bert-embed-native`.\n',
  );
  process.exit(result.status || 1);
}
