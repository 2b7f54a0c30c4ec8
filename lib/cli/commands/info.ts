/**
 * `bert-embed info`: what a model is, without loading its weights (a TorchScript model.pt is the
 * exception: only loading it tells whether it holds the masked-LM head).
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { Encoder, type HeadName } from '../../encoder.js';
import { describeModel, type ModelDescription } from '../../model/model-description.js';
import { libtorchInfo } from '../../native/libtorch-info.js';
import { indexSafetensors, safetensorsElementCount } from '../../model/safetensors-index.js';
import { addModelFlags, resolveModelDir } from '../encoder-flags.js';

/**
 * What the model answers once loaded, as Encoder.heads says it. A safetensors checkpoint tells from
 * its header: the head's tensors are indexed (and a partial head refused) exactly as a load does.
 * A TorchScript file is loaded once, on the CPU.
 */
async function headsOf(modelDir: string, { files, config }: ModelDescription): Promise<HeadName[]> {
  if (files.weights.format === 'safetensors') {
    const hasHead = indexSafetensors(files.weights.path, config).some((tensor) => tensor.name.startsWith('cls.predictions.'));
    return hasHead ? ['pooled', 'maskedLm', 'sparse'] : ['pooled'];
  }
  const encoder = await Encoder.load(modelDir, { device: 'cpu', workers: 1, threads: 1 });
  try {
    return [...encoder.heads];
  } finally {
    await encoder.close();
  }
}

export function infoCommand(): Command {
  const command = new Command('info').description('show a model: heads (pooled, masked LM), architecture, sizes, vocabulary, tokenizer settings, default pooling, devices');
  addModelFlags(command);
  return command
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  bert-embed info -m ./all-MiniLM-L6-v2\n  bert-embed info -m sentence-transformers/all-MiniLM-L6-v2 --json')
    .action(async (flags: { model: string; revision: string; quiet?: boolean; json?: boolean }) => {
      const modelDir = await resolveModelDir(flags);
      const description = describeModel(modelDir);
      const { files, config, options, tokenizer } = description;
      const torch = libtorchInfo();
      const info = {
        model: files.dir,
        heads: await headsOf(modelDir, description),
        weights: { format: files.weights.format, file: files.weights.path, bytes: fs.statSync(files.weights.path).size, parameters: files.weights.format === 'safetensors' ? safetensorsElementCount(files.weights.path) : undefined },
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
