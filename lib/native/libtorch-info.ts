import { nativeBinding } from './binding.js';

/** What the libtorch the addon was built against can do here. */
export function libtorchInfo(): { version: string; cudaCompiled: boolean; cudaDeviceCount: number; oneDnnLinear: boolean } {
  const binding = nativeBinding();
  return { version: binding.torchVersion, cudaCompiled: binding.cudaCompiled, cudaDeviceCount: binding.cudaDeviceCount(), oneDnnLinear: binding.oneDnnLinear };
}
