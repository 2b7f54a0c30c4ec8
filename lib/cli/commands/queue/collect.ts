/** `bert-embed queue collect`: a finished run's shards in input order, in one output file. */
import { Command, Option } from 'commander';
import { collectRun } from '../../../queue/collect-run.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../../output/vector-sink.js';
import { addQueueFlags, addRunFlag, asQueueFlagError, targetOf, type QueueFlags } from './queue-flags.js';

export function queueCollectCommand(): Command {
  const command = new Command('collect').description('concatenate a finished run in input order (an incomplete run is refused, naming its missing shards)');
  addQueueFlags(command);
  addRunFlag(command);
  return command
    .requiredOption('-o, --output <file>', 'encode: .npy, .jsonl or .f32; score, classify, rerank: .jsonl')
    .addOption(new Option('--format <format>', 'output format (default: from the output file name)').choices(OUTPUT_FORMATS))
    .action(async (flags: QueueFlags & { run: string; output: string; format?: OutputFormat }) => {
      const result = await collectRun(targetOf(flags), flags.run, flags.output, { format: flags.format }).catch((error: unknown) => {
        throw asQueueFlagError(error);
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}
