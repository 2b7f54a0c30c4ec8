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
  const weights = locateWeights(dir, stat.isDirectory() ? undefined : resolved);
  const configJson = path.join(dir, 'config.json');
  if (!probeModelFile(configJson)) {
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
