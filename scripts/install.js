#!/usr/bin/env node
// npm install hook: use the addon built for the libtorch this machine has (a prebuilt one, or an earlier
// build from source), else build from source with cmake-js against that libtorch. The libtorch is found
// as at run time (scripts/libtorch-locator.cjs): LIBTORCH_DIR, then the torch python3 finds, then the system's.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { locateLibtorch, packageAddons } = require('./libtorch-locator.cjs');

const root = path.resolve(__dirname, '..');
const fromSource = /^(1|true)$/i.test(process.env.BERT_EMBED_BUILD_FROM_SOURCE || process.env.npm_config_build_from_source || '');

function why() {
  if (fromSource) return 'BERT_EMBED_BUILD_FROM_SOURCE is set';
  const libtorch = locateLibtorch();
  if (!libtorch) return 'no libtorch was found (LIBTORCH_DIR is unset, python3 finds no torch, the system has none)';
  if (libtorch.unusable) return `LIBTORCH_DIR=${libtorch.root} holds no libtorch`;
  const addons = packageAddons(root);
  const addon = addons.find((candidate) => candidate.key === libtorch.key);
  const found = `torch ${libtorch.version} (${libtorch.key}) from ${libtorch.source} at ${libtorch.libraryDir}`;
  if (addon) {
    console.log(`bert-embed-native: using ${path.relative(root, addon.file)} for ${found}`);
    return undefined;
  }
  const have = addons.length > 0 ? addons.map((candidate) => candidate.key).join(', ') : 'none';
  return `no addon here is built for ${found} (addons: ${have})`;
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
