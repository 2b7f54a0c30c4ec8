/**
 * The server's one route table: dispatch, the 404 message, `serve --help`, README's endpoint list
 * and the /metrics labels all come from it. An endpoint is one entry here and one handler in its
 * dialect's folder (dialects/<dialect>/); a model endpoint's handler is `modelRoute(route)`.
 *
 * Ordered as the 404 message suggests them; the docs group them by dialect (route-docs.ts).
 */
import { BERT_AS_SERVICE } from './dialects/bert-as-service/dialect.js';
import { encodeHandler } from './dialects/bert-as-service/encode.js';
import { clientStatusHandler, serverStatusHandler } from './dialects/bert-as-service/status-routes.js';
import { cohereRerankRoute } from './dialects/cohere/rerank.js';
import { COHERE } from './dialects/cohere/dialect.js';
import { dashboardHandler, isDashboardPath } from './dialects/engine/dashboard.js';
import { ENGINE } from './dialects/engine/dialect.js';
import { classifyTokensRoute } from './dialects/engine/classify-tokens.js';
import { fillMaskRoute } from './dialects/engine/fill-mask.js';
import { healthHandler } from './dialects/engine/health.js';
import { metricsHandler } from './dialects/engine/metrics.js';
import { scoreRoute } from './dialects/engine/score.js';
import { statusHandler } from './dialects/engine/status.js';
import { OPENAI } from './dialects/openai/dialect.js';
import { openAiRoute } from './dialects/openai/embeddings.js';
import { TEI } from './dialects/tei/dialect.js';
import { embedSparseRoute } from './dialects/tei/embed-sparse.js';
import { embedRoute } from './dialects/tei/embed.js';
import { teiPredictRoute } from './dialects/tei/predict.js';
import { rerankRoute } from './dialects/tei/rerank.js';
import { tokenizeRoute } from './dialects/tei/tokenize.js';
import { TF_SERVING } from './dialects/tf-serving/dialect.js';
import { modelMetadataHandler, modelStatusHandler } from './dialects/tf-serving/model-status.js';
import { otherMethodHandler } from './dialects/tf-serving/other-methods.js';
import { predictHandler } from './dialects/tf-serving/predict.js';
import { servablePath } from './dialects/tf-serving/servable-path.js';
import { modelRoute } from './model-context.js';
import type { RouteEntry } from './route.js';

