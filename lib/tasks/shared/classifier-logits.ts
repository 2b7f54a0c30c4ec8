/** The sequence classifier's logits for encoded inputs, [inputs × labels], through the engine like every other call's rows. */
import type { TaskContext } from './task-context.js';
import type { PairEncoding } from './pair-inputs.js';

export function sequenceClassifierLogits(context: TaskContext, inputs: PairEncoding[], labelCount: number, signal: AbortSignal | undefined): Promise<Float32Array> {
  return context.submit({
    count: inputs.length,
    tokenize: (start, end) => inputs.slice(start, end).map((input) => input.encoding),
    head: { kind: 'classification' },
    rowWidth: labelCount,
    signal,
  });
}

