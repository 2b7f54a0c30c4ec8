"""The request loop the reference scripts share: {"jobs": [...]} on stdin, {"results": [...]} on stdout."""
import json
import sys

import torch


def run_jobs(ops, models):
    """Run each job through ops[job['op']](job, models), in order; an unknown op fails the whole request."""
    torch.set_grad_enabled(False)
    request = json.load(sys.stdin)
    results = []
    for job in request['jobs']:
        op = job.get('op')
        if op not in ops:
            sys.stderr.write(f'unknown op {op!r}\n')
            sys.exit(2)
        results.append(ops[op](job, models))
    json.dump({'results': results}, sys.stdout, allow_nan=False)


def load_float64(model_class, directory, fail):
    """A checkpoint as transformers loads it, then in float64 for the reference; refused when a weight would be random."""
    model, info = model_class.from_pretrained(directory, dtype=torch.float32, output_loading_info=True, attn_implementation='eager')
    if info['missing_keys'] or info.get('mismatched_keys') or info.get('error_msgs'):
        fail(f'{directory}: weights missing from the checkpoint would be random: {info}')
    return model.to(torch.float64).eval()
