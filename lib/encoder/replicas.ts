/** The model replicas: one native model each, on its own worker thread, loaded side by side. */
import { BertEmbedError, fromNativeError } from '../errors.js';
import type { BertModelConfig } from '../model/bert-config.js';
import { ModelCapabilities, planClassifier } from '../model/capabilities.js';
import type { ModelFiles } from '../model/model-files.js';
import { indexModelTensors } from '../model/model-tensors.js';
import { nativeBinding, type NativeLoadSpec, type NativeModelHandle, type NativeTensorLocation } from '../native/binding.js';
import { replicaDevices, type ResolvedEncoderOptions } from '../options.js';
import type { Replica } from '../engine/batch-scheduler.js';

/** One model replica as the engine sees it: a native model on its own worker thread. */
export interface NativeReplica extends Replica {
  readonly handle: NativeModelHandle;
}

/** What a replica's encode goes through: tests wrap it to watch or fail batches. */
export type ReplicaWrapper = (replica: Replica) => Replica['encode'];

/** One replica's load; `tensors` (indexModelTensors) is undefined for TorchScript. */
function loadSpecFor(files: ModelFiles, config: BertModelConfig, options: ResolvedEncoderOptions, device: string, tensors: NativeTensorLocation[] | undefined): NativeLoadSpec {
  const common = {
    path: files.weights.path,
    device,
    dtype: options.dtype,
    threads: options.threads,
    blasThreads: options.blasThreads,
    gpuMemoryFraction: options.gpuMemoryFraction ?? 0,
  };
  const { format } = files.weights;
  if (format === 'torchscript' || !tensors) return { ...common, format: 'torchscript' };
  return { ...common, format, config, tensors };
}

export function closedError(): BertEmbedError {
  return new BertEmbedError('the encoder is closed', 'ERR_CLOSED');
}

export async function closeHandle(handle: NativeModelHandle): Promise<void> {
  await handle.close().catch((error: unknown) => {
    if ((error as { code?: string }).code !== 'ERR_CLOSED') throw fromNativeError(error);
  });
}

/** Loads every replica, and decides once what the model can do from its files and what the loads found. */
export async function loadReplicas(
  files: ModelFiles,
  config: BertModelConfig,
  options: ResolvedEncoderOptions,
  wrap?: ReplicaWrapper,
): Promise<{ replicas: NativeReplica[]; capabilities: ModelCapabilities }> {
  const plan = planClassifier(files);
  // Indexed once (a header, or a checkpoint's index, read and checked), whatever the number of replicas.
  const classifier = plan.config ? { labels: plan.config.labels.length, kind: plan.kind } : undefined;
  const tensors = indexModelTensors(files, config, classifier);
  const { NativeModel } = nativeBinding();
  const replicas = replicaDevices(options).map((device): NativeReplica => {
    const handle = new NativeModel();
    const replica: NativeReplica = { device, handle, encode: (batch) => handle.encode(batch) };
    return wrap ? { ...replica, encode: wrap(replica) } : replica;
  });
  // Each replica compiles on its own worker thread, so they load side by side.
  const loads = await Promise.allSettled(replicas.map((r) => r.handle.load(loadSpecFor(files, config, options, r.device, tensors))));
  const failed = loads.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.allSettled(replicas.map((r) => closeHandle(r.handle)));
    throw fromNativeError(failed.reason);
  }
  const found = loads.map((result) => (result as PromiseFulfilledResult<{ heads: string[] }>).value.heads);
  const everywhere = found[0].filter((head) => found.every((heads) => heads.includes(head)));
  return { replicas, capabilities: new ModelCapabilities(files.dir, plan, everywhere) };
}
