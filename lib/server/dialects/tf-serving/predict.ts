/**
 * POST /v1/models/<name>[/versions/1]:predict, TensorFlow Serving's, for the clients of a TF Serving
 * deployment of BERT's masked-LM head (the features of BERT's create_pretraining_data.py, one
 * signature "serving_default"):
 *
 *   { "signature_name"?: "serving_default", "instances": [{ input_ids, input_mask, segment_ids,
 *     masked_lm_positions, masked_lm_ids }, ...] }           → { "predictions": [[nll, ...], ...] }
 *   { "inputs": { input_ids: [[...]], ... } } (columnar)     → { "outputs": [[nll, ...], ...] }
 *
 * input_ids, input_mask and segment_ids are [batch, max_seq_length]: only the first sum(input_mask)
 * tokens of a row are the sentence (the mask must be 1s then 0s). masked_lm_positions and
 * masked_lm_ids are [batch, max_predictions_per_seq]; the trailing slots whose id and position are
 * both 0 are padding. Each slot's answer is -log p(masked_lm_ids[j] at masked_lm_positions[j]),
 * 0 for padding. Errors are TF Serving's (dialect.ts).
 */
import type { Encoder } from '../../../encoder.js';
import { checkInteger, fieldError } from '../../../validation.js';
import { HttpError, httpError } from '../../http-error.js';
import { bodyObject } from '../../request-validation.js';
import { checkQueueLimit } from '../../queue-limit.js';
import { modelContext } from '../../model-context.js';
import type { Handler, Route } from '../../route.js';
import { checkServable } from './servable-path.js';
import { INPUTS, SIGNATURE_NAME, type InputName } from './signature.js';

type Instance = Record<InputName, unknown>;

/** The instances of a request, row format or columnar, each with exactly the five inputs. */
function instancesOf(request: Record<string, unknown>, maxInputs: number): { instances: Instance[]; fieldOf: (row: number, name: InputName) => string; columnar: boolean } {
  if (('instances' in request) === ('inputs' in request)) {
    throw httpError('ERR_VALIDATION', 'Expected exactly one of "instances" (row format) and "inputs" (columnar format) in the body');
  }
  const checkNames = (keys: string[], where: string): void => {
    for (const key of keys) {
      if (!(INPUTS as readonly string[]).includes(key)) {
        throw httpError('ERR_VALIDATION', `${where}: input tensor alias not found in signature: ${key}. Inputs expected to be in the set {${INPUTS.join(',')}}.`);
      }
    }
    for (const name of INPUTS) if (!keys.includes(name)) throw httpError('ERR_VALIDATION', `${where}: missing input ${name}; the signature takes {${INPUTS.join(',')}}`);
  };
  const tooMany = (count: number): HttpError =>
    httpError('ERR_TOO_MANY_INPUTS', `Expected at most ${maxInputs} instances (--max-inputs) but received ${count}`);
  if ('instances' in request) {
    const { instances } = request;
    if (!Array.isArray(instances) || instances.length === 0) throw fieldError(TypeError, 'instances', 'non-empty array of objects', instances);
    if (instances.length > maxInputs) throw tooMany(instances.length);
    instances.forEach((instance: unknown, i) => {
      if (typeof instance !== 'object' || instance === null || Array.isArray(instance)) throw fieldError(TypeError, `instances[${i}]`, `object of ${INPUTS.join(', ')}`, instance);
      checkNames(Object.keys(instance), `instances[${i}]`);
    });
    return { instances: instances as Instance[], fieldOf: (row, name) => `instances[${row}].${name}`, columnar: false };
  }
  const { inputs } = request;
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) throw fieldError(TypeError, 'inputs', `object of ${INPUTS.join(', ')}`, inputs);
  const columns = inputs as Record<string, unknown>;
  checkNames(Object.keys(columns), 'inputs');
  const batch = (columns.input_ids as unknown[] | undefined)?.length;
  for (const name of INPUTS) {
    const column = columns[name];
    if (!Array.isArray(column) || column.length === 0) throw fieldError(TypeError, `inputs.${name}`, '[batch, length] array of integers', column);
    if (column.length !== batch) throw fieldError(RangeError, `inputs.${name}.length`, `${batch}, the batch size of inputs.input_ids`, column.length);
  }
  if (batch! > maxInputs) throw tooMany(batch!);
  const instances = Array.from({ length: batch! }, (_, row) => Object.fromEntries(INPUTS.map((name) => [name, (columns[name] as unknown[])[row]])) as Instance);
  return { instances, fieldOf: (row, name) => `inputs.${name}[${row}]`, columnar: true };
}

