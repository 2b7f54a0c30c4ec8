'use strict';
// Finds the libtorch this machine has, in the one order the build (native/cmake/FindLibtorch.cmake),
// the install hook (scripts/install.js) and the runtime loader (lib/native/addon-loader.ts) all use,
// so that a machine never builds against one libtorch and loads another:
//   1. LIBTORCH_DIR (or Torch_DIR): an unpacked libtorch, a python torch package folder, or torch's CMake prefix;
//   2. the torch package that python3 finds, located without importing it (importing a CUDA torch takes seconds);
//   3. the system's (Debian's libtorch-dev).
// Plain CommonJS with no dependencies: cmake runs it before anything is compiled.
//   node scripts/libtorch-locator.cjs      prints what it found as JSON (exit 1 when nothing)
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

/** The prebuilt addon key of a libtorch: torch major.minor plus `cpu` or `cuNNN`. */
function libtorchKey(version, cuda) {
  const [major, minor] = version.split(/[.+]/);
  const variant = cuda === null ? 'cpu' : cuda === '' ? 'cuda' : `cu${cuda.replace('.', '')}`;
  return `torch-${major}.${minor}-${variant}`;
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The folder holding Torch/TorchConfig.cmake: `root` itself or its share/cmake. */
function cmakePrefixOf(root) {
  for (const prefix of [path.join(root, 'share', 'cmake'), root]) {
    if (fs.existsSync(path.join(prefix, 'Torch', 'TorchConfig.cmake'))) return prefix;
  }
  return undefined;
}

/** The CMake prefix from what a user may name: a libtorch or torch package folder, its share/cmake, or share/cmake/Torch. */
function cmakePrefixFromHint(hint) {
  const resolved = path.resolve(hint);
  if (fs.existsSync(path.join(resolved, 'TorchConfig.cmake'))) return path.dirname(resolved);
  return cmakePrefixOf(resolved);
}

/** The version a libtorch folder says it is, and the CUDA version it was built for ('' when unknown, null for CPU). */
function versionOf(root, libraryDir, cmakePrefix) {
  let version;
  let cuda;
  const versionPy = readText(path.join(root, 'version.py'));
  if (versionPy) {
    version = /^__version__\s*=\s*['"]([^'"]+)['"]/m.exec(versionPy)?.[1];
    const cudaMatch = /^cuda(?::[^=]*)?=\s*(?:['"]([^'"]+)['"]|None)/m.exec(versionPy);
    if (cudaMatch) cuda = cudaMatch[1] ?? null;
  }
  version ??= readText(path.join(root, 'build-version'))?.trim() || undefined;
  if (!version && cmakePrefix) {
    const config = readText(path.join(cmakePrefix, 'Torch', 'TorchConfigVersion.cmake')) ?? '';
    version = /set\(PACKAGE_VERSION "([^"]+)"\)/.exec(config)?.[1];
  }
  if (cuda === undefined) {
    const tagged = /\+cu(\d+)(\d)$/.exec(version ?? '');
    if (tagged) cuda = `${tagged[1]}.${tagged[2]}`;
    else cuda = fs.existsSync(path.join(libraryDir, 'libtorch_cuda.so')) ? '' : null;
  }
  return { version, cuda };
}

/** CUDA runtime headers for a CUDA libtorch built without a toolkit: the nvidia-* wheels beside a pip torch, else a toolkit. */
function cudaIncludeDir(root) {
  const candidates = [];
  const nvidia = path.join(root, '..', 'nvidia');
  try {
    for (const entry of fs.readdirSync(nvidia).sort().reverse()) candidates.push(path.join(nvidia, entry, 'include'));
  } catch {
    // no nvidia-* wheels beside this torch
  }
  for (const home of [process.env.CUDA_HOME, process.env.CUDA_PATH, '/usr/local/cuda']) {
    if (home) candidates.push(path.join(home, 'include'));
  }
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'cuda_runtime_api.h')));
}

const SYSTEM_LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/lib64', '/usr/local/lib'];

/**
 * A libtorch from its CMake prefix (the folder holding Torch/TorchConfig.cmake): an unpacked libtorch or a
 * torch package (<root>/share/cmake, libraries in <root>/lib) or a distribution's (/usr/lib/<multiarch>/cmake,
 * libraries in /usr/lib/<multiarch>, headers in /usr/include).
 */
function describe(cmakePrefix, source) {
  const packaged = path.resolve(cmakePrefix, '..', '..');
  const libraryDir = [path.join(packaged, 'lib'), path.resolve(cmakePrefix, '..')].find((dir) => fs.existsSync(path.join(dir, 'libc10.so')));
  if (!libraryDir) return undefined;
  const root = libraryDir === path.join(packaged, 'lib') ? packaged : path.resolve(libraryDir, '..', '..');
  const { version, cuda } = versionOf(root, libraryDir, cmakePrefix);
  if (!version) return undefined;
  return {
    source,
    root,
    cmakePrefix,
    libraryDir,
    // a distribution's libtorch, which runs with the distribution's oneDNN (see CMakeLists.txt)
    system: SYSTEM_LIBRARY_DIRS.includes(libraryDir),
    version,
    cuda,
    key: libtorchKey(version, cuda),
    cudaIncludeDir: cuda === null ? null : (cudaIncludeDir(root) ?? null),
  };
}

