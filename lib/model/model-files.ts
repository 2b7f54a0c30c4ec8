/** Which files of a model directory the engine uses, and refusing the ones it must not load. */
import fs from 'node:fs';
import path from 'node:path';
import { BertEmbedError } from '../errors.js';

export type WeightsFormat = 'safetensors' | 'torchscript';

/** Every file of a model directory but its weights: what an export copies and a hub download fetches. */
export const COMPANION_FILES = [
  'config.json',
  'vocab.txt',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'sentence_bert_config.json',
  'modules.json',
  '1_Pooling/config.json',
] as const;

export interface ModelFiles {
  dir: string;
  configJson: string;
  weights: { format: WeightsFormat; path: string };
  /** sentence-transformers files, when the directory has them */
  sentenceBertConfig?: string;
  poolingConfig?: string;
  modulesJson?: string;
}

const PICKLE_MESSAGE =
  'is a Python pickle, and loading a pickle can execute arbitrary code, so bert-embed-native refuses it. ' +
  'Convert it to safetensors once (python: `from safetensors.torch import save_file; ' +
  "save_file(torch.load('pytorch_model.bin'), 'model.safetensors')`) and load the directory again";

function existing(file: string): string | undefined {
  return fs.existsSync(file) ? file : undefined;
}

function locateWeights(dir: string, explicitFile: string | undefined): ModelFiles['weights'] {
  if (explicitFile) {
    if (/\.(bin|pkl|pickle|pth|ckpt)$/.test(explicitFile)) {
      throw new BertEmbedError(`${explicitFile} ${PICKLE_MESSAGE}`, 'ERR_UNSAFE_FORMAT');
    }
    return { format: explicitFile.endsWith('.safetensors') ? 'safetensors' : 'torchscript', path: explicitFile };
  }
  const torchscript = existing(path.join(dir, 'model.pt'));
  if (torchscript) return { format: 'torchscript', path: torchscript };
  const safetensors = existing(path.join(dir, 'model.safetensors'));
  if (safetensors) return { format: 'safetensors', path: safetensors };
  const pickle = existing(path.join(dir, 'pytorch_model.bin'));
  if (pickle) throw new BertEmbedError(`${pickle} ${PICKLE_MESSAGE}`, 'ERR_UNSAFE_FORMAT');
  throw new BertEmbedError(
    `${dir} holds no model weights: expected model.safetensors (a Hugging Face checkpoint) or model.pt ` +
      '(exported by bert-embed-native, or traced from Hugging Face BertModel)',
    'ERR_MODEL_NOT_FOUND',
  );
}

/**
 * `modelPath` is a model directory, or a weights file inside one (model.safetensors, model.pt,
 * or a traced TorchScript file) whose config.json and vocabulary lie beside it.
 */
export function locateModelFiles(modelPath: string): ModelFiles {
  const resolved = path.resolve(modelPath);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch {
    throw new BertEmbedError(`Model path ${resolved} does not exist`, 'ERR_MODEL_NOT_FOUND');
  }
  const dir = stat.isDirectory() ? resolved : path.dirname(resolved);
  const weights = locateWeights(dir, stat.isDirectory() ? undefined : resolved);
  const configJson = path.join(dir, 'config.json');
  if (!fs.existsSync(configJson)) {
    throw new BertEmbedError(`${dir} has no config.json: a BERT model directory needs its Hugging Face config.json`, 'ERR_MODEL_NOT_FOUND');
  }
  return {
    dir,
    configJson,
    weights,
    sentenceBertConfig: existing(path.join(dir, 'sentence_bert_config.json')),
    poolingConfig: existing(path.join(dir, '1_Pooling', 'config.json')),
    modulesJson: existing(path.join(dir, 'modules.json')),
  };
}

/** Reads a JSON file, naming the file when it is not JSON. */
export function readJsonFile(file: string): unknown {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BertEmbedError(`${file} is not valid JSON: ${(error as Error).message}`, 'ERR_MODEL_CONFIG');
  }
}
