/** encode(): sentence (or token) vectors from the pooled head, batched by the engine with every other call's rows. */
import type { TokenizedSentence } from '../../engine/batch-scheduler.js';
import { Embeddings } from '../../embeddings.js';
import { POOLING_OPTION_NAMES, resolvePoolingOptions } from '../../options.js';
import { checkTexts } from '../shared/call-options.js';
import type { TaskContext } from '../shared/task-context.js';
import { readTaskOptions } from '../shared/task-options.js';
import { checkEveryTextHasTokens, refuseTextsTooLong, tokenizeText, type TextInput } from '../shared/text-rows.js';
import { ENCODE_OPTIONS, type EncodeOptions } from './options.js';
import { pooledDimension, pooledHead } from './pooled-head.js';

/** The first `kept` token vectors of each row of `[rows, tokenRows, dimension]` vectors. */
function keepLeadingTokenRows(data: Float32Array, rows: number, tokenRows: number, kept: number, dimension: number): Float32Array {
  const out = new Float32Array(rows * kept * dimension);
  for (let row = 0; row < rows; row++) out.set(data.subarray(row * tokenRows * dimension, (row * tokenRows + kept) * dimension), row * kept * dimension);
  return out;
}

export async function embed(context: TaskContext, texts: string[] | string[][], options: EncodeOptions): Promise<Embeddings> {
  const read = readTaskOptions('encode', options, ENCODE_OPTIONS, context);
  const { isTokenized, splitPairs, signal, showTokens, truncate } = read;
  const given = read as Record<string, unknown>;
  const pooling = POOLING_OPTION_NAMES.some((name) => given[name] !== undefined) ? resolvePoolingOptions(given, context.config.numLayers, context.options) : context.options;
  checkTexts(texts, isTokenized);
  checkEveryTextHasTokens(context, texts, isTokenized, splitPairs);
  if (!truncate) refuseTextsTooLong(context, texts, isTokenized, splitPairs);
  context.checkOpen();

  // A copy: large calls are tokenized a chunk at a time, after this function has returned.
  const inputs: TextInput[] = [...texts];
  const dimension = pooledDimension(context.config.hiddenSize, pooling);
  const tokenRows = pooling.pooling === 'NONE' ? context.maxTokens : 1;
  const tokens: string[][] | undefined = showTokens ? new Array<string[]>(inputs.length) : undefined;
  let longest = 0;
  const data = await context.submit({
    count: inputs.length,
    tokenize: (start, end): TokenizedSentence[] => {
      const sentences: TokenizedSentence[] = [];
      for (let row = start; row < end; row++) {
        const encoding = tokenizeText(context, inputs[row], isTokenized, splitPairs);
        if (tokens) tokens[row] = encoding.tokens;
        longest = Math.max(longest, encoding.ids.length);
        sentences.push(encoding);
      }
      return sentences;
    },
    head: pooledHead(context, pooling),
    rowWidth: tokenRows * dimension,
    signal,
  });
  if (pooling.pooling !== 'NONE') return new Embeddings(data, [inputs.length, dimension], tokens);
  // maxSeqLen null (bert-as-service's NONE): token vectors as long as this call's longest sentence,
  // unless fixedEmbedLength keeps every call at the model's maximum.
  const { maxSeqLen, fixedEmbedLength } = context.options;
  const kept = maxSeqLen === null && !fixedEmbedLength ? longest : tokenRows;
  return new Embeddings(kept === tokenRows ? data : keepLeadingTokenRows(data, inputs.length, tokenRows, kept, dimension), [inputs.length, kept, dimension], tokens);
}
