/** text-embeddings-inference's rule: without `"truncate": true`, an input longer than maxSeqLen is a 422. */
import type { Encoder } from '../../../encoder.js';
import { HttpError } from '../../http-error.js';

/** `splitPairs`: count 'A ||| B' as the pair the encoder will make of it (false where the API has no pairs). */
export function checkInputLengths(encoder: Encoder, texts: string[], splitPairs: boolean): void {
  const { maxTokens } = encoder;
  const addSpecialTokens = encoder.options.specialTokens;
  texts.forEach((text, i) => {
    const length = encoder.tokenizer.encode(text, undefined, { splitPairs, addSpecialTokens }).ids.length;
    if (length > maxTokens) {
      throw new HttpError(422, 'ERR_INPUT_TOO_LONG', `inputs[${i}] has ${length} tokens, more than maxSeqLen ${maxTokens}; send "truncate": true to cut it`);
    }
  });
}
