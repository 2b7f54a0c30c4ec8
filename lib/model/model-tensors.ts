/** The tensors a load reads, located and checked against the config, whatever the weights' format. */
import path from 'node:path';
import type { NativeBertConfig, NativeTensorLocation } from '../native/binding.js';
import type { ModelFiles } from './model-files.js';
import { indexSafetensors } from './safetensors-index.js';
import { indexTfCheckpoint } from './tf-checkpoint/index-checkpoint.js';

/**
 * From a safetensors header or a TensorFlow checkpoint's index (a partial head refused either way);
 * undefined for TorchScript, whose tensors lie inside its archive. `classifierLabels` selects
 * BertForSequenceClassification's head where a safetensors file has it.
 */
export function indexModelTensors(files: ModelFiles, config: NativeBertConfig, classifierLabels?: number): NativeTensorLocation[] | undefined {
  const { format, path: weightsPath, checkpointPrefix } = files.weights;
  if (format === 'safetensors') return indexSafetensors(weightsPath, config, { classifierLabels });
  if (format === 'tf-checkpoint') return indexTfCheckpoint(checkpointPrefix!, config, path.basename(files.configJson));
  return undefined;
}

/** Whether indexed tensors hold BertForSequenceClassification's classifier (what gives a model the classification head). */
export function holdsClassifierHead(tensors: NativeTensorLocation[]): boolean {
  return tensors.some((tensor) => tensor.name === 'classifier.weight');
}
