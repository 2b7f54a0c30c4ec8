/**
 * `bert-embed export`: a bert-as-service model directory (Google's TensorFlow checkpoint) into a
 * Hugging Face one, or any model into a TorchScript model.pt for fast loading.
 */
import { Command, Option } from 'commander';
import { Encoder, type ExportTarget } from '../../encoder.js';
import { addEncoderFlags, asFlagError, encoderOptionsFrom, type EncoderFlagValues } from '../encoder-flags.js';

/** The load options that choose and read a model's files (the rest do not change what is exported). */
const MODEL_FILE_OPTIONS = ['tunedModelDir', 'ckptName', 'configName', 'casedTokenization'];

export function exportCommand(): Command {
  const command = new Command('export')
    .description(
      'write a bert-as-service model directory (bert_config.json, vocab.txt, bert_model.ckpt.*) as a Hugging Face one ' +
        '(config.json, model.safetensors, vocab.txt, tokenizer_config.json), or compile a model into a TorchScript model.pt for fast loading',
    )
    .argument('<model-dir>', 'a TensorFlow BERT directory as bert-as-service loads it, or a Hugging Face checkpoint directory')
    .argument('<out-dir>', 'directory to write into')
    .addOption(
      new Option('--to <format>', "'hf': a Hugging Face directory (default for a TensorFlow checkpoint); 'torchscript': model.pt (default for a Hugging Face one)").choices([
        'hf',
        'torchscript',
      ]),
    );
  addEncoderFlags(command, { only: MODEL_FILE_OPTIONS });
  return command
    .addHelpText(
      'after',
      '\nExamples:\n  bert-embed export ./uncased_L-12_H-768_A-12 ./bert-base-uncased-hf\n' +
        '  bert-embed export ./uncased_L-12_H-768_A-12 ./fine-tuned-hf --tuned-model-dir ./output --ckpt-name model.ckpt-6072\n' +
        '  bert-embed export ./all-MiniLM-L6-v2 ./all-MiniLM-L6-v2-ts && bert-embed info -m ./all-MiniLM-L6-v2-ts',
    )
    .action(async (modelDir: string, outDir: string, flags: EncoderFlagValues & { to?: ExportTarget }) => {
      try {
        const modelFile = await Encoder.export(modelDir, outDir, { ...encoderOptionsFrom(flags), to: flags.to });
        process.stderr.write(`wrote ${modelFile}\n`);
      } catch (error) {
        // Encoder.export's `to` is the --to flag here.
        if (error instanceof RangeError || error instanceof TypeError) error.message = error.message.replace(/\bfor to\b/, 'for --to');
        throw asFlagError(error);
      }
    });
}
