/**
 * Finds the libtorch this machine has and the addon built for it, loads that libtorch's libraries, then
 * the addon. The search order is the build's (scripts/libtorch-locator.cjs, shared with CMake and the
 * install hook), so one machine never builds against one libtorch and loads another.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BertEmbedError } from '../errors.js';

/** A libtorch as scripts/libtorch-locator.cjs describes it. */
export interface LocatedLibtorch {
  source: 'LIBTORCH_DIR' | 'python3' | 'system';
  root: string;
  libraryDir: string;
  version: string;
  /** the CUDA version it was built for; null for a CPU build, '' when unknown */
  cuda: string | null;
  /** the prebuilt addon key: torch major.minor plus `cpu` or `cuNNN` */
  key: string;
  unusable?: true;
}

interface PackageAddon {
  file: string;
  key: string;
  preload: string;
  prebuilt: boolean;
}

interface Locator {
  chooseAddon(packageRoot: string, env: NodeJS.ProcessEnv): { libtorch: LocatedLibtorch | undefined; addons: PackageAddon[]; addon: PackageAddon | undefined };
  builtAgainst(addonFile: string): { key: string; version: string; libraryDir: string } | undefined;
  PRELOAD_FILE: string;
}

/** Which addon and which libtorch this process loaded. */
export interface LoadedAddon {
  /** the addon file */
  file: string;
  /** the libtorch it was built for (torch major.minor plus cpu or cuNNN), when known */
  key: string | null;
  prebuilt: boolean;
  /**
   * the libtorch whose libraries were loaded first: found (LIBTORCH_DIR, python3, system), or named by the
   * record beside the addon BERT_EMBED_ADDON names; null when that addon has no record
   */
  libtorch: { source: LocatedLibtorch['source'] | 'BERT_EMBED_ADDON'; libraryDir: string; version: string; key: string } | null;
}

const packageRoot = path.resolve(__dirname, '..', '..');
const locator = require(path.join(packageRoot, 'scripts', 'libtorch-locator.cjs')) as Locator;

const BUILD_FROM_SOURCE =
  'Build one from source: `BERT_EMBED_BUILD_FROM_SOURCE=1 npm rebuild bert-embed-native` (needs cmake and a C++ compiler; see README, "Install")';

function libtorchMissing(found: LocatedLibtorch | undefined): BertEmbedError {
  const where = found?.unusable ? `LIBTORCH_DIR=${found.root} holds no libtorch (no share/cmake/Torch and lib/libc10.so)` : 'no libtorch was found (LIBTORCH_DIR is unset, python3 finds no torch package, and the system has none)';
  return new BertEmbedError(
    `bert-embed-native needs libtorch, and ${where}. On Debian/Ubuntu: \`sudo apt-get install libtorch-dev libopenblas0-pthread\`; ` +
      'with a python torch: `pip install torch` (python3 must find it) or set LIBTORCH_DIR to its folder.',
    'ERR_LIBTORCH_MISSING',
  );
}

function libtorchMismatch(libtorch: LocatedLibtorch, addons: PackageAddon[]): BertEmbedError {
  const have = addons.map((addon) => `${addon.key} (${path.relative(packageRoot, addon.file)})`).join(', ');
  return new BertEmbedError(
    `bert-embed-native has no addon for the libtorch it found: torch ${libtorch.version} (${libtorch.key}) from ${libtorch.source} at ${libtorch.libraryDir}. ` +
      `Its addons are built for ${have}. ${BUILD_FROM_SOURCE}, or set LIBTORCH_DIR to a libtorch one of them was built for.`,
    'ERR_LIBTORCH_MISMATCH',
  );
}

function addonMissing(libtorch: LocatedLibtorch): BertEmbedError {
  return new BertEmbedError(
    `bert-embed-native's native addon is not built for this platform (${process.platform}-${process.arch}, torch ${libtorch.version} ` +
      `from ${libtorch.source}: no build/Release and no prebuilds/${process.platform}-${process.arch}). ${BUILD_FROM_SOURCE}.`,
    'ERR_ADDON_MISSING',
  );
}

// In dependency order, so that each binds its NEEDED torch libraries to those already loaded.
const LIBTORCH_LIBRARIES = ['libc10.so', 'libtorch_cpu.so', 'libc10_cuda.so', 'libtorch_cuda.so', 'libtorch.so'];

