/**
 * What `rerank` and `classify` share: loading a model that must have BertForSequenceClassification's
 * head (exit 1, ERR_NO_CLASSIFIER_HEAD, before any input is read), with the input, model and
 * encoder flags every command has.
 */
import { Encoder } from '../../encoder.js';
import { asFlagError, encoderOptionsFrom, resolveModelDir } from '../encoder-flags.js';
import { checkReadable, inputOptionsFrom } from '../input-flags.js';
import type { InputOptions } from '../input/sentences.js';
import type { MaskedLmFlags } from '../masked-lm.js';
import { checkOutputIsNotInput } from '../output/byte-sink.js';
import { stopOnSignals, throwIfStopped } from '../run-control.js';

export interface ClassifierRun {
  sources: string[];
  input: InputOptions;
  encoder: Encoder;
}

export async function openClassifierRun(files: string[], flags: MaskedLmFlags, checkFlags: () => void): Promise<ClassifierRun> {
  stopOnSignals();
  const sources = files.length > 0 ? files : ['-'];
  const input = inputOptionsFrom(sources, flags);
  const options = encoderOptionsFrom(flags);
  checkFlags();
  checkReadable(sources);
  checkOutputIsNotInput(flags.output, sources);
  const modelDir = await resolveModelDir(flags);
  const encoder = await Encoder.load(modelDir, options).catch((error: unknown) => {
    throw asFlagError(error);
  });
  try {
    throwIfStopped();
    // The encoder's own refusal (ERR_NO_CLASSIFIER_HEAD), so that the CLI says what the API says.
    if (!encoder.heads.includes('classification')) await encoder.classify(['']);
    return { sources, input, encoder };
  } catch (error) {
    await encoder.close();
    throw error;
  }
}
