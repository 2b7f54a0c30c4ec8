/** The tensors a load reads, located and checked against the config, whatever the weights' format. */
import path from 'node:path';
import type { NativeBertConfig, NativeTensorLocation } from '../native/binding.js';
import type { ModelFiles } from './model-files.js';
import { indexSafetensors, type TensorSelection } from './safetensors-index.js';
import { indexTfCheckpoint } from './tf-checkpoint/index-checkpoint.js';

/**
 * From a safetensors header or a TensorFlow checkpoint's index (a partial head refused either way);
 * undefined for TorchScript, whose tensors lie inside its archive. `classifier` selects the
 * classifier (and, for a sequence classifier, the pooler) where a safetensors file has it.
 */
export function indexModelTensors(files: ModelFiles, config: NativeBertConfig, classifier?: TensorSelection['classifier']): NativeTensorLocation[] | undefined {
  const { format, path: weightsPath, checkpointPrefix } = files.weights;
  if (format === 'safetensors') return indexSafetensors(weightsPath, config, { classifier });
  if (format === 'tf-checkpoint') return indexTfCheckpoint(checkpointPrefix!, config, path.basename(files.configJson));
  return undefined;
}
