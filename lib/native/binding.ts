/** The typed interface of the C++ addon (native/), and how it is found and loaded. */
import { loadAddon, type LoadedAddon } from './addon-loader.js';

export interface NativeBertConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenAct: string;
}

/**
 * Where one tensor's bytes lie: in a safetensors file, or in a TensorFlow checkpoint's data shard.
 * Names are canonical (no `bert.`, LayerNorm weight/bias); `shape` is torch's layout.
 */
export interface NativeTensorLocation {
  name: string;
  /** as the file spells it, for messages */
  storedName: string;
  /** the file that holds the bytes */
  file: string;
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  /** absolute offsets in `file` */
  begin: number;
  end: number;
  /** stored [in, out] as TensorFlow's dense kernels are: transposed into `shape` once read */
  transposed: boolean;
  /** TensorFlow's masked CRC-32C of the stored bytes, checked as they are read */
  crc32c?: number;
}

interface NativeLoadCommon {
  path: string;
  device: string;
  dtype: string;
  /** intra-op threads of this model's worker thread; 0 leaves libtorch's default */
  threads: number;
  /** OpenBLAS threads, process-wide; 0 leaves them as they are */
  blasThreads: number;
  /** CUDA: the share of the device's memory the caching allocator may take; 0 for no limit */
  gpuMemoryFraction: number;
}

export type NativeLoadSpec =
  | (NativeLoadCommon & { format: 'safetensors' | 'tf-checkpoint'; config: NativeBertConfig; tensors: NativeTensorLocation[] })
  | (NativeLoadCommon & { format: 'torchscript' });

/**
 * What runs on the encoder's hidden states: a head the addon has (native/heads/registry.cpp), named
 * by `kind`, with that head's settings, which only the task that asks for it reads. Rows of one
 * batch share one spec, so the spec is also the scheduler's grouping key. A head that reads
 * integers of each row's own (masked-LM positions) says how many: `payloadWidth`.
 */
export interface NativeHeadSpec {
  readonly kind: string;
  readonly payloadWidth?: number;
  readonly [setting: string]: unknown;
}

/** A padded batch: row-major [batchSize, seqLen] ids and type ids, and each row's real length. */
export interface NativeBatch {
  ids: Int32Array;
  typeIds: Int32Array;
  lengths: Int32Array;
  batchSize: number;
  seqLen: number;
  head: NativeHeadSpec;
  /** [batchSize × head.payloadWidth] integers the head reads, when it reads any */
  payload?: Int32Array;
}

export interface NativeEncodeOutput {
  data: Float32Array;
  shape: number[];
}

export interface NativeLoadResult {
  threads: number;
  blasThreads: number;
  /** every head kind the loaded weights can run, in the addon's registry order */
  heads: string[];
}

/** One model replica with its own worker thread. Every call runs there and settles a promise. */
export interface NativeModelHandle {
  load(spec: NativeLoadSpec): Promise<NativeLoadResult>;
  encode(batch: NativeBatch): Promise<NativeEncodeOutput>;
  save(path: string): Promise<void>;
  close(): Promise<void>;
}

export interface NativeBinding {
  NativeModel: new () => NativeModelHandle;
  torchVersion: string;
  cudaCompiled: boolean;
  /** the CPU runs linear layers with oneDNN (float32), whose threads are the intra-op threads */
  oneDnnLinear: boolean;
  /** dtype 'bfloat16' on the CPU runs the linear layers on oneDNN's bf16 kernels (the CPU has avx512_bf16 or AMX) */
  oneDnnBf16Linear: boolean;
  /** what the CPU paths chose on this CPU (native/engine/cpu_features.h) */
  cpu: NativeCpuChoices;
  cudaDeviceCount(): number;
}

export interface NativeCpuChoices {
  /** the instruction-set class the choices are keyed by: 'avx2', 'avx512', then '+vnni', '+bf16', '+amx' */
  isaClass: string;
  /** the attention kernel's instruction set: 'avx512', 'avx2' or 'portable' */
  attentionKernel: string;
  /** dtype 'int8''s products */
  int8Kernel: string;
  /** whether the CPU has bf16 instructions: dtype 'bfloat16' is refused on the CPU without them */
  bfloat16: boolean;
}

let binding: NativeBinding | undefined;
let loaded: LoadedAddon | undefined;

/** Loads the addon on first use, so that tokenizer-only users never need libtorch. */
export function nativeBinding(): NativeBinding {
  if (!binding) {
    const result = loadAddon<NativeBinding>(process.env);
    binding = result.binding;
    loaded = result.loaded;
  }
  return binding;
}

/** Which addon file and which libtorch this process loaded. */
export function loadedAddon(): LoadedAddon {
  nativeBinding();
  return loaded!;
}
