/**
 * `bert-embed info`: what a model is, without loading its weights (a TorchScript model.pt is the
 * exception: only loading it tells whether it holds the masked-LM head).
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { Encoder } from '../../encoder.js';
import { headsInTensors, ModelCapabilities, planClassifier, type ClassifierPlan } from '../../model/capabilities.js';
import { tasksOf } from '../../tasks/index.js';
import { describeModel, type ModelDescription } from '../../model/model-description.js';
import { libtorchInfo } from '../../native/libtorch-info.js';
import { indexModelTensors } from '../../model/model-tensors.js';
import { safetensorsElementCount } from '../../model/safetensors-index.js';
import { addEncoderFlags, addModelFlags, asFlagError, encoderOptionsFrom, resolveModelDir, type EncoderFlagValues } from '../encoder-flags.js';
type NativeTensorLocation = NonNullable<ReturnType<typeof indexModelTensors>>[number];
import { MODEL_FILE_OPTIONS } from '../../option-declarations.js';
import type { EncoderOptions } from '../../options.js';

/** Bytes and parameters of the weights: every file that holds them (a checkpoint's data shards). */
function weightsOf({ files }: ModelDescription, tensors: NativeTensorLocation[] | undefined): { bytes: number; parameters?: number } {
  if (files.weights.format === 'safetensors') return { bytes: fs.statSync(files.weights.path).size, parameters: safetensorsElementCount(files.weights.path) };
  if (!tensors) return { bytes: fs.statSync(files.weights.path).size };
  const shards = new Set(tensors.map((tensor) => tensor.file));
  const bytes = [files.weights.path, ...shards].reduce((sum, file) => sum + fs.statSync(file).size, 0);
  return { bytes, parameters: tensors.reduce((sum, tensor) => sum + tensor.shape.reduce((a, b) => a * b, 1), 0) };
}

/**
 * What the model can do once loaded, as Encoder.capabilities says it. Indexed tensors tell without
 * loading; a TorchScript file is loaded once, on the CPU.
 */
async function capabilitiesOf(modelDir: string, description: ModelDescription, plan: ClassifierPlan, tensors: NativeTensorLocation[] | undefined, fileOptions: EncoderOptions): Promise<ModelCapabilities> {
  if (tensors) return new ModelCapabilities(description.files.dir, plan, headsInTensors(tensors.map((tensor) => tensor.name)));
  const encoder = await Encoder.load(modelDir, { ...fileOptions, device: 'cpu', workers: 1, threads: 1 });
  try {
    return encoder.capabilities;
  } finally {
    await encoder.close();
  }
}

export function infoCommand(): Command {
  const command = new Command('info').description('show a model: heads (pooled, masked LM, classification, token classification), tasks, architecture, sizes, vocabulary, tokenizer settings, default pooling, devices');
  addModelFlags(command);
  addEncoderFlags(command, { only: MODEL_FILE_OPTIONS.map((option) => option.name) });
  return command
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  bert-embed info -m ./all-MiniLM-L6-v2\n  bert-embed info -m sentence-transformers/all-MiniLM-L6-v2 --json')
    .action(async (flags: EncoderFlagValues & { model: string; revision: string; quiet?: boolean; json?: boolean }) => {
      const modelDir = await resolveModelDir(flags);
      const fileOptions = encoderOptionsFrom(flags);
      let description: ModelDescription;
      try {
        description = describeModel(modelDir, fileOptions);
      } catch (error) {
        throw asFlagError(error);
      }
      const { files, config, options, tokenizer } = description;
      const torch = libtorchInfo();
      const plan = planClassifier(files);
      const tensors = indexModelTensors(files, config, plan.config ? { labels: plan.config.labels.length, kind: plan.kind } : undefined);
      const capabilities = await capabilitiesOf(modelDir, description, plan, tensors, fileOptions);
      const info = {
        model: files.dir,
        heads: [...capabilities.heads],
        tasks: tasksOf(capabilities),
        // a sequence or token classifier's labels in id order (id2label)
        ...(capabilities.classifier ? { labels: capabilities.classifier.labels } : {}),
        weights: { format: files.weights.format, file: files.weights.path, ...weightsOf(description, tensors) },
        architecture: {
          layers: config.numLayers,
          hiddenSize: config.hiddenSize,
          attentionHeads: config.numHeads,
          intermediateSize: config.intermediateSize,
          activation: config.hiddenAct,
          maxPositions: config.maxPositions,
          typeVocabSize: config.typeVocabSize,
        },
        tokenizer: { vocabSize: tokenizer.vocabSize, ...tokenizer.config },
        defaults: { pooling: options.pooling, layers: options.layers, maxSeqLen: options.maxSeqLen, normalize: options.normalize },
        devices: { libtorch: torch.version, cudaCompiled: torch.cudaCompiled, cudaDevices: torch.cudaDeviceCount },
        // which addon file and which libtorch's libraries this process loaded (README, "Install")
        addon: {
          file: torch.addon.file,
          key: torch.addon.key ?? 'unknown',
          prebuilt: torch.addon.prebuilt,
          ...(torch.libtorch ? { libtorch: `${torch.libtorch.version} from ${torch.libtorch.source} at ${torch.libtorch.libraryDir}` } : {}),
        },
        // what the CPU paths chose on this CPU (README, "CPU paths")
        cpu: torch.cpu,
      };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      const lines: string[] = [];
      for (const [section, values] of Object.entries(info)) {
        if (typeof values !== 'object' || values === null || Array.isArray(values)) {
          lines.push(`${section}: ${Array.isArray(values) ? values.join(' ') : values}`);
          continue;
        }
        lines.push(`${section}:`);
        for (const [key, value] of Object.entries(values)) if (value !== undefined) lines.push(`  ${key}: ${Array.isArray(value) ? value.join(' ') : value}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
