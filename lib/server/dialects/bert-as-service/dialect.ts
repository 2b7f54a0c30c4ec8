/** bert-as-service's HTTP API (its BertHTTPProxy): /encode, /status/server, /status/client. */
import type { Dialect } from '../../route.js';
import { ENGINE } from '../engine/dialect.js';

// bert-as-service's proxy has no error envelope of its own: errors are the engine's.
export const BERT_AS_SERVICE: Dialect = { name: 'bert-as-service', errorAnswer: ENGINE.errorAnswer };