/** Loads a libtorch's libraries by absolute path, so the addon's NEEDED entries bind to them by soname. */
function preloadLibtorch(preloadAddon: string, libraryDir: string): void {
  const files = LIBTORCH_LIBRARIES.map((name) => path.join(libraryDir, name)).filter((file) => fs.existsSync(file));
  const preload = require(preloadAddon) as { load(paths: string[]): void };
  try {
    preload.load(files);
  } catch (error) {
    throw new BertEmbedError(`bert-embed-native cannot load the libtorch at ${libraryDir}: ${(error as Error).message}`, 'ERR_LIBTORCH_MISSING', { cause: error });
  }
}

/** The folders holding a loaded libc10 (Linux: /proc/self/maps); more than one means two libtorch installs. */
function loadedLibtorchDirs(): string[] {
  let maps: string;
  try {
    maps = fs.readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return [];
  }
  const dirs = new Set<string>();
  for (const match of maps.matchAll(/ (\/\S*\/libc10\.so[.0-9]*)$/gm)) dirs.add(path.dirname(fs.realpathSync(match[1])));
  return [...dirs];
}

function requireAddon<T>(file: string): T {
  const binding = require(file) as T;
  const dirs = loadedLibtorchDirs();
  if (dirs.length > 1) {
    throw new BertEmbedError(`two libtorch installs are loaded into this process (${dirs.join(', ')}): set LIBTORCH_DIR to one, or load one addon only`, 'ERR_LIBTORCH_MISMATCH');
  }
  return binding;
}

/** A failure of the dynamic loader itself (a missing or incompatible library), in the package's codes. */
function explainLoadFailure(error: unknown): BertEmbedError {
  if (error instanceof BertEmbedError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if (/lib(torch|c10)[^ ]*\.so/.test(detail)) {
    return new BertEmbedError(
      `bert-embed-native cannot load libtorch (${detail}). On Debian/Ubuntu install it with ` +
        '`sudo apt-get install libtorch-dev libopenblas0-pthread` (or run `npm run setup` in the package); ' +
        `for another libtorch, set LIBTORCH_DIR to it. ${BUILD_FROM_SOURCE}.`,
      'ERR_LIBTORCH_MISSING',
      { cause: error },
    );
  }
  return new BertEmbedError(`bert-embed-native's native addon cannot be loaded (${detail}). ${BUILD_FROM_SOURCE}.`, 'ERR_ADDON_MISSING', { cause: error });
}

/**
 * BERT_EMBED_ADDON names one addon file outright; otherwise the addon is the one built for the libtorch
 * found (a build from source in build/Release first, then a prebuilt one). Every failure is coded.
 */
export function loadAddon<T>(env: NodeJS.ProcessEnv): { binding: T; loaded: LoadedAddon } {
  try {
    return loadChosenAddon<T>(env);
  } catch (error) {
    throw explainLoadFailure(error);
  }
}

function loadChosenAddon<T>(env: NodeJS.ProcessEnv): { binding: T; loaded: LoadedAddon } {
  const explicit = env.BERT_EMBED_ADDON;
  if (explicit) {
    const file = path.resolve(explicit);
    const built = locator.builtAgainst(file);
    const preload = path.join(path.dirname(file), locator.PRELOAD_FILE);
    if (built && fs.existsSync(preload) && fs.existsSync(built.libraryDir)) preloadLibtorch(preload, built.libraryDir);
    const libtorch = built ? { source: 'BERT_EMBED_ADDON' as const, libraryDir: built.libraryDir, version: built.version, key: built.key } : null;
    return { binding: requireAddon<T>(file), loaded: { file, key: built?.key ?? null, prebuilt: false, libtorch } };
  }
  const { libtorch, addons, addon } = locator.chooseAddon(packageRoot, env);
  if (!libtorch || libtorch.unusable) throw libtorchMissing(libtorch);
  if (!addon) throw addons.length > 0 ? libtorchMismatch(libtorch, addons) : addonMissing(libtorch);
  preloadLibtorch(addon.preload, libtorch.libraryDir);
  const { source, libraryDir, version, key } = libtorch;
  return { binding: requireAddon<T>(addon.file), loaded: { file: addon.file, key: addon.key, prebuilt: addon.prebuilt, libtorch: { source, libraryDir, version, key } } };
}
