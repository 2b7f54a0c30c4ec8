/**
 * What `rerank` and `classify` share: loading a model that must have BertForSequenceClassification's
 * head (exit 1, ERR_NO_CLASSIFIER_HEAD, before any input is read), with the input, model and
 * encoder flags every command has.
 */
import { requireTask } from '../../tasks/index.js';
import { openHeadRun, type HeadRun, type MaskedLmFlags } from '../masked-lm.js';

export function openClassifierRun(files: string[], flags: MaskedLmFlags, checkFlags: () => void): Promise<HeadRun> {
  // The capabilities' own refusal (ERR_NO_CLASSIFIER_HEAD), so that the CLI says what the API says.
  return openHeadRun(files, flags, checkFlags, async (encoder) => requireTask(encoder.capabilities, 'classify'));
}