export const ROUTES: readonly RouteEntry[] = [
  {
    method: 'POST',
    path: '/encode',
    dialect: BERT_AS_SERVICE,
    handler: encodeHandler,
    description: "embeddings of texts ('A ||| B' a pair) or token lists: { id, texts, is_tokenized, show_tokens } → { id, results, status }",
  },
  { method: 'GET', path: '/status', dialect: ENGINE, handler: statusHandler, description: "the server's state and the encoder's status (?history=N: its last N seconds)" },
  { method: 'GET', path: '/status/server', dialect: BERT_AS_SERVICE, handler: serverStatusHandler, description: "bert-as-service's server_status dict" },
  { method: 'GET', path: '/status/client', dialect: BERT_AS_SERVICE, handler: clientStatusHandler, description: "the status dict of bert-as-service's BertClient" },
  { method: 'POST', path: '/embed', dialect: TEI, handler: modelRoute(embedRoute), description: 'embeddings: { inputs, normalize, truncate } → [[...]]' },
  {
    method: 'POST',
    path: '/v1/embeddings',
    dialect: OPENAI,
    handler: modelRoute(openAiRoute),
    description: 'unit-length embeddings: { input, model, encoding_format, dimensions } → { data: [{ embedding }], usage }',
  },
  { method: 'POST', path: '/tokenize', dialect: TEI, handler: modelRoute(tokenizeRoute), description: 'the tokens the model sees: { inputs } → [{ tokens, ids, typeIds }]' },
  { method: 'POST', path: '/score', dialect: ENGINE, handler: modelRoute(scoreRoute), description: 'pseudo-log-likelihood scores (masked-LM head): { inputs, parameters: { metric } }' },
  {
    method: 'POST',
    path: '/fill-mask',
    dialect: ENGINE,
    handler: modelRoute(fillMaskRoute),
    description: "[MASK] candidates as transformers' fill-mask pipeline gives them (masked-LM head): { inputs, parameters: { top_k } }",
  },
  {
    method: 'POST',
    path: '/embed_sparse',
    dialect: TEI,
    handler: modelRoute(embedSparseRoute),
    description: 'SPLADE vectors (masked-LM head): { inputs, truncate } → [[{ index, value }]]',
  },
  {
    method: 'POST',
    path: '/rerank',
    dialect: TEI,
    handler: modelRoute(rerankRoute),
    description: 'texts ranked by relevance to a query (cross-encoder): { query, texts, raw_scores, return_text, truncate } → [{ index, score }]',
  },
  {
    method: 'POST',
    path: '/predict',
    dialect: TEI,
    handler: modelRoute(teiPredictRoute),
    description: 'labels and scores of texts or pairs (sequence-classification head): { inputs, raw_scores, truncate } → [{ label, score }]',
  },
  {
    method: 'POST',
    path: '/v1/rerank',
    dialect: COHERE,
    handler: modelRoute(cohereRerankRoute),
    description: 'documents ranked by relevance to a query (cross-encoder): { query, documents, top_n, return_documents } → { results }',
  },
  {
    method: 'POST',
    path: '/classify-tokens',
    dialect: ENGINE,
    handler: modelRoute(classifyTokensRoute),
    description: "labelled tokens or entities (NER) as transformers' token-classification pipeline gives them (token-classification head): { inputs, aggregation_strategy, ignore_labels, stride } → [[...]]",
  },
  // A load balancer's check needs no key.
  { method: 'GET', path: '/health', dialect: ENGINE, handler: healthHandler, keyless: true, description: '200 once the model serves, 503 before and while shutting down' },
  { method: 'GET', path: '/metrics', dialect: ENGINE, handler: metricsHandler, description: 'Prometheus text: requests, latency, errors, queue, batches' },
  // A browser cannot send the key with a page load; the files hold no data, and the page asks for the key before it reads any.
  {
    method: 'GET',
    path: '/dashboard',
    match: isDashboardPath,
    dialect: ENGINE,
    handler: dashboardHandler,
    keyless: true,
    head: true,
    description: "a browser's charts of the last ten minutes: requests, latency, queue, batches, workers, errors (with --api-key the page asks for the key)",
  },
  {
    method: 'POST',
    path: '/v1/models/<name>[/versions/1]:predict',
    match: servablePath('predict'),
    label: '/v1/models/{name}:predict',
    hint: '/v1/models/{model}:predict',
    dialect: TF_SERVING,
    handler: predictHandler,
    description: "masked-LM losses of create_pretraining_data.py's features (masked-LM head): { instances } → { predictions }",
  },
  {
    method: 'GET',
    path: '/v1/models/<name>[/versions/1]',
    match: servablePath('status'),
    label: '/v1/models/{name}',
    hint: '/v1/models/{model}[/metadata]',
    dialect: TF_SERVING,
    handler: modelStatusHandler,
    description: "the model's version status: LOADING, AVAILABLE, UNLOADING",
  },
  {
    method: 'GET',
    path: '/v1/models/<name>[/versions/1]/metadata',
    match: servablePath('metadata'),
    label: '/v1/models/{name}/metadata',
    hint: null,
    dialect: TF_SERVING,
    handler: modelMetadataHandler,
    description: "the model's signature_def",
  },
  {
    method: 'POST',
    path: '/v1/models/<name>[/versions/1]:classify',
    match: servablePath('classify'),
    label: '/v1/models/{name}:classify',
    hint: null,
    dialect: TF_SERVING,
    handler: otherMethodHandler('classify'),
    description: 'answered 400: the one signature is a predict signature',
  },
  {
    method: 'POST',
    path: '/v1/models/<name>[/versions/1]:regress',
    match: servablePath('regress'),
    label: '/v1/models/{name}:regress',
    hint: null,
    dialect: TF_SERVING,
    handler: otherMethodHandler('regress'),
    description: 'answered 400: the one signature is a predict signature',
  },
];
