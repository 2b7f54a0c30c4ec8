/** Reads a request body within a size limit, as UTF-8 JSON: 413 past the limit, 400 if not JSON. */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

/**
 * Past the limit the rest of the body is drained, not read into memory, and the error is thrown at
 * once: the server answers 413 and closes the connection while the client is still sending.
 */
function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      request.off('data', onData);
      request.resume();
      reject(new HttpError(413, 'ERR_BODY_TOO_LARGE', `the body is over the limit of ${maxBytes} bytes (--max-body-bytes)`));
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

export async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers['content-length']);
  if (declared > maxBytes) {
    request.resume();
    throw new HttpError(413, 'ERR_BODY_TOO_LARGE', `the body has ${declared} bytes, over the limit of ${maxBytes} (--max-body-bytes)`);
  }
  const bytes = await readBody(request, maxBytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, 'ERR_INVALID_UTF8', 'the body is not valid UTF-8');
  }
  if (text.trim() === '') throw new HttpError(400, 'ERR_MALFORMED_JSON', 'the body is empty; expected a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'ERR_MALFORMED_JSON', `the body is not valid JSON: ${(error as Error).message}`);
  }
}
