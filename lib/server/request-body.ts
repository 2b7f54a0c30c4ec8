/**
 * Reads a request body within a size limit and a deadline, as UTF-8 JSON: 413 past the limit,
 * 408 past the deadline, 400 if not JSON.
 */
import type { IncomingMessage } from 'node:http';
import { httpError } from './http-error.js';

export interface BodyLimits {
  /** the most bytes a body may have (--max-body-bytes) */
  maxBytes: number;
  /** performance.now() by which the whole body must have arrived (--request-timeout) */
  deadline: number;
  /** the deadline's length, for the message */
  timeoutMs: number;
}

/**
 * Past the limit the rest of the body is drained, not read into memory, and the error is thrown at
 * once: the server answers 413 and closes the connection while the client is still sending. Past
 * the deadline (a client trickling its body) the server answers 408 and closes the connection.
 */
function readBody(request: IncomingMessage, { maxBytes, deadline, timeoutMs }: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      clearTimeout(timer);
      request.off('data', onData);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      stop();
      request.resume();
      reject(httpError('ERR_BODY_TOO_LARGE', `the body is over the limit of ${maxBytes} bytes (--max-body-bytes)`, { closeConnection: true }));
    };
    const timer = setTimeout(() => {
      stop();
      const declared = request.headers['content-length'];
      const received = declared === undefined ? `${size} bytes` : `${size} of ${declared} bytes`;
      reject(httpError('ERR_REQUEST_TIMEOUT', `Expected the whole body within ${timeoutMs / 1000} s (--request-timeout) but received ${received}`, { closeConnection: true }));
    }, Math.max(0, deadline - performance.now()));
    request.on('data', onData);
    request.once('end', () => {
      stop();
      resolve(Buffer.concat(chunks));
    });
    request.once('error', (error) => {
      stop();
      reject(error);
    });
  });
}

export async function readJsonBody(request: IncomingMessage, limits: BodyLimits): Promise<unknown> {
  const declared = Number(request.headers['content-length']);
  if (declared > limits.maxBytes) {
    request.resume();
    throw httpError('ERR_BODY_TOO_LARGE', `the body has ${declared} bytes, over the limit of ${limits.maxBytes} (--max-body-bytes)`, { closeConnection: true });
  }
  const bytes = await readBody(request, limits);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw httpError('ERR_INVALID_UTF8', 'the body is not valid UTF-8');
  }
  if (text.trim() === '') throw httpError('ERR_MALFORMED_JSON', 'the body is empty; expected a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw httpError('ERR_MALFORMED_JSON', `the body is not valid JSON: ${(error as Error).message}`);
  }
}
