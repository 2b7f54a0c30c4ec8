/** TensorFlow Serving's REST API: /v1/models/<name>[/versions/<n>][:predict|/metadata]. */
import type { Dialect } from '../../route.js';

export const TF_SERVING: Dialect = {
  name: 'TensorFlow Serving',
  /** TF Serving's `{ "error": message }`, and its 400 (INVALID_ARGUMENT) where ERROR_CODES says 422 */
  errorAnswer: (error) => ({ status: error.status === 422 ? 400 : error.status, jsonText: JSON.stringify({ error: error.message }) }),
};
