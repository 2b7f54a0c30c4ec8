/** The vectors of one encode() call: one row-major Float32Array and its shape. */
export class Embeddings {
  /** row-major float32 values */
  readonly data: Float32Array;
  /** [n, dim], or [n, maxSeqLen, dim] for pooling NONE */
  readonly shape: number[];
  /** the tokens the model saw for each sentence, when asked for with showTokens */
  readonly tokens?: string[][];

  constructor(data: Float32Array, shape: number[], tokens?: string[][]) {
    this.data = data;
    this.shape = shape;
    if (tokens) this.tokens = tokens;
  }

  /** One view per sentence into `data` (no copies). */
  rows(): Float32Array[] {
    const count = this.shape[0];
    const width = count === 0 ? 0 : this.data.length / count;
    return Array.from({ length: count }, (_, i) => this.data.subarray(i * width, (i + 1) * width));
  }
}
