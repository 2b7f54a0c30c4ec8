#!/usr/bin/python3
"""Tiny JSON-in / JSON-out helper for the reference tests (run with /usr/bin/python3, which has torch).

stdin: {"jobs": [job, ...]}, stdout: {"results": [result, ...]}. Jobs:
  {"op": "run", "model": "traced.pt", "input_ids": [[...]], "attention_mask": [[...]], "token_type_ids": [[...]]}
      -> {"last_hidden_state": [B][T][H], "pooler_output": [B][H], "hidden_states": [L+1][B][T][H]}
  {"op": "f16", "bits": [float32 bit patterns as uint32]}  -> {"bits": [binary16 bits]}   (numpy astype float16)
  {"op": "bf16", "bits": [float32 bit patterns as uint32]} -> {"bits": [bfloat16 bits]}  (torch .to(bfloat16))
"""

import json
import sys

import numpy as np
import torch


def run(job, cache):
    path = job['model']
    if path not in cache:
        m = torch.jit.load(path, map_location='cpu')
        m.eval()
        cache[path] = m
    m = cache[path]
    ids = torch.tensor(job['input_ids'], dtype=torch.long)
    mask = torch.tensor(job.get('attention_mask') or [[1] * len(r) for r in job['input_ids']], dtype=torch.long)
    types = torch.tensor(job.get('token_type_ids') or [[0] * len(r) for r in job['input_ids']], dtype=torch.long)
    with torch.no_grad():
        last, pooled, hidden = m(ids, mask, types)
    return {
        'last_hidden_state': last.double().tolist(),
        'pooler_output': pooled.double().tolist(),
        'hidden_states': [h.double().tolist() for h in hidden],
    }


def main():
    req = json.load(sys.stdin)
    cache = {}
    results = []
    for job in req['jobs']:
        op = job.get('op', 'run')
        if op == 'run':
            results.append(run(job, cache))
        elif op == 'f16':
            f = np.array(job['bits'], dtype=np.uint32).view(np.float32)
            with np.errstate(over='ignore', invalid='ignore'):
                h = f.astype(np.float16)
            results.append({'bits': h.view(np.uint16).astype(int).tolist()})
        elif op == 'bf16':
            f = torch.from_numpy(np.array(job['bits'], dtype=np.uint32).view(np.float32).copy())
            b = f.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
            results.append({'bits': b.astype(int).tolist()})
        else:
            raise ValueError(f'unknown op {op}')
    json.dump({'results': results}, sys.stdout)


if __name__ == '__main__':
    main()
