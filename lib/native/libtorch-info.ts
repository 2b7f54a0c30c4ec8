import fs from 'node:fs';
import type { LoadedAddon } from './addon-loader.js';
import { loadedAddon, nativeBinding, type NativeCpuChoices } from './binding.js';

/** The CPU's model name as /proc/cpuinfo gives it, or 'unknown' off Linux. */
function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What the libtorch the addon was built against can do here, and which addon and libtorch were loaded. */
export function libtorchInfo(): {
  /** the libtorch version the addon was compiled with (its headers') */
  version: string;
  cudaCompiled: boolean;
  cudaDeviceCount: number;
  /** float32 (and int8) linear layers on the CPU run with oneDNN */
  oneDnnLinear: boolean;
  /** dtype 'bfloat16' on the CPU: linear layers on oneDNN's bf16 kernels, the rest in float32; false: the whole model in torch's bfloat16 */
  oneDnnBf16Linear: boolean;
  /** the addon file loaded, the libtorch key it was built for (torch major.minor plus cpu or cuNNN), and whether it was prebuilt */
  addon: Pick<LoadedAddon, 'file' | 'key' | 'prebuilt'>;
  /** the libtorch whose libraries were loaded: where it was found, its folder and the version its files give */
  libtorch: LoadedAddon['libtorch'];
  /**
   * The CPU and what the engine chose for it at load: the attention kernel, int8's products, whether
   * bfloat16 runs; and, per batch, one intra-op thread for small batches while other processes want
   * the cores (README, "CPU paths"). DNNL_MAX_CPU_ISA (oneDNN's ceiling, e.g. AVX2) lowers them all.
   */
  cpu: NativeCpuChoices & { model: string; smallBatchThreads: string };
} {
  const binding = nativeBinding();
  const { file, key, prebuilt, libtorch } = loadedAddon();
  return {
    version: binding.torchVersion,
    cudaCompiled: binding.cudaCompiled,
    cudaDeviceCount: binding.cudaDeviceCount(),
    oneDnnLinear: binding.oneDnnLinear,
    oneDnnBf16Linear: binding.oneDnnBf16Linear,
    addon: { file, key, prebuilt },
    libtorch,
    cpu: { model: cpuModel(), ...binding.cpu, smallBatchThreads: 'one intra-op thread for batches of up to 64 tokens while the cores are contended' },
  };
}
