import type { LoadedAddon } from './addon-loader.js';
import { loadedAddon, nativeBinding } from './binding.js';

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
  };
}
