/**
 * POST /v1/embeddings, OpenAI's: `{ "input": str | str[], "model": "...", "encoding_format":
 * "float" | "base64", "dimensions": n }`. One rule, as OpenAI's: every vector is unit length,
 * whatever the server's --normalize. `dimensions` below the full width keeps the first n values
 * and normalizes them again, as OpenAI's shortened embeddings are. Each input is one text as
 * written: the API has no sentence pairs, so ' ||| ' is not split.
 */
import { float32Json } from '../../../float32-json.js';
import { bodyObject, optionalIntegerIn, optionalOneOf, textList } from '../../request-validation.js';
import { checkQueueLimit } from '../../queue-limit.js';
import type { Route } from '../../route.js';

function shortened(row: Float32Array, dimensions: number): Float32Array {
  const kept = row.slice(0, dimensions);
  let norm = 0;
  for (const value of kept) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < kept.length; i++) kept[i] /= norm;
  return kept;
}

export const openAiRoute: Route = async ({ encoder, body, signal, binary, maxInputs, modelName }) => {
  const request = bodyObject(body);
  const texts = textList('input', request.input, maxInputs, true);
  const format = optionalOneOf('encoding_format', request.encoding_format, ['float', 'base64'] as const, 'float');
  const dimensions = optionalIntegerIn('dimensions', request.dimensions, 1, encoder.dimension);
  checkQueueLimit(encoder, texts.length, 'input');
  // The tokens come with the vectors for the usage count: no second tokenization.
  const embeddings = await encoder.encode(texts, { signal, showTokens: !binary, normalize: true, splitPairs: false });
  let rows = embeddings.rows();
  if (dimensions !== undefined && dimensions < encoder.dimension) rows = rows.map((row) => shortened(row, dimensions));
  if (binary) {
    const width = rows[0].length;
    const vectors = new Float32Array(rows.length * width);
    rows.forEach((row, i) => vectors.set(row, i * width));
    return { vectors, shape: [rows.length, width] };
  }
  const tokens = embeddings.tokens!.reduce((sum, sentence) => sum + sentence.length, 0);
  const data = rows.map((row, index) => {
    const embedding = format === 'base64' ? JSON.stringify(Buffer.from(row.buffer, row.byteOffset, row.byteLength).toString('base64')) : float32Json(row);
    return `{"object":"embedding","index":${index},"embedding":${embedding}}`;
  });
  const model = JSON.stringify(typeof request.model === 'string' ? request.model : modelName);
  return { jsonText: `{"object":"list","data":[${data.join(',')}],"model":${model},"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}}` };
};
