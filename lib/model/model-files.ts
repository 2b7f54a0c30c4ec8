/** Which files of a model directory the engine uses, and refusing the ones it must not load. */
import fs from 'node:fs';
import path from 'node:path';
import { BertEmbedError } from '../errors.js';
import { DEFAULT_MODEL_FILE_OPTIONS, type ModelFileOptions } from '../options.js';

/** 'tf-checkpoint': a TensorFlow V2 checkpoint as Google released BERT (bert-as-service's model_dir). */
export type WeightsFormat = 'safetensors' | 'torchscript' | 'tf-checkpoint';

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
  /** config.json, or a TensorFlow checkpoint's bert_config.json (configFormat 'google') */
  configJson: string;
  configFormat: 'huggingface' | 'google';
  /** for 'tf-checkpoint', path is the checkpoint's .index file and checkpointPrefix the path without it */
  weights: { format: WeightsFormat; path: string; checkpointPrefix?: string };
  /** sentence-transformers files, when the directory has them */
  sentenceBertConfig?: string;
  poolingConfig?: string;
  modulesJson?: string;
}

const PICKLE_MESSAGE =
  'is a Python pickle, and loading a pickle can execute arbitrary code, so bert-embed-native refuses it. ' +
  'Convert it to safetensors once (python: `from safetensors.torch import save_file; ' +
  "save_file(torch.load('pytorch_model.bin'), 'model.safetensors')`) and load the directory again";

/** Why a model file that is there cannot be read, as a coded error naming it. */
function unreadableFileError(file: string, error: unknown): BertEmbedError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const because: Record<string, string> = {
    ELOOP: 'is a symbolic link loop (or a chain of links too long to follow)',
    EISDIR: 'is a directory',
    EACCES: 'cannot be read: permission denied',
    EPERM: 'cannot be read: operation not permitted',
    ENAMETOOLONG: 'is a path too long for the OS',
  };
  const reason = (code && because[code]) ?? `cannot be read (${code ?? (error as Error)?.message ?? String(error)})`;
  return new BertEmbedError(`${file} ${reason}; expected a readable file`, 'ERR_MODEL_LOAD', { cause: error });
}

function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * A model file as it is on disk: undefined when nothing is there, its stats when it is a regular
 * file, and a coded error naming it otherwise (a directory, a pipe, a symbolic-link loop, a link
 * to nothing), so that nothing later opens a directory or blocks on a pipe.
 */
export function probeModelFile(file: string): fs.Stats | undefined {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw unreadableFileError(file, error);
  }
  if (stat === undefined) {
    const link = fs.lstatSync(file, { throwIfNoEntry: false });
    if (link?.isSymbolicLink()) {
      throw new BertEmbedError(`${file} is a symbolic link to ${fs.readlinkSync(file)}, which does not exist`, 'ERR_MODEL_NOT_FOUND');
    }
    return undefined;
  }
  if (!stat.isFile()) throw new BertEmbedError(`${file} is ${kindOf(stat)}; expected a file`, 'ERR_MODEL_LOAD');
  return stat;
}

function existing(file: string): string | undefined {
  return probeModelFile(file) ? file : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A model's text file (JSON, vocab.txt): a regular file in valid UTF-8, as Python's loaders require. */
export function readModelTextFile(file: string): string {
  if (!probeModelFile(file)) throw new BertEmbedError(`${file} does not exist`, 'ERR_MODEL_NOT_FOUND');
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw unreadableFileError(file, error);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new BertEmbedError(`${file} is not valid UTF-8 text`, 'ERR_MODEL_CONFIG');
  }
}

/** A model's JSON file, parsed; a file that is not JSON is named with the parser's reason. */
export function readModelJsonFile(file: string): unknown {
  const text = readModelTextFile(file);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BertEmbedError(`${file} is not valid JSON: ${(error as Error).message}`, 'ERR_MODEL_CONFIG');
  }
}

const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');

/** TorchScript archives are zip files: anything else is refused here, not by libtorch's reader. */
function checkTorchScriptArchive(file: string): void {
  const head = Buffer.alloc(ZIP_MAGIC.length);
  let read = 0;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      read = fs.readSync(fd, head, 0, head.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    throw unreadableFileError(file, error);
  }
  if (read < head.length || !head.equals(ZIP_MAGIC)) {
    throw new BertEmbedError(
      `${file} is not a TorchScript archive: expected a zip file written by torch.jit.save or Encoder.export ` +
        '(or a Hugging Face model.safetensors beside config.json)',
      'ERR_MODEL_FORMAT',
    );
  }
}