/** One row of a rectangular int tensor: `length` integers from minimum to maximum. */
function intRow(field: string, value: unknown, length: number, minimum: number, maximum: number): number[] {
  if (!Array.isArray(value)) throw fieldError(TypeError, field, `array of ${length} integers`, value);
  if (value.length !== length) throw fieldError(RangeError, field, `array of ${length} integers (every row as long as the first)`, value);
  value.forEach((element, j) => checkInteger(`${field}[${j}]`, element, minimum, maximum));
  return value as number[];
}

interface PredictRow {
  ids: number[];
  typeIds: number[];
  positions: number[];
  targets: number[];
  /** masked_lm_positions' width, padding included */
  slots: number;
}

/** Checks one instance against the model and the shapes of the first; keeps the real tokens and slots. */
function predictRow(instance: Instance, fieldOf: (name: InputName) => string, seqLength: number, slotCount: number, encoder: Encoder): PredictRow {
  const { vocabSize, typeVocabSize, maxPositions } = encoder.config;
  const mask = intRow(fieldOf('input_mask'), instance.input_mask, seqLength, 0, 1);
  const length = mask.indexOf(0) === -1 ? seqLength : mask.indexOf(0);
  const stray = mask.indexOf(1, length);
  if (length === 0 || stray !== -1) {
    const received = length === 0 ? 'no leading 1' : `a 1 at ${stray} after the first 0 at ${length}`;
    throw new RangeError(`Expected 1s then 0s, at least one 1, for ${fieldOf('input_mask')} but received ${received}`);
  }
  if (length > maxPositions) throw new RangeError(`Expected at most ${maxPositions} real tokens (the model's max_position_embeddings) for ${fieldOf('input_mask')} but received ${length}`);
  const ids = intRow(fieldOf('input_ids'), instance.input_ids, seqLength, 0, vocabSize - 1);
  const typeIds = intRow(fieldOf('segment_ids'), instance.segment_ids, seqLength, 0, typeVocabSize - 1);
  const positions = intRow(fieldOf('masked_lm_positions'), instance.masked_lm_positions, slotCount, 0, seqLength - 1);
  const targets = intRow(fieldOf('masked_lm_ids'), instance.masked_lm_ids, slotCount, 0, vocabSize - 1);
  let used = slotCount;
  while (used > 0 && positions[used - 1] === 0 && targets[used - 1] === 0) used--;
  for (let j = 0; j < used; j++) {
    const field = `${fieldOf('masked_lm_positions')}[${j}]`;
    checkInteger(field, positions[j], 0, length - 1);
  }
  return { ids: ids.slice(0, length), typeIds: typeIds.slice(0, length), positions: positions.slice(0, used), targets: targets.slice(0, used), slots: slotCount };
}

/** Digits that read back to the same float32 (an infinite loss is written Infinity, as TF Serving writes it). */
function float32Text(value: number): string {
  return String(Number(Math.fround(value).toPrecision(9)));
}

export const predictRoute: Route = async ({ encoder, body, signal, maxInputs }) => {
  const request = bodyObject(body);
  const signature = request.signature_name;
  if (signature !== undefined && signature !== null && signature !== '' && signature !== SIGNATURE_NAME) {
    throw httpError('ERR_VALIDATION', `Serving signature name: ${JSON.stringify(signature)} not found in signature def`);
  }
  const { instances, fieldOf, columnar } = instancesOf(request, maxInputs);
  // Tensors are rectangular: every row as long as the first.
  const widthOf = (name: InputName): number => {
    const first = instances[0][name];
    if (!Array.isArray(first)) throw fieldError(TypeError, fieldOf(0, name), 'array of integers', first);
    return first.length;
  };
  const seqLength = widthOf('input_ids');
  if (seqLength === 0) throw fieldError(RangeError, fieldOf(0, 'input_ids'), 'non-empty array of integers', instances[0].input_ids);
  const slotCount = widthOf('masked_lm_positions');
  const rows = instances.map((instance, i) => predictRow(instance, (name) => fieldOf(i, name), seqLength, slotCount, encoder));
  checkQueueLimit(encoder, rows.length, columnar ? 'inputs' : 'instances', 'rows');
  const logprobs = await encoder.maskedLmLogProbs(
    rows.map(({ ids, typeIds, positions, targets }) => ({ ids, typeIds, positions, targets })),
    { signal },
  );
  const answers = rows.map((row, i) => {
    const nll = new Array<string>(row.slots).fill('0');
    logprobs[i].forEach((logprob, j) => (nll[j] = float32Text(-logprob)));
    return `[${nll.join(',')}]`;
  });
  return { jsonText: `{"${columnar ? 'outputs' : 'predictions'}":[${answers.join(',')}]}` };
};

export const predictHandler: Handler = async (exchange) => {
  checkServable(exchange.params, 'predict', exchange.server.settings.modelName);
  // TF Serving answers JSON only, whatever the Accept header
  return predictRoute({ ...(await modelContext(exchange)), binary: false });
};
