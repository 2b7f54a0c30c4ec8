/** POST /tokenize: `{ "inputs": str | str[] }` → `[{ "tokens", "ids", "typeIds" }]`, as the model sees them. */
import { bodyObject, textList } from '../../request-validation.js';
import type { Route } from '../../route.js';

export const tokenizeRoute: Route = async ({ encoder, body, maxInputs }) => {
  const texts = textList('inputs', bodyObject(body).inputs, maxInputs, true);
  return { jsonText: JSON.stringify(encoder.tokenize(texts)) };
};
