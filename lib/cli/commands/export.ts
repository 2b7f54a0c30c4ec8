/** `bert-embed export`: compile a Hugging Face checkpoint into model.pt for fast loading. */
import { Command } from 'commander';
import { Encoder } from '../../encoder.js';

export function exportCommand(): Command {
  return new Command('export')
    .description('compile a Hugging Face BERT checkpoint into a TorchScript model.pt (with its config and tokenizer) for fast loading')
    .argument('<hf-dir>', 'checkpoint directory: config.json, vocab.txt, model.safetensors')
    .argument('<out-dir>', 'directory to write model.pt and the companion files into')
    .addHelpText('after', '\nExample:\n  bert-embed export ./all-MiniLM-L6-v2 ./all-MiniLM-L6-v2-ts && bert-embed info -m ./all-MiniLM-L6-v2-ts')
    .action(async (hfDir: string, outDir: string) => {
      const modelFile = await Encoder.export(hfDir, outDir);
      process.stderr.write(`wrote ${modelFile}\n`);
    });
}
