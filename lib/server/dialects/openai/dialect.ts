/** OpenAI's embeddings API: /v1/embeddings. */
import type { Dialect } from '../../route.js';
import { ENGINE } from '../engine/dialect.js';

// Errors keep the engine's envelope, `{ error, code }`: OpenAI's SDKs raise on the status and show the body.
export const OPENAI: Dialect = { name: 'OpenAI', errorAnswer: ENGINE.errorAnswer };
