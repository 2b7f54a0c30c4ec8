/** What a task is given by the Encoder it runs in: the model's settings, its tokenizer and capabilities, and the engine to queue rows on. */
import type { ScheduledEncode } from '../../engine/batch-scheduler.js';
import type { BertModelConfig } from '../../model/bert-config.js';
import type { ModelCapabilities } from '../../model/capabilities.js';
import type { ResolvedEncoderOptions } from '../../options.js';
import type { WordPieceTokenizer } from '../../tokenizer/index.js';

export interface TaskContext {
  readonly modelDir: string;
  readonly config: Readonly<BertModelConfig>;
  readonly options: Readonly<ResolvedEncoderOptions>;
  readonly tokenizer: WordPieceTokenizer;
  /** tokens a text keeps, special tokens included */
  readonly maxTokens: number;
  readonly capabilities: ModelCapabilities;
  /** throws ERR_CLOSED once the encoder is closing, before anything is tokenized */
  checkOpen(): void;
  /** queues a call's rows on the engine; resolves with [count × rowWidth] floats */
  submit(call: ScheduledEncode): Promise<Float32Array>;
}
