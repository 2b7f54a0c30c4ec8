/** POST /v1/models/<name>:classify and :regress: TF Serving's answer when the signature is predict's. */
import { httpError } from '../../http-error.js';
import type { Handler } from '../../route.js';
import { checkServable, type TfServingVerb } from './servable-path.js';

export function otherMethodHandler(verb: Exclude<TfServingVerb, 'status' | 'metadata' | 'predict'>): Handler {
  return async (exchange) => {
    checkServable(exchange.params, verb, exchange.server.settings.modelName);
    await exchange.readBody();
    exchange.readyEncoder();
    throw httpError('ERR_VALIDATION', `Expected ${verb} signature method_name to be tensorflow/serving/${verb}. Was: tensorflow/serving/predict`);
  };
}
