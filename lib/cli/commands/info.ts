/** `bert-embed info`: what a model is, without loading its weights. */
import fs from 'node:fs';
import { Command } from 'commander';
import { describeModel } from '../../model/model-description.js';
import { libtorchInfo } from '../../native/libtorch-info.js';
import { safetensorsElementCount } from '../../model/safetensors-index.js';
import { addModelFlags, resolveModelDir } from '../encoder-flags.js';

export function infoCommand(): Command {
  const command = new Command('info').description('show a model: architecture, sizes, vocabulary, tokenizer settings, default pooling, devices');
  addModelFlags(command);
  return command
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  bert-embed info -m ./all-MiniLM-L6-v2\n  bert-embed info -m sentence-transformers/all-MiniLM-L6-v2 --json')
    .action(async (flags: { model: string; revision: string; quiet?: boolean; json?: boolean }) => {
      const { files, config, options, tokenizer } = describeModel(await resolveModelDir(flags));
      const torch = libtorchInfo();
      const info = {
        model: files.dir,
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
        if (typeof values !== 'object' || values === null) {
          lines.push(`${section}: ${values}`);
          continue;
        }
        lines.push(`${section}:`);
        for (const [key, value] of Object.entries(values)) if (value !== undefined) lines.push(`  ${key}: ${Array.isArray(value) ? value.join(' ') : value}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
