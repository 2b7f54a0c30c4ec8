import { nativeBinding } from './binding.js';

/** What the libtorch the addon was built against can do here. */
export function libtorchInfo(): {
  version: string;
  cudaCompiled: boolean;
  cudaDeviceCount: number;
  /** float32 (and int8) linear layers on the CPU run with oneDNN */
  oneDnnLinear: boolean;
  /** dtype 'bfloat16' on the CPU: linear layers on oneDNN's bf16 kernels, the rest in float32; false: the whole model in torch's bfloat16 */
  oneDnnBf16Linear: boolean;
} {
  const binding = nativeBinding();
  return {
    version: binding.torchVersion,
    cudaCompiled: binding.cudaCompiled,
    cudaDeviceCount: binding.cudaDeviceCount(),
    oneDnnLinear: binding.oneDnnLinear,
    oneDnnBf16Linear: binding.oneDnnBf16Linear,
  };
}
