/** The pooled head: bert-as-service's pooling strategies over chosen layers, and the width of what it answers. */
import type { NativeHeadSpec } from '../../native/binding.js';
import { absoluteLayer, type ResolvedPoolingOptions } from '../../options.js';
import type { TaskContext } from '../shared/task-context.js';

export function pooledHead(context: TaskContext, pooling: ResolvedPoolingOptions): NativeHeadSpec {
  return {
    kind: 'pooled',
    strategy: pooling.pooling,
    layers: pooling.layers.map((layer) => absoluteLayer(layer, context.config.numLayers)),
    maskClsSep: pooling.maskClsSep,
    normalize: pooling.normalize,
    clsId: context.tokenizer.clsId,
    sepId: context.tokenizer.sepId,
    outputSeqLen: context.maxTokens,
  };
}

/** Length of one output vector (of one token vector for NONE). */
export function pooledDimension(hiddenSize: number, pooling: ResolvedPoolingOptions): number {
  const perLayer = pooling.pooling === 'REDUCE_MEAN_MAX' ? 2 * hiddenSize : hiddenSize;
  return perLayer * pooling.layers.length;
}
