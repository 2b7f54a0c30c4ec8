/**
 * What config.json says about BertForSequenceClassification's head: its labels (num_labels /
 * id2label), problem_type, and the activation sentence-transformers' CrossEncoder applies to its
 * logits. Read the way transformers and sentence-transformers read them; config.json is untrusted,
 * so every field is checked and a bad one refused by name.
 */
import { BertEmbedError } from '../errors.js';
import { readModelJsonFile } from './model-files.js';
import { expectationMessage } from '../validation.js';

export const PROBLEM_TYPES = ['regression', 'single_label_classification', 'multi_label_classification'] as const;
export type ProblemType = (typeof PROBLEM_TYPES)[number];

/** The activations this engine applies for CrossEncoder.predict (its activation_fn). */
export type CrossEncoderActivation = 'sigmoid' | 'identity' | 'tanh';

export interface ClassifierConfig {
  /** label names in id order (id2label; LABEL_i where config.json gives none) */
  labels: string[];
  problemType: ProblemType | undefined;
  /** what CrossEncoder.predict applies: config's sentence_transformers.activation_fn, else sigmoid for one label, else identity */
  crossEncoderActivation: CrossEncoderActivation;
  /** a torch activation CrossEncoder would apply that this engine does not have, named for the error rerank raises */
  unsupportedActivation?: string;
}

/** Labels past this are refused: the classifier's rows are held against the weights file anyway. */
const MAX_LABELS = 100_000;

const ACTIVATIONS: Record<string, CrossEncoderActivation> = {
  'torch.nn.Sigmoid': 'sigmoid',
  'torch.nn.modules.activation.Sigmoid': 'sigmoid',
  'torch.nn.Identity': 'identity',
  'torch.nn.modules.linear.Identity': 'identity',
  'torch.nn.Tanh': 'tanh',
  'torch.nn.modules.activation.Tanh': 'tanh',
};

function configError(file: string, message: string): BertEmbedError {
  return new BertEmbedError(`${file}: ${message}`, 'ERR_MODEL_CONFIG');
}

function readLabels(file: string, raw: Record<string, unknown>): string[] {
  const id2label = raw.id2label;
  if (id2label !== undefined && id2label !== null) {
    if (typeof id2label !== 'object' || Array.isArray(id2label)) throw configError(file, expectationMessage('id2label', 'an object of id → label', id2label));
    const entries = Object.entries(id2label as Record<string, unknown>);
    if (entries.length === 0 || entries.length > MAX_LABELS) {
      throw configError(file, expectationMessage('id2label', `1 to ${MAX_LABELS} labels`, `${entries.length} labels`));
    }
    const labels = new Array<string>(entries.length);
    for (const [key, label] of entries) {
      const id = /^(0|[1-9]\d{0,8})$/.test(key) ? Number(key) : -1;
      if (id < 0 || id >= entries.length || labels[id] !== undefined) {
        throw configError(file, expectationMessage('id2label', `ids 0 to ${entries.length - 1}, each once`, key));
      }
      if (typeof label !== 'string') throw configError(file, expectationMessage(`id2label[${key}]`, 'string', label));
      labels[id] = label;
    }
    if (raw.num_labels !== undefined && raw.num_labels !== labels.length) {
      throw configError(file, `num_labels ${JSON.stringify(raw.num_labels)} disagrees with id2label's ${labels.length} labels`);
    }
    return labels;
  }
  // transformers' PretrainedConfig: num_labels without id2label names them LABEL_i; neither means 2.
  const count = raw.num_labels ?? 2;
  if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_LABELS) {
    throw configError(file, expectationMessage('num_labels', `integer from 1 to ${MAX_LABELS}`, count));
  }
  return Array.from({ length: count as number }, (_, i) => `LABEL_${i}`);
}

/** sentence-transformers 6's CrossEncoder.get_default_activation_fn, on config.json. */
function readActivation(file: string, raw: Record<string, unknown>, labelCount: number): Pick<ClassifierConfig, 'crossEncoderActivation' | 'unsupportedActivation'> {
  const settings = raw.sentence_transformers;
  let path: unknown;
  if (settings !== null && typeof settings === 'object' && !Array.isArray(settings) && 'activation_fn' in settings) {
    path = (settings as Record<string, unknown>).activation_fn;
  } else if (raw.sbert_ce_default_activation_function !== undefined && raw.sbert_ce_default_activation_function !== null) {
    path = raw.sbert_ce_default_activation_function; // before sentence-transformers 4
  }
  const byDefault: CrossEncoderActivation = labelCount === 1 ? 'sigmoid' : 'identity';
  if (path === undefined || path === null) return { crossEncoderActivation: byDefault };
  if (typeof path !== 'string') throw configError(file, expectationMessage('sentence_transformers.activation_fn', 'string', path));
  const known = ACTIVATIONS[path];
  if (known) return { crossEncoderActivation: known };
  // CrossEncoder imports only torch.* paths without trust_remote_code; anything else falls back to the default.
  if (!path.startsWith('torch.')) return { crossEncoderActivation: byDefault };
  return { crossEncoderActivation: byDefault, unsupportedActivation: path };
}

/** The classification settings of a Hugging Face config.json (undefined for a TensorFlow bert_config.json). */
export function readClassifierConfig(file: string, format: 'huggingface' | 'google'): ClassifierConfig | undefined {
  if (format !== 'huggingface') return undefined;
  const raw = readModelJsonFile(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined; // readBertConfig refuses it
  const fields = raw as Record<string, unknown>;
  const labels = readLabels(file, fields);
  const problemType = fields.problem_type ?? undefined;
  if (problemType !== undefined && !(PROBLEM_TYPES as readonly unknown[]).includes(problemType)) {
    throw configError(file, expectationMessage('problem_type', PROBLEM_TYPES.map((t) => `'${t}'`).join(', '), problemType));
  }
  return { labels, problemType: problemType as ProblemType | undefined, ...readActivation(file, fields, labels.length) };
}

/**
 * readClassifierConfig, with an invalid classification field kept as the error rather than thrown: a model loads for
 * everything else, and rerank / classify answer with the error (the fields are theirs alone).
 */
export function classifierSettings(file: string, format: 'huggingface' | 'google'): { classifier?: ClassifierConfig; error?: BertEmbedError } {
  try {
    return { classifier: readClassifierConfig(file, format) };
  } catch (error) {
    if (error instanceof BertEmbedError && error.code === 'ERR_MODEL_CONFIG') return { error };
    throw error;
  }
}
