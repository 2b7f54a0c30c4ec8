/** `bert-embed rerank`: every input line is a document, scored against --query by a cross-encoder; JSON lines, best first. */
import { Command } from 'commander';
import { parseInteger } from '../encoder-flags.js';
import { addMaskedLmFlags, readSentences, sourceField, type MaskedLmFlags } from '../masked-lm.js';
import type { SourceLine } from '../input/line-reader.js';
import type { RerankResult } from '../../tasks/index.js';
import { openByteSink, writeAllOrNothing } from '../output/byte-sink.js';
import { runSignal } from '../run-control.js';
import { UsageError } from '../usage-error.js';
import { openClassifierRun } from './classifier-run.js';

type RerankFlags = MaskedLmFlags & { query?: string; topK?: number; rawScores?: boolean };

export function rerankCommand(): Command {
  const command = new Command('rerank').description('score each line (a document) against --query with a cross-encoder, as JSON lines, best first');
  addMaskedLmFlags(command);
  return command
    .option('--query <text>', 'the query every document is scored against (required)')
    .option('--top-k <n>', 'keep the best n documents (default: all)', parseInteger)
    .option('--raw-scores', "the classifier's logit instead of the cross-encoder's activation (sigmoid)")
    .addHelpText(
      'after',
      `
Each output line is {"index", "line", "score", "truncated", "text"}: index counts the documents from
0 across all inputs, line is the document's line in its file. Scores are those of sentence-transformers'
CrossEncoder.predict. Pairs longer than --max-seq-len are cut as CrossEncoder cuts them (truncated: true).
The model needs BertForSequenceClassification's head with one label (a cross-encoder).

Examples:
  bert-embed rerank -m ./ms-marco-MiniLM-L-6-v2 --query 'how do I bake bread' docs.txt
  bert-embed rerank -m ./ms-marco-MiniLM-L-6-v2 --query 'bread' --top-k 3 < docs.txt`,
    )
    .action(async (files: string[], flags: RerankFlags) => runRerank(files, flags));
}

/** One document's JSON line, as `rerank` and a queue run's shards write it (index: the document's, counted from 0 over all inputs). */
export function rerankJsonLine({ index, score, truncated }: RerankResult, place: SourceLine, withSource: boolean): string {
  return `{"index":${index},${sourceField(place, withSource)}"line":${place.line},"score":${JSON.stringify(score)},"truncated":${truncated},"text":${JSON.stringify(place.text)}}\n`;
}

async function runRerank(files: string[], flags: RerankFlags): Promise<void> {
  const { sources, input, encoder } = await openClassifierRun(files, flags, () => {
    if (flags.query === undefined) throw new UsageError('rerank needs --query <text>');
    if (flags.topK !== undefined && flags.topK < 1) throw new UsageError(`--top-k must be at least 1 but received ${flags.topK}`);
  });
  try {
    // Every document is needed before any can be ranked.
    const documents: SourceLine[] = [];
    for await (const line of readSentences(sources, input)) documents.push(line);
    if (documents.length === 0) throw new UsageError('rerank read no documents: give a file with one document per line, or lines on stdin');
    const ranked = await encoder.rerank(flags.query!, documents.map((d) => d.text), { topK: flags.topK, rawScores: Boolean(flags.rawScores), signal: runSignal });
    const withSource = sources.length > 1;
    const text = ranked.map((result) => rerankJsonLine(result, documents[result.index], withSource)).join('');
    const sink = openByteSink(flags.output);
    await writeAllOrNothing(sink, () => sink.write(text));
  } finally {
    await encoder.close();
  }
}
