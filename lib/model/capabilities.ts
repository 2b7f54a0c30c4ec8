/**
 * The one place that decides what a model can do: from its files (config.json's `architectures`
 * tells a token classifier from a sequence classifier, which share the classifier.* names; its
 * id2label names the labels) and from what the native load found in the weights. Encoder.load,
 * `bert-embed info`, the server and the CLI ask it; nothing probes by calling a task.
 */
import { BertEmbedError, type BertEmbedErrorCode } from '../errors.js';
import { classifierSettings, type ClassifierConfig } from './classifier-config.js';
import { readModelJsonFile, type ModelFiles } from './model-files.js';

/** The heads a model may hold, closed: each is a native head (native/heads/registry.cpp) of the same name. */
export const HEAD_NAMES = ['pooled', 'maskedLm', 'sparse', 'classification', 'tokenClassification'] as const;
export type HeadName = (typeof HEAD_NAMES)[number];

const CLASSIFIER_HEADS: readonly HeadName[] = ['classification', 'tokenClassification'];

/** Whose head classifier.* is: BertForSequenceClassification's (with the pooler) or BertForTokenClassification's. */
export type ClassifierKind = 'sequence' | 'token';

/** What each head needs, for the refusal of a model without it. */
const MISSING: Partial<Record<HeadName, { code: BertEmbedErrorCode; needs: string; advice: string }>> = {
  maskedLm: {
    code: 'ERR_NO_MLM_HEAD',
    needs: "BERT's masked-LM head, but {model} has none (no cls.predictions.* tensors): it is a plain BertModel or sentence-transformers checkpoint",
    advice: 'Load a BertForMaskedLM checkpoint, such as bert-base-uncased as Google published it.',
  },
  classification: {
    code: 'ERR_NO_CLASSIFIER_HEAD',
    needs: "BertForSequenceClassification's head, but {model} has none (no classifier.weight / classifier.bias tensors): it is not a cross-encoder or sequence classifier",
    advice: "Load a checkpoint saved from BertForSequenceClassification or sentence-transformers' CrossEncoder.",
  },
  tokenClassification: {
    code: 'ERR_NO_TOKEN_CLASSIFIER_HEAD',
    needs: "BertForTokenClassification's head, but {model} has none (no classifier.* tensors, or config.json's architectures names another head)",
    advice: 'Load a checkpoint saved from BertForTokenClassification (an NER model).',
  },
};
MISSING.sparse = MISSING.maskedLm;

/** The head classifier.* belongs to, from config.json's architectures (a sequence classifier unless it names a token classifier). */
export function classifierKindOf(files: Pick<ModelFiles, 'configJson' | 'configFormat'>): ClassifierKind {
  if (files.configFormat !== 'huggingface') return 'sequence';
  const raw = readModelJsonFile(files.configJson) as { architectures?: unknown } | null;
  const architectures = Array.isArray(raw?.architectures) ? raw.architectures : [];
  return architectures.includes('BertForTokenClassification') && !architectures.includes('BertForSequenceClassification') ? 'token' : 'sequence';
}

/** What the classifier settings are and whose head the classifier is: what indexing the weights needs before the load. */
export interface ClassifierPlan {
  kind: ClassifierKind;
  config?: ClassifierConfig;
  /** config.json's classification fields are invalid: what the classifier's tasks answer */
  error?: BertEmbedError;
}

export function planClassifier(files: Pick<ModelFiles, 'configJson' | 'configFormat'>): ClassifierPlan {
  const { classifier, error } = classifierSettings(files.configJson, files.configFormat);
  return { kind: classifierKindOf(files), config: classifier, error };
}

/** The heads indexed tensors hold, as the native load would report them: for `bert-embed info`, which loads nothing. */
export function headsInTensors(names: readonly string[]): HeadName[] {
  const has = (name: string) => names.includes(name);
  const heads: HeadName[] = ['pooled'];
  if (names.some((name) => name.startsWith('cls.predictions.'))) heads.push('maskedLm', 'sparse');
  if (has('classifier.weight') && has('pooler.dense.weight')) heads.push('classification');
  if (has('classifier.weight')) heads.push('tokenClassification');
  return heads;
}

export class ModelCapabilities {
  /** what the model answers, in HEAD_NAMES order */
  readonly heads: readonly HeadName[];
  /** the classifier's labels and settings, when it has a classification or token-classification head */
  readonly classifier: ClassifierConfig | undefined;
  readonly #classifierError: BertEmbedError | undefined;
  readonly #modelDir: string;

  /**
   * `loaded` is what the native load found in the weights (every replica's, intersected); the plan
   * says whose head classifier.* is, so a sequence classifier's weights never answer token
   * classification, nor the reverse.
   */
  constructor(modelDir: string, plan: ClassifierPlan, loaded: readonly string[]) {
    this.#modelDir = modelDir;
    const dropped: HeadName = plan.kind === 'token' ? 'classification' : 'tokenClassification';
    // Labels come from config.json: without them (a TensorFlow bert_config.json, an invalid id2label) no classifier answers.
    const usable = (head: HeadName) => head !== dropped && (plan.config !== undefined || !CLASSIFIER_HEADS.includes(head));
    this.heads = Object.freeze(HEAD_NAMES.filter((head) => loaded.includes(head) && usable(head)));
    this.classifier = this.heads.some((head) => CLASSIFIER_HEADS.includes(head)) ? plan.config : undefined;
    this.#classifierError = plan.error;
  }

  has(head: HeadName): boolean {
    return this.heads.includes(head);
  }

  /** Refuses `method` with the head's own code when the model lacks `head`. */
  require(head: HeadName, method: string): void {
    if (this.has(head)) return;
    if (CLASSIFIER_HEADS.includes(head) && this.#classifierError) throw this.#classifierError;
    const missing = MISSING[head];
    if (!missing) throw new BertEmbedError(`${method} needs the ${head} head, which ${this.#modelDir} has not`, 'ERR_UNSUPPORTED');
    throw new BertEmbedError(`${method} needs ${missing.needs.replace('{model}', this.#modelDir)}. ${missing.advice}`, missing.code);
  }

  /** The classifier's settings for a method that needs `head` (refused as require() refuses). */
  requireClassifier(head: 'classification' | 'tokenClassification', method: string): ClassifierConfig {
    this.require(head, method);
    return this.classifier!;
  }
}