let pythonTorchRoot;
/** The torch package folder python3 would import, without importing it (memoized: one python3 run per process). */
function findPythonTorch() {
  if (pythonTorchRoot !== undefined) return pythonTorchRoot;
  pythonTorchRoot = null;
  const script = "import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s and s.submodule_search_locations else '')";
  for (const python of ['python3', '/usr/bin/python3']) {
    const result = spawnSync(python, ['-c', script], { encoding: 'utf8', timeout: 20_000 });
    const found = result.status === 0 ? result.stdout.trim() : '';
    // A torch package without its CMake config (Debian's python3-torch links the system's libtorch) is left to step 3.
    if (found && cmakePrefixOf(found)) {
      pythonTorchRoot = found;
      break;
    }
  }
  return pythonTorchRoot;
}

const SYSTEM_CMAKE_PREFIXES = ['/usr/lib/x86_64-linux-gnu/cmake', '/usr/lib/aarch64-linux-gnu/cmake', '/usr/lib/cmake', '/usr/share/cmake', '/usr/local/lib/cmake', '/usr/local/share/cmake'];

function findSystemLibtorch() {
  for (const prefix of SYSTEM_CMAKE_PREFIXES) {
    const found = cmakePrefixOf(prefix) && describe(prefix, 'system');
    if (found) return found;
  }
  return undefined;
}

/**
 * The libtorch to build against and load, or undefined when there is none. A LIBTORCH_DIR that names
 * nothing usable is not passed over for another: the caller reports it.
 */
function locateLibtorch(env = process.env) {
  const hint = env.LIBTORCH_DIR || env.Torch_DIR;
  if (hint) {
    const prefix = cmakePrefixFromHint(hint);
    return (prefix && describe(prefix, 'LIBTORCH_DIR')) || { source: 'LIBTORCH_DIR', root: path.resolve(hint), unusable: true };
  }
  const pythonRoot = findPythonTorch();
  if (pythonRoot) {
    const found = describe(cmakePrefixOf(pythonRoot), 'python3');
    if (found) return found;
  }
  return findSystemLibtorch();
}

// The addons a package holds, and which one a libtorch loads. A build from source (build/Release) says which
// libtorch it was built against in bert_embed_native.libtorch.json beside it; a prebuilt addon in its name:
//   prebuilds/<platform>-<arch>/bert_embed_native.<key>.node    e.g. bert_embed_native.torch-2.14-cu130.node
// with the libtorch-free bert_embed_preload.node beside each (native/preload/preload.cpp).
const ADDON_NAME = 'bert_embed_native';
const PRELOAD_FILE = 'bert_embed_preload.node';

/** What a built addon file says it was built against (its sidecar), or undefined. */
function builtAgainst(addonFile) {
  const sidecar = readText(path.join(path.dirname(addonFile), `${ADDON_NAME}.libtorch.json`));
  try {
    return sidecar ? JSON.parse(sidecar) : undefined;
  } catch {
    return undefined;
  }
}

/** Every addon in the package: { file, key, preload, prebuilt }, the build from source first. */
function packageAddons(packageRoot) {
  const addons = [];
  const built = path.join(packageRoot, 'build', 'Release', `${ADDON_NAME}.node`);
  const sidecar = fs.existsSync(built) ? builtAgainst(built) : undefined;
  if (sidecar) addons.push({ file: built, key: sidecar.key, preload: path.join(path.dirname(built), PRELOAD_FILE), prebuilt: false });
  const folder = path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);
  let names = [];
  try {
    names = fs.readdirSync(folder).sort();
  } catch {
    // no prebuilds for this platform
  }
  for (const name of names) {
    const match = new RegExp(`^${ADDON_NAME}\\.(torch-[0-9]+\\.[0-9]+-[a-z0-9]+)\\.node$`).exec(name);
    if (match) addons.push({ file: path.join(folder, name), key: match[1], preload: path.join(folder, PRELOAD_FILE), prebuilt: true });
  }
  return addons.filter((addon) => fs.existsSync(addon.preload));
}

/**
 * The libtorch found and the package's addon built for it: { libtorch, addons, addon }. `libtorch` is undefined
 * when there is none (or `unusable` when LIBTORCH_DIR names no libtorch); `addon` when none matches its key.
 */
function chooseAddon(packageRoot, env = process.env) {
  const libtorch = locateLibtorch(env);
  const addons = packageAddons(packageRoot);
  const addon = libtorch && !libtorch.unusable ? addons.find((candidate) => candidate.key === libtorch.key) : undefined;
  return { libtorch, addons, addon };
}

module.exports = { locateLibtorch, chooseAddon, builtAgainst, PRELOAD_FILE };

if (require.main === module) {
  const found = locateLibtorch();
  process.stdout.write(`${JSON.stringify(found ?? null)}\n`);
  process.exit(found && !found.unusable ? 0 : 1);
}
