#!/usr/bin/env python3
"""transformers' BertForSequenceClassification (its text-classification pipeline) and sentence-transformers'
CrossEncoder as the reference of the classification head (run with .venv/bin/python).

stdin: {"jobs": [job, ...]}, stdout: {"results": [result, ...]}. Models run in float64 with 'eager' attention. A model
whose load report shows a missing or mismatched weight fails the run: nothing is ever scored with random weights that
are not the checkpoint's (the pooler and classifier.* included; names through scripts/bert-tensor-names.json).

  {"op": "pipeline", "model": DIR, "inputs": [text | [text, text_pair]], "max_length": N, "function_to_apply": opt}
      transformers' pipeline('text-classification', top_k=None) with truncation=True, max_length=N (longest_first for
      pairs), a pair given as {"text", "text_pair"}. -> per input {"labels": [{"label", "score"}] best first,
      "logits": [...], "ids": [...], "truncated": bool}
  {"op": "cross_encoder", "model": DIR, "pairs": [[query, document]], "max_length": N}
      sentence-transformers' CrossEncoder(DIR, max_length=N).predict(pairs) with its own activation (from config.json)
      -> {"scores": [...], "raw": [...] (activation_fn=Identity)}
"""

import os
import sys

os.environ.setdefault('TRANSFORMERS_VERBOSITY', 'error')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_NO_ADVISORY_WARNINGS', '1')

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts'))

import bert_tensor_names as names  # noqa: E402
from reference_jobs import load_float64, run_jobs  # noqa: E402
import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402
from transformers import BertForSequenceClassification, BertTokenizerFast, pipeline  # noqa: E402

CLASSIFIER = names.NAMES['sequenceClassificationHead']['classifier']['name']


def fail(message):
    print(f'hf_classify.py: {message}', file=sys.stderr)
    raise SystemExit(1)


def check_weights(model, directory):
    """Every parameter of the head (pooler, classifier) is the checkpoint's tensor, bit for bit."""
    with safe_open(os.path.join(directory, 'model.safetensors'), framework='pt') as f:
        stored = {names.canonical(n): f.get_tensor(n) for n in f.keys()}
    state = model.state_dict()
    for suffix in ('weight', 'bias'):
        for param, canonical in ((f'{CLASSIFIER}.{suffix}', f'{CLASSIFIER}.{suffix}'),
                                 (f'bert.{names.POOLER}.{suffix}', f'{names.POOLER}.{suffix}')):
            if canonical not in stored or not torch.equal(state[param].double(), stored[canonical].double()):
                fail(f'{directory}: {param} is not the checkpoint tensor {canonical}')


class Models:
    def __init__(self):
        self.cache = {}

    def classifier(self, directory):
        key = ('hf', directory)
        if key not in self.cache:
            model = load_float64(BertForSequenceClassification, directory, fail)
            check_weights(model, directory)
            self.cache[key] = (model, BertTokenizerFast.from_pretrained(directory))
        return self.cache[key]

    def cross_encoder(self, directory, max_length):
        key = ('ce', directory, max_length)
        if key not in self.cache:
            from sentence_transformers import CrossEncoder
            model = CrossEncoder(directory, max_length=max_length, device='cpu',
                                 model_kwargs={'attn_implementation': 'eager'})
            model.to(torch.float64)
            check_weights(model.model, directory)
            self.cache[key] = model
        return self.cache[key]


def run_pipeline(job, models):
    model, tokenizer = models.classifier(job['model'])
    max_length = job['max_length']
    classify = pipeline('text-classification', model=model, tokenizer=tokenizer, device='cpu')
    kwargs = {'top_k': None, 'truncation': True, 'max_length': max_length}
    if job.get('function_to_apply'):
        kwargs['function_to_apply'] = job['function_to_apply']
    results = []
    for item in job['inputs']:
        pair = isinstance(item, list)
        given = {'text': item[0], 'text_pair': item[1]} if pair else item
        labels = classify(given, **kwargs)
        encoded = tokenizer(*(item if pair else [item]), truncation=True, max_length=max_length, return_tensors='pt')
        full = tokenizer(*(item if pair else [item]))
        logits = model(**encoded).logits[0]
        results.append({
            'labels': [{'label': x['label'], 'score': float(x['score'])} for x in labels],
            'logits': [float(v) for v in logits],
            'ids': encoded['input_ids'][0].tolist(),
            'truncated': len(full['input_ids']) > max_length,
        })
    return results


def run_cross_encoder(job, models):
    model = models.cross_encoder(job['model'], job['max_length'])
    pairs = [tuple(p) for p in job['pairs']]
    scores = model.predict(pairs, batch_size=32, show_progress_bar=False)
    raw = model.predict(pairs, batch_size=32, show_progress_bar=False, activation_fn=torch.nn.Identity())
    return {'scores': [float(v) for v in scores], 'raw': [float(v) for v in raw]}


if __name__ == '__main__':
    run_jobs({'pipeline': run_pipeline, 'cross_encoder': run_cross_encoder}, Models())
