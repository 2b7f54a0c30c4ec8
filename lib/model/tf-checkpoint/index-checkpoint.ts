/**
 * The BERT tensors of a TensorFlow checkpoint, located and checked as a safetensors file's are
 * (selectBertTensors): each with its shard, its masked CRC-32C, and whether it is a kernel stored
 * transposed. Entries the model does not use (optimizer slots, global_step, other heads) are read
 * from the index but never checked or loaded, whatever their dtype.
 */
import type { NativeBertConfig, NativeTensorLocation } from '../../native/binding.js';
import { selectBertTensors, type StoredTensor, type TensorSelection } from '../safetensors-index.js';
import { indexFormatError, readTensorBundle } from './bundle-index.js';
import { canonicalFromGoogleName, googleNameOf } from './variable-names.js';

/** tensorflow.DataType values of the floats the engine reads, and their safetensors names. */
const FLOAT_DTYPES = new Map([
  [1, 'F32'],
  [19, 'F16'],
  [14, 'BF16'],
]);
const BYTES = { F32: 4, F16: 2, BF16: 2 } as Record<string, number>;
const DTYPE_NAMES: Record<number, string> = { 2: 'DT_DOUBLE', 3: 'DT_INT32', 7: 'DT_STRING', 9: 'DT_INT64', 10: 'DT_BOOL' };

/** `prefix` is the checkpoint's path without `.index` (bert_model.ckpt); `configName` names its config in messages. */
export function indexTfCheckpoint(prefix: string, config: NativeBertConfig, configName: string, selection: TensorSelection = {}): NativeTensorLocation[] {
  const bundle = readTensorBundle(prefix);
  const stored = new Map<string, StoredTensor>();
  for (const [googleName, entry] of bundle.tensors) {
    const { name, transposed } = canonicalFromGoogleName(googleName);
    const dtype = FLOAT_DTYPES.get(entry.dtype) ?? `${DTYPE_NAMES[entry.dtype] ?? 'tensorflow.DataType'} (${entry.dtype})`;
    const shape = transposed && entry.shape.length === 2 ? [entry.shape[1], entry.shape[0]] : entry.shape;
    stored.set(name, {
      storedName: googleName,
      dtype,
      shape,
      file: entry.file,
      begin: entry.offset,
      end: entry.offset + entry.size,
      transposed: transposed && entry.shape.length === 2,
      crc32c: entry.maskedCrc32c,
    });
  }
  const locations = selectBertTensors(
    stored,
    config,
    {
      file: bundle.indexFile,
      configName,
      floatDtypes: 'DT_FLOAT (1), DT_HALF (19) or DT_BFLOAT16 (14)',
      storedNameOf: googleNameOf,
      layerName: (layer) => `bert/encoder/layer_${layer}`,
    },
    selection,
  );
  for (const location of locations) {
    const entry = bundle.tensors.get(location.storedName)!;
    if (entry.sliced) {
      throw indexFormatError(bundle.indexFile, `tensor ${location.storedName} is saved in slices (a partitioned variable); only whole tensors are read`);
    }
    const bytes = location.shape.reduce((a, b) => a * b, BYTES[location.dtype]);
    if (bytes !== entry.size) {
      throw indexFormatError(bundle.indexFile, `tensor ${location.storedName} has ${entry.size} bytes, but its shape [${entry.shape.join(', ')}] of ${location.dtype} takes ${bytes}`);
    }
  }
  return locations;
}