function locateWeights(dir: string, explicitFile: string | undefined): ModelFiles['weights'] {
  if (explicitFile) {
    if (/\.(bin|pkl|pickle|pth|ckpt)$/.test(explicitFile)) {
      throw new BertEmbedError(`${explicitFile} ${PICKLE_MESSAGE}`, 'ERR_UNSAFE_FORMAT');
    }
    if (explicitFile.endsWith('.safetensors')) return { format: 'safetensors', path: explicitFile };
    checkTorchScriptArchive(explicitFile);
    return { format: 'torchscript', path: explicitFile };
  }
  const torchscript = existing(path.join(dir, 'model.pt'));
  if (torchscript) {
    checkTorchScriptArchive(torchscript);
    return { format: 'torchscript', path: torchscript };
  }
  const safetensors = existing(path.join(dir, 'model.safetensors'));
  if (safetensors) return { format: 'safetensors', path: safetensors };
  const pickle = existing(path.join(dir, 'pytorch_model.bin'));
  if (pickle) throw new BertEmbedError(`${pickle} ${PICKLE_MESSAGE}`, 'ERR_UNSAFE_FORMAT');
  throw new BertEmbedError(
    `${dir} holds no model weights: expected model.safetensors (a Hugging Face checkpoint), model.pt ` +
      '(exported by bert-embed-native, or traced from Hugging Face BertModel) or bert_model.ckpt.index (a TensorFlow checkpoint, as bert-as-service loads it)',
    'ERR_MODEL_NOT_FOUND',
  );
}

/** The TensorFlow checkpoint `name` in `dir` (bert_model.ckpt: bert_model.ckpt.index and its data shards), if there. */
function tfCheckpointIn(dir: string, name: string): ModelFiles['weights'] | undefined {
  const prefix = path.resolve(dir, name);
  const index = existing(`${prefix}.index`);
  return index ? { format: 'tf-checkpoint', path: index, checkpointPrefix: prefix } : undefined;
}

/**
 * bert-as-service's model_dir: Google's bert_config.json, vocab.txt and a TensorFlow checkpoint. As
 * its graph.py does, the checkpoint comes from tunedModelDir when given (a fine-tuned copy), the
 * config and the vocabulary always from the model directory.
 */
function tfModelFiles(dir: string, weights: ModelFiles['weights'], fileOptions: ModelFileOptions): ModelFiles {
  const configJson = path.resolve(dir, fileOptions.configName);
  if (!probeModelFile(configJson)) {
    throw new BertEmbedError(
      `${dir} has no ${fileOptions.configName}: a TensorFlow BERT checkpoint (${weights.path}) needs Google's config beside it (configName)`,
      'ERR_MODEL_NOT_FOUND',
    );
  }
  return { dir, configJson, configFormat: 'google', weights };
}

/**
 * `modelPath` is a model directory, or a weights file inside one (model.safetensors, model.pt,
 * a traced TorchScript file, or a TensorFlow checkpoint's .index) whose config and vocabulary lie
 * beside it. A directory with model.pt or model.safetensors is a Hugging Face (or exported) model;
 * one with a TensorFlow checkpoint instead, or any directory given a tunedModelDir or a ckptName of
 * its own, is bert-as-service's model_dir.
 */
export function locateModelFiles(modelPath: string, fileOptions: ModelFileOptions = DEFAULT_MODEL_FILE_OPTIONS): ModelFiles {
  const resolved = path.resolve(modelPath);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(resolved, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw unreadableFileError(resolved, error);
  }
  if (stat === undefined) {
    // A link to nothing is named as such; a plain missing path as before.
    probeModelFile(resolved);
    throw new BertEmbedError(`Model path ${resolved} does not exist`, 'ERR_MODEL_NOT_FOUND');
  }
  if (!stat.isDirectory()) probeModelFile(resolved);
  const dir = stat.isDirectory() ? resolved : path.dirname(resolved);
  if (!stat.isDirectory() && resolved.endsWith('.index')) {
    return tfModelFiles(dir, { format: 'tf-checkpoint', path: resolved, checkpointPrefix: resolved.slice(0, -'.index'.length) }, fileOptions);
  }
  if (stat.isDirectory() && (fileOptions.tunedModelDir !== undefined || fileOptions.ckptName !== DEFAULT_MODEL_FILE_OPTIONS.ckptName)) {
    const checkpointDir = path.resolve(fileOptions.tunedModelDir ?? dir);
    const weights = tfCheckpointIn(checkpointDir, fileOptions.ckptName);
    if (!weights) {
      throw new BertEmbedError(
        `${path.resolve(checkpointDir, fileOptions.ckptName)}.index does not exist: expected the TensorFlow checkpoint ${fileOptions.ckptName} in ${checkpointDir}` +
          (fileOptions.tunedModelDir !== undefined ? ' (tunedModelDir)' : ''),
        'ERR_MODEL_NOT_FOUND',
      );
    }
    return tfModelFiles(dir, weights, fileOptions);
  }
  const hasHuggingFaceWeights = stat.isDirectory() && (existing(path.join(dir, 'model.pt')) || existing(path.join(dir, 'model.safetensors')));
  const tfWeights = stat.isDirectory() && !hasHuggingFaceWeights ? tfCheckpointIn(dir, fileOptions.ckptName) : undefined;
  if (tfWeights) return tfModelFiles(dir, tfWeights, fileOptions);
  const weights = locateWeights(dir, stat.isDirectory() ? undefined : resolved);
  const configJson = path.join(dir, 'config.json');
  if (!probeModelFile(configJson)) {
    throw new BertEmbedError(`${dir} has no config.json: a BERT model directory needs its Hugging Face config.json`, 'ERR_MODEL_NOT_FOUND');
  }
  return {
    dir,
    configJson,
    configFormat: 'huggingface',
    weights,
    sentenceBertConfig: existing(path.join(dir, 'sentence_bert_config.json')),
    poolingConfig: existing(path.join(dir, '1_Pooling', 'config.json')),
    modulesJson: existing(path.join(dir, 'modules.json')),
  };
}
