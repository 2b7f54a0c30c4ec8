// Types for test/install/harness.mjs (plain ESM, shared with bench/install.mjs).

export declare const repoRoot: string;
export declare const PLATFORM: string;
export declare const PRELOAD_FILE: string;
export declare const SHIMMED: string[];

export interface Shims {
  dir: string;
  log: string;
  calls(): string[];
  reset(): void;
}
export declare function makeShims(dir: string): Shims;

export declare function appEnv(options?: { shims?: string; set?: Record<string, string | undefined> }): NodeJS.ProcessEnv;

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout, then stderr */
  output: string;
  ms: number;
}
export declare function run(command: string, args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult>;

export declare function packPackage(dest: string): Promise<{ tarball: string; ms: number }>;
export declare function tarballEntries(tarball: string): Promise<Map<string, number>>;
export declare function repackWithoutPrebuilds(tarball: string, dest: string): Promise<string>;
export declare function makeApp(dir: string): Promise<string>;
export declare function npmInstall(app: string, tarball: string, env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<RunResult>;
export declare function installedPackage(app: string): string;

/** scripts/libtorch-locator.cjs's description of a libtorch */
export interface Located {
  source: 'LIBTORCH_DIR' | 'python3' | 'system';
  root: string;
  cmakePrefix: string;
  libraryDir: string;
  system: boolean;
  version: string;
  cuda: string | null;
  key: string;
  cudaIncludeDir: string | null;
  unusable?: true;
}
export declare function locate(app: string, env: NodeJS.ProcessEnv): Promise<Located | null>;
export declare function locateFromRepo(env: NodeJS.ProcessEnv): Promise<Located | null>;

export interface ProbeRequest {
  model: string;
  maxSeqLen: number;
  device?: string;
  infoFirst?: boolean;
  texts?: string[];
  pooling?: { pooling?: string; layers?: number[]; normalize?: boolean; maskClsSep?: boolean };
}
/** what libtorchInfo() says in the app */
export type ProbeInfo = ReturnType<typeof import('../../lib/index.js').libtorchInfo>;
export interface ProbeResult {
  timings: { requireMs?: number; infoMs?: number; loadMs?: number; encodeMs?: number };
  rssAfterLoad?: number;
  info?: ProbeInfo;
  shape?: number[];
  data?: string;
  error?: { stage: string; code: string | null; message: string };
  processMs: number;
  stderr: string;
}
export declare function runProbe(app: string, request: ProbeRequest, env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<ProbeResult>;
export declare function probeVectors(result: ProbeResult): Float32Array;

export declare function readDynamic(file: string): { soname: string | null; needed: string[]; rpath: string[] };
export declare const SYSTEM_RUNTIME: string[];
export declare function libtorchSonames(libraryDir: string): Map<string, string>;
export declare function folderSonames(dir: string): Set<string>;

export declare function venvTorch(venv: string): string | undefined;

export interface LibtorchCase {
  name: 'system' | '.venv' | '.venv-cuda';
  label: string;
  venv?: string;
  set: Record<string, string | undefined>;
  source: 'system' | 'LIBTORCH_DIR';
  cuda: boolean;
}
export declare function libtorchCases(): LibtorchCase[];
export declare function fakeTorchPackage(dir: string, version: string, realLibc10: string): string;
