/** Cohere's (and Jina's) rerank API: /v1/rerank. */
import type { Dialect } from '../../route.js';
import { ENGINE } from '../engine/dialect.js';

// Errors keep the engine's envelope, `{ error, code }`: these APIs' clients raise on the status.
export const COHERE: Dialect = { name: 'Cohere', errorAnswer: ENGINE.errorAnswer };
