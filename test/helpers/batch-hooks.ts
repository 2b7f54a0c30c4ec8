/**
 * Encoders whose batches a test can watch, fail or poison: loaded through the internal factory with a
 * wrapper between the engine and each replica. Each hook wraps the ones set before it.
 */
import { openEncoder, type Encoder } from '../../lib/encoder.js';
import type { NativeBatch, NativeEncodeOutput } from '../../lib/native/binding.js';
import type { EncoderOptions } from '../../lib/options.js';

export type BatchHook = (batch: NativeBatch, run: () => Promise<NativeEncodeOutput>) => Promise<NativeEncodeOutput>;

const hooksOf = new WeakMap<Encoder, BatchHook[]>();

export async function loadHookableEncoder(modelDir: string, options: EncoderOptions): Promise<Encoder> {
  const hooks: BatchHook[] = [];
  const encoder = await openEncoder(modelDir, options, (replica) => (batch) =>
    hooks.reduce<() => Promise<NativeEncodeOutput>>((run, hook) => () => hook(batch, run), () => replica.encode(batch))(),
  );
  hooksOf.set(encoder, hooks);
  return encoder;
}

/** Puts `hook` around every batch of an encoder loaded by loadHookableEncoder. */
export function interceptBatches(encoder: Encoder, hook: BatchHook): void {
  const hooks = hooksOf.get(encoder);
  if (!hooks) throw new Error('interceptBatches needs an encoder from loadHookableEncoder');
  hooks.push(hook);
}
