// numpy's own reading of a .npy file the CLI wrote (Debian's python3-numpy, installed by `npm run setup`).
import { execFileSync } from 'node:child_process';

/** numpy's view of a .npy file: shape, dtype and values. */
export function loadNpy(file: string): { shape: number[]; dtype: string; data: Float32Array } {
  const script = 'import json,sys,numpy; a=numpy.load(sys.argv[1]); print(json.dumps({"shape":list(a.shape),"dtype":str(a.dtype),"data":a.ravel().tolist()}))';
  const parsed = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, file], { maxBuffer: 1 << 28 }).toString()) as { shape: number[]; dtype: string; data: number[] };
  return { ...parsed, data: Float32Array.from(parsed.data) };
}
