/**
 * `bert-embed bench`: bert-as-service's benchmark as a command. Fixed-length synthetic sentences
 * (whole-word vocabulary entries, so each is one token) through the real encoder, sweeping one
 * parameter at a time while the others stay at their defaults; prints a table per sweep.
 */
import { Command } from 'commander';
import { Encoder } from '../../encoder.js';
import { addModelFlags, asFlagError, parseInteger, resolveModelDir } from '../encoder-flags.js';
import { throwIfStopped } from '../run-control.js';

interface BenchPoint {
  maxSeqLen: number;
  clientBatch: number;
  callers: number;
  workers: number;
  maxBatchSize: number;
}

function integerList(value: string): number[] {
  return value.split(',').map((part) => parseInteger(part.trim()));
}

/** Sentences of exactly `length` tokens with [CLS] and [SEP] (bench/fixed-length.mjs gives the peers the same). */
export function syntheticSentences(tokenizer: Encoder['tokenizer'], count: number, length: number): string[] {
  const words: string[] = [];
  for (let id = 0; id < tokenizer.vocabSize && words.length < 2000; id++) {
    const token = tokenizer.idToToken(id);
    if (token && /^[a-z]{3,}$/.test(token)) words.push(token);
  }
  let state = 12345;
  const pick = (): string => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return words[state % words.length];
  };
  return Array.from({ length: count }, () => Array.from({ length: length - 2 }, pick).join(' '));
}

async function measure(encoder: Encoder, sentences: string[], point: BenchPoint): Promise<number> {
  await encoder.encode(sentences.slice(0, Math.min(sentences.length, 32))); // warm-up
  const batches: string[][] = [];
  for (let start = 0; start < sentences.length; start += point.clientBatch) batches.push(sentences.slice(start, start + point.clientBatch));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: point.callers }, async () => {
      // A closed stdout (`bench | head`) stops the sweep between calls.
      while (next < batches.length) {
        throwIfStopped();
        await encoder.encode(batches[next++]);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

export function benchCommand(): Command {
  const command = new Command('bench').description("bert-as-service's benchmark: throughput over sweeps of sequence length, client batch size, concurrent callers and workers");
  addModelFlags(command);
  return command
    .option('--sentences <n>', 'sentences per measurement', parseInteger, 512)
    .option('--max-seq-lens <list>', 'max_seq_len sweep', integerList, [20, 40, 80])
    .option('--client-batches <list>', 'client batch size sweep', integerList, [1, 16, 256])
    .option('--callers <list>', 'concurrent callers sweep', integerList, [1, 4, 16])
    .option('--workers <list>', 'workers sweep', integerList, [1, 2])
    .option('--batch-sizes <list>', 'server-side max batch size sweep (maxBatchSize)', integerList, [32, 128, 512])
    .addHelpText('after', '\nExamples:\n  bert-embed bench -m ./all-MiniLM-L6-v2\n  bert-embed bench -m ./model --max-seq-lens 20,40,80,160,320 --workers 1 --sentences 256')
    .action(async (flags: { model: string; revision: string; quiet?: boolean; sentences: number; maxSeqLens: number[]; clientBatches: number[]; callers: number[]; workers: number[]; batchSizes: number[] }) => {
      const modelDir = await resolveModelDir(flags);
      const defaults: BenchPoint = { maxSeqLen: flags.maxSeqLens[Math.floor((flags.maxSeqLens.length - 1) / 2)], clientBatch: 64, callers: 1, workers: 1, maxBatchSize: 32 };
      const sweeps: [keyof BenchPoint, string, number[]][] = [
        ['maxSeqLen', 'max_seq_len', flags.maxSeqLens],
        ['clientBatch', 'client batch size', flags.clientBatches],
        ['callers', 'concurrent callers', flags.callers],
        ['workers', 'workers', flags.workers],
        ['maxBatchSize', 'max batch size', flags.batchSizes],
      ];
      const encoders = new Map<string, Encoder>();
      const encoderFor = async (point: BenchPoint): Promise<Encoder> => {
        const key = `${point.maxSeqLen}/${point.workers}/${point.maxBatchSize}`;
        if (!encoders.has(key)) {
          for (const open of encoders.values()) await open.close(); // one model in memory at a time
          encoders.clear();
          encoders.set(key, await Encoder.load(modelDir, { maxSeqLen: point.maxSeqLen, workers: point.workers, maxBatchSize: point.maxBatchSize, maxBatchTokens: point.maxBatchSize * point.maxSeqLen }).catch((error: unknown) => Promise.reject(asFlagError(error))));
        }
        return encoders.get(key)!;
      };
      process.stdout.write(`model ${modelDir}, ${flags.sentences} sentences per point; defaults: max_seq_len ${defaults.maxSeqLen}, client batch ${defaults.clientBatch}, 1 caller, 1 worker, max batch size ${defaults.maxBatchSize}\n`);
      try {
        for (const [key, title, values] of sweeps) {
          process.stdout.write(`\n| ${title} | sentences/s | tokens/s | seconds |\n| --- | --- | --- | --- |\n`);
          for (const value of values) {
            const point = { ...defaults, [key]: value };
            const encoder = await encoderFor(point);
            const sentences = syntheticSentences(encoder.tokenizer, flags.sentences, point.maxSeqLen);
            const seconds = await measure(encoder, sentences, point);
            const rate = sentences.length / seconds;
            process.stdout.write(`| ${value} | ${rate.toFixed(1)} | ${(rate * point.maxSeqLen).toFixed(0)} | ${seconds.toFixed(2)} |\n`);
          }
        }
      } finally {
        for (const open of encoders.values()) await open.close();
      }
    });
}
