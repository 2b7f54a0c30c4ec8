/**
 * `--model org/name`: a Hugging Face repo id, downloaded once into a cache and then used offline.
 * Files come from `{endpoint}/{repo}/resolve/{revision}/{file}` (the hub's layout) and are checked
 * against the hub's ETag: sha256 for large (LFS) files, the git blob sha1 for the others.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BertEmbedError } from '../errors.js';
import { COMPANION_FILES } from '../model/model-files.js';

export const DEFAULT_HUB = 'https://huggingface.co';

const REQUIRED_FILES: readonly string[] = ['config.json', 'model.safetensors'];
const OPTIONAL_FILES = COMPANION_FILES.filter((file) => !REQUIRED_FILES.includes(file));
const COMPLETE_MARKER = '.complete.json';

export interface HubOptions {
  /** default: BERT_EMBED_HUB, else the public hub */
  endpoint?: string;
  /** default: BERT_EMBED_CACHE, else ~/.cache/bert-embed */
  cacheDir?: string;
  revision?: string;
  /** called as bytes of a file arrive */
  onProgress?: (file: string, received: number, total: number | undefined) => void;
  onFileDone?: (file: string) => void;
  /** stops the download (its partial file removed); the promise rejects with the signal's reason */
  signal?: AbortSignal;
}

/**
 * One part of a repo id as the hub names them (huggingface_hub's validate_repo_id): letters,
 * digits, '-', '_', '.', at most 96, starting and ending with a letter, digit or '_'; no '--' (the
 * cache's separator) and no '..'.
 */
const REPO_PART = /^(?:[A-Za-z0-9_]|[A-Za-z0-9_][A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])$/;
/** One part of a revision (a branch, tag or commit; '/' separates parts, as in refs/pr/1). */
const REVISION_PART = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Why `repo` is not a hub repo id ('org/name' or 'name'), or undefined when it is one. */
export function hubRepoIdProblem(repo: unknown): string | undefined {
  if (typeof repo !== 'string') return 'a string';
  const parts = repo.split('/');
  if (parts.length > 2) return "at most one '/' (org/name)";
  if (repo.includes('--') || repo.includes('..')) return "no '--' or '..'";
  if (!parts.every((part) => REPO_PART.test(part))) return "letters, digits, '-', '_' and '.' (at most 96 per part, not starting or ending with '-' or '.')";
  return undefined;
}

/** Why `revision` is not a hub revision, or undefined when it is one. */
export function hubRevisionProblem(revision: unknown): string | undefined {
  if (typeof revision !== 'string') return 'a string';
  if (revision.length === 0 || revision.length > 255) return 'from 1 to 255 characters';
  if (revision.includes('..')) return "no '..'";
  if (!revision.split('/').every((part) => REVISION_PART.test(part))) {
    return "letters, digits, '-', '_' and '.', in parts separated by single '/' (refs/pr/1), none starting with '.' or '-'";
  }
  return undefined;
}

/** Throws a RangeError unless `repo` is a hub repo id: 'org/name' or 'name'. */
export function checkHubRepoId(repo: unknown, name = 'repo'): asserts repo is string {
  const problem = hubRepoIdProblem(repo);
  if (problem) throw new RangeError(`Expected a Hugging Face repo id (org/name: ${problem}) for ${name} but received ${JSON.stringify(repo)}`);
}

/** Throws a RangeError unless `revision` is a hub revision: a branch, tag or commit. */
export function checkHubRevision(revision: unknown, name = 'revision'): asserts revision is string {
  const problem = hubRevisionProblem(revision);
  if (problem) throw new RangeError(`Expected a hub revision (a branch, tag or commit: ${problem}) for ${name} but received ${JSON.stringify(revision)}`);
}

/**
 * 'org/name' (or 'name') shaped like a repo id, not a path that exists. A string that has the
 * shape but not the hub's rules ('a--b/c') is still taken as one, so that fetchHubModel says why.
 */
export function isHubRepoId(model: string): boolean {
  return /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/.test(model) && !fs.existsSync(model);
}

export function defaultCacheDir(): string {
  return process.env.BERT_EMBED_CACHE ?? path.join(os.homedir(), '.cache', 'bert-embed');
}

function expectedDigest(headers: Headers): string | undefined {
  const tag = headers.get('x-linked-etag') ?? headers.get('etag');
  const match = tag?.match(/^(?:W\/)?"?([0-9a-f]{40}|[0-9a-f]{64})"?$/i);
  return match?.[1].toLowerCase();
}

async function fileDigests(file: string): Promise<{ sha256: string; gitSha1: string }> {
  const size = fs.statSync(file).size;
  const sha256 = crypto.createHash('sha256');
  const gitSha1 = crypto.createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of fs.createReadStream(file)) {
    sha256.update(chunk as Buffer);
    gitSha1.update(chunk as Buffer);
  }
  return { sha256: sha256.digest('hex'), gitSha1: gitSha1.digest('hex') };
}

