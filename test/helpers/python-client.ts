// What the tests of the Python client share: its scenario scripts run with .venv's Python outside the
// repository (so the package comes from pip, not from the checkout), and the vectors they send back.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { VENV_PYTHON } from '../reference/hf-mlm.js';

const execFileAsync = promisify(execFile);

/** The script's stdout, parsed as one JSON value. */
export async function runClientScript(script: string, args: string[], timeoutMs = 0): Promise<any> {
  const env = { ...process.env };
  delete env.PYTHONPATH;
  const { stdout } = await execFileAsync(VENV_PYTHON, [script, ...args], { cwd: os.tmpdir(), env, maxBuffer: 256 << 20, timeout: timeoutMs });
  return JSON.parse(stdout);
}

/** Vectors a script recorded as base64 of little-endian float32. */
export function float32OfBase64(value: { float32: string }): Float32Array {
  const bytes = Buffer.from(value.float32, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}
