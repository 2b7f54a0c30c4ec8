/** encodeStream(): bert-as-service's encode_async, one Embeddings per list of a stream, in order, later lists already encoding. */
import { setMaxListeners } from 'node:events';
import type { Embeddings } from '../../embeddings.js';
import { inSourceOrder } from '../../in-source-order.js';
import { checkPlainObject, fieldError } from '../../validation.js';
import type { EncodeOptions } from './options.js';

export async function* encodeStream(
  encode: (texts: string[], options: EncodeOptions) => Promise<Embeddings>,
  source: AsyncIterable<string[]> | Iterable<string[]>,
  options: EncodeOptions,
  window: number,
): AsyncGenerator<Embeddings, void, undefined> {
  const callOptions = checkPlainObject('options', options);
  const isIterable = (value: unknown): boolean =>
    value != null && (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function');
  if (!isIterable(source)) throw fieldError(TypeError, 'source', 'async iterable of string arrays', source);
  const stop = new AbortController();
  const signal = callOptions.signal instanceof AbortSignal ? AbortSignal.any([stop.signal, callOptions.signal]) : stop.signal;
  setMaxListeners(0, signal); // one listener per call in flight, each removed when its call settles
  try {
    yield* inSourceOrder(
      source,
      (texts) => encode(texts, { ...callOptions, signal } as EncodeOptions),
      (texts) => (Array.isArray(texts) ? texts.length : 0),
      window,
    );
  } finally {
    stop.abort();
  }
}