function unreachable(url: string, error: unknown): BertEmbedError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  return new BertEmbedError(
    `cannot reach ${new URL(url).origin} to download ${url} (${reason}); without network, pass a local model directory: --model /path/to/model`,
    'ERR_HUB_UNREACHABLE',
    { cause: error },
  );
}

/** GET, following redirects by hand so that the first response's checksum headers are kept. */
async function request(url: string, signal: AbortSignal | undefined): Promise<{ response: Response; digest: string | undefined }> {
  let digest: string | undefined;
  let current = url;
  for (let hops = 0; hops < 10; hops++) {
    let response: Response;
    try {
      response = await fetch(current, { redirect: 'manual', headers: { 'user-agent': 'bert-embed-native' }, signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw unreachable(url, error);
    }
    digest ??= expectedDigest(response.headers);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current).href;
      continue;
    }
    return { response, digest };
  }
  throw new BertEmbedError(`${url}: too many redirects`, 'ERR_HUB');
}

/** Downloads one file; false when the hub has no such file (404). */
async function downloadFile(url: string, file: string, target: string, options: HubOptions): Promise<boolean> {
  const { response, digest } = await request(url, options.signal);
  if (response.status === 404) {
    await response.body?.cancel();
    return false;
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new BertEmbedError(`${url}: the hub answered HTTP ${response.status} ${response.statusText}`, 'ERR_HUB');
  }
  const total = Number(response.headers.get('content-length')) || undefined;
  const partial = `${target}.partial`;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const out = fs.createWriteStream(partial);
  let received = 0;
  try {
    for await (const chunk of response.body) {
      received += chunk.byteLength;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      options.onProgress?.(file, received, total);
    }
  } catch (error) {
    out.destroy();
    fs.rmSync(partial, { force: true });
    if (options.signal?.aborted) throw options.signal.reason;
    throw unreachable(url, error);
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  if (total !== undefined && received !== total) {
    fs.rmSync(partial, { force: true });
    throw new BertEmbedError(`${url}: the download stopped at ${received} of ${total} bytes`, 'ERR_HUB');
  }
  if (digest) {
    const { sha256, gitSha1 } = await fileDigests(partial);
    if (digest !== (digest.length === 64 ? sha256 : gitSha1)) {
      fs.rmSync(partial, { force: true });
      throw new BertEmbedError(
        `${url}: checksum mismatch (the hub says ${digest}, the download is ${digest.length === 64 ? sha256 : gitSha1}); the file was discarded`,
        'ERR_CHECKSUM',
      );
    }
  }
  fs.renameSync(partial, target);
  options.onFileDone?.(file);
  return true;
}

/** The local directory of a hub model, downloading it first unless the cache already has it. */
export async function fetchHubModel(repo: string, options: HubOptions = {}): Promise<string> {
  // Both become parts of the cache path and of the URLs: checked before anything is built or asked.
  checkHubRepoId(repo);
  const revision = options.revision ?? 'main';
  checkHubRevision(revision);
  const endpoint = (options.endpoint ?? process.env.BERT_EMBED_HUB ?? DEFAULT_HUB).replace(/\/+$/, '');
  const cacheRoot = path.resolve(options.cacheDir ?? defaultCacheDir());
  const dir = path.join(cacheRoot, repo.replaceAll('/', '--'), ...revision.split('/'));
  if (path.relative(cacheRoot, dir).split(path.sep).includes('..')) throw new RangeError(`${repo} at ${revision} would be cached outside ${cacheRoot}`);
  if (fs.existsSync(path.join(dir, COMPLETE_MARKER))) return dir;

  const fetched: string[] = [];
  for (const file of [...REQUIRED_FILES, ...OPTIONAL_FILES]) {
    const url = `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${file}`;
    if (await downloadFile(url, file, path.join(dir, file), options)) {
      fetched.push(file);
    } else if (REQUIRED_FILES.includes(file)) {
      throw new BertEmbedError(
        `${repo} has no ${file} at revision ${revision} on ${endpoint} (HTTP 404): check the repo id, or pass a local model directory`,
        'ERR_HUB_NOT_FOUND',
      );
    }
  }
  if (!fetched.includes('vocab.txt') && !fetched.includes('tokenizer.json')) {
    throw new BertEmbedError(`${repo} has neither vocab.txt nor tokenizer.json: not a BERT WordPiece model`, 'ERR_HUB_NOT_FOUND');
  }
  fs.writeFileSync(path.join(dir, COMPLETE_MARKER), JSON.stringify({ repo, revision, endpoint, files: fetched, at: new Date().toISOString() }, null, 2));
  return dir;
}
