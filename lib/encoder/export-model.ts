/**
 * Encoder.export: a Hugging Face directory (from a TensorFlow checkpoint), or a TorchScript model.pt
 * compiled once, with its config and tokenizer files beside it, so that later loads skip compiling.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fromNativeError } from '../errors.js';
import { describeModel } from '../model/model-description.js';
import { COMPANION_FILES } from '../model/model-files.js';
import { exportTfCheckpointAsHuggingFace, writeCompanionFiles } from '../model/tf-checkpoint/hf-export.js';
import type { EncoderOptions } from '../options.js';
import { checkOneOf, checkPlainObject, expectationMessage, rejectUnknownOptions, fieldError } from '../validation.js';
import { closeHandle, loadReplicas } from './replicas.js';

/** What Encoder.export writes: a Hugging Face directory (from a TensorFlow checkpoint), or a TorchScript model.pt. */
export type ExportTarget = 'hf' | 'torchscript';

/** Options of Encoder.export: the target, and the load options that choose and read the model's files. */
export interface ExportOptions extends Pick<EncoderOptions, 'tunedModelDir' | 'ckptName' | 'configName' | 'casedTokenization'> {
  /** default 'hf' for a TensorFlow checkpoint, 'torchscript' for a Hugging Face one */
  to?: ExportTarget;
}

const EXPORT_LOAD_OPTION_NAMES = ['tunedModelDir', 'ckptName', 'configName', 'casedTokenization'] as const;

export async function exportModel(modelDir: string, outDir: string, options: ExportOptions): Promise<string> {
  if (typeof outDir !== 'string') throw fieldError(TypeError, 'outDir', 'string', outDir);
  const given = checkPlainObject('options', options);
  rejectUnknownOptions('Encoder.export', given, ['to', ...EXPORT_LOAD_OPTION_NAMES]);
  const loadOptions: EncoderOptions = {};
  for (const name of EXPORT_LOAD_OPTION_NAMES) if (given[name] !== undefined) (loadOptions as Record<string, unknown>)[name] = given[name];
  const description = describeModel(modelDir, loadOptions);
  const fromTensorFlow = description.files.weights.format === 'tf-checkpoint';
  const to = checkOneOf('to', given.to ?? (fromTensorFlow ? 'hf' : 'torchscript'), ['hf', 'torchscript'] as const);
  if (path.resolve(outDir) === description.files.dir) {
    throw new RangeError(`Expected an outDir other than the model directory but received ${JSON.stringify(outDir)}`);
  }
  if (to === 'hf') {
    if (!fromTensorFlow) {
      throw new RangeError(`${expectationMessage('to', "'torchscript'", to)}: ${description.files.dir} is already in Hugging Face's (or an exported) layout`);
    }
    return exportTfCheckpointAsHuggingFace(description, outDir);
  }
  const { files, config, options: resolved } = describeModel(modelDir, { ...loadOptions, device: 'cpu', dtype: 'float32', workers: 1 });
  const { replicas, capabilities } = await loadReplicas(files, config, resolved);
  const [{ handle }] = replicas;
  try {
    fs.mkdirSync(outDir, { recursive: true });
    const modelFile = path.join(path.resolve(outDir), 'model.pt');
    await handle.save(modelFile).catch((error: unknown) => {
      throw fromNativeError(error);
    });
    if (fromTensorFlow) {
      writeCompanionFiles(description, outDir, capabilities.has('maskedLm'));
      return modelFile;
    }
    for (const name of COMPANION_FILES) {
      const source = path.join(files.dir, name);
      if (!fs.existsSync(source)) continue;
      fs.mkdirSync(path.dirname(path.join(outDir, name)), { recursive: true });
      fs.copyFileSync(source, path.join(outDir, name));
    }
    return modelFile;
  } finally {
    await closeHandle(handle);
  }
}
