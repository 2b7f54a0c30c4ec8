/** text-embeddings-inference's API: /embed, /embed_sparse, /rerank, /predict, /tokenize. */
import type { Dialect } from '../../route.js';
import { ENGINE } from '../engine/dialect.js';

// Errors keep the engine's envelope, `{ error, code }`: TEI's clients read the status and the message.
export const TEI: Dialect = { name: 'text-embeddings-inference', errorAnswer: ENGINE.errorAnswer };
