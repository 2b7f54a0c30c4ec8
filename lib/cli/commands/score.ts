/** `bert-embed score`: masked-LM pseudo-log-likelihood of each sentence, streamed, in input order. */
import { Command, Option } from 'commander';
import { SCORE_METRICS, type ScoreMetric, type SentenceScore } from '../../tasks/index.js';
import type { SourceLine } from '../input/line-reader.js';
import { addMaskedLmFlags, inOrderChunks, openMaskedLmRun, readSentences, sourceField, type MaskedLmFlags } from '../masked-lm.js';
import { openByteSink, writeAllOrNothing } from '../output/byte-sink.js';

export const SCORE_FORMATS = ['jsonl', 'tsv'] as const;
type ScoreFormat = (typeof SCORE_FORMATS)[number];

type ScoreFlags = MaskedLmFlags & { metric: ScoreMetric; format?: ScoreFormat };

export function scoreCommand(): Command {
  const command = new Command('score').description("score sentences with the masked-LM head: each token's and word's log-probability, pseudo-log-likelihood and pseudo-perplexity");
  addMaskedLmFlags(command);
  return command
    .addOption(
      new Option('--metric <metric>', 'what each masked copy hides: the token alone (original), the token and the rest of its word (within_word_l2r), or the whole word (whole_word)')
        .choices(SCORE_METRICS)
        .default('within_word_l2r'),
    )
    .addOption(new Option('--format <format>', 'jsonl: one JSON object per sentence; tsv: word<TAB>probability lines, a blank line between sentences (default: tsv for an -o file named .tsv, else jsonl)').choices(SCORE_FORMATS))
    .addHelpText(
      'after',
      `
The model needs BertForMaskedLM's head (cls.predictions.*), as bert-base-uncased has it;
sentence-transformers checkpoints have none.

Examples:
  bert-embed score -m ./bert-base-uncased sentences.txt > scores.jsonl
  echo 'The cat sat on the mat.' | bert-embed score -m ./bert-base-uncased --format tsv
  bert-embed score -m ./bert-base-uncased --metric original --field text docs.jsonl -o scores.jsonl`,
    )
    .action(async (files: string[], flags: ScoreFlags) => runScore(files, flags));
}

function formatOf(output: string | undefined, format: ScoreFormat | undefined): ScoreFormat {
  if (format) return format;
  const lower = output?.toLowerCase() ?? '';
  return lower.endsWith('.tsv') || lower.endsWith('.tab') ? 'tsv' : 'jsonl';
}

/** One sentence's JSON line, as `score` and a queue run's shards write it. */
export function scoreJsonLine(score: SentenceScore, place: SourceLine, withSource: boolean): string {
  const fields = [
    `"line":${place.line}`,
    `"tokens":${JSON.stringify(score.tokens)}`,
    `"words":${JSON.stringify(score.words)}`,
    `"pll":${JSON.stringify(score.pll)}`,
    `"pseudoPerplexity":${JSON.stringify(score.pseudoPerplexity)}`,
    `"wordPseudoPerplexity":${JSON.stringify(score.wordPseudoPerplexity)}`,
    `"truncated":${score.truncated}`,
  ];
  return `{${sourceField(place, withSource)}${fields.join(',')}}\n`;
}

/** One `word<TAB>probability` line per word; sentences are separated by a blank line. */
function tsvBlock(score: SentenceScore): string {
  return score.words.map((word) => `${word.word}\t${Math.exp(word.logprob)}\n`).join('');
}

async function runScore(files: string[], flags: ScoreFlags): Promise<void> {
  const format = formatOf(flags.output, flags.format);
  const { sources, input, encoder, progress } = await openMaskedLmRun(files, flags, 'score');
  try {
    const sink = openByteSink(flags.output);
    await writeAllOrNothing(sink, async () => {
      const withSource = sources.length > 1;
      let first = true;
      const chunks = inOrderChunks(readSentences(sources, input), (texts, signal) => encoder.score(texts, { metric: flags.metric, signal }), encoder.options.workers);
      for await (const { places, results } of chunks) {
        let text = '';
        results.forEach((score, i) => {
          if (format === 'jsonl') {
            text += scoreJsonLine(score, places[i], withSource);
            return;
          }
          if (!first) text += '\n';
          first = false;
          text += tsvBlock(score);
        });
        await sink.write(text);
        progress.advance(places.length);
      }
    });
    progress.finish();
  } finally {
    await encoder.close();
  }
}
