#!/usr/bin/env python3
"""The Python peers of bench/mlm.mjs: pseudo-log-likelihood scoring (metric 'original': one masked copy per token,
every token but [CLS]/[SEP]) with Hugging Face transformers' BertForMaskedLM, run with .venv/bin/python.

usage: .venv/bin/python bench/mlm_peer.py --mode naive|gather --model CHECKPOINT_DIR [--threads N] [--max-length 128]
       [--batch 32]
Kept open by bench/mlm.mjs: one JSON line on stdout per JSON line on stdin (transformers' own messages go to stderr):
  {"op": "check", "texts": [...], "logprobs": [[ours, per scored token]]} -> {"max", "mean"}: |difference| to ours
  {"op": "score", "texts": [...]} -> {"seconds", "scored"}: the timed part
  {"op": "exit"} -> {"threads", "versions", "maxRssMiB"}

naive:  the straightforward way. Per sentence, all its masked copies in one batch through BertForMaskedLM: full
        logits [copies, T, vocab], log_softmax over the vocabulary, the target's entry picked at each copy's mask.
gather: the gather-before-the-head trick of awslabs/mlm-scoring (Salazar et al. 2020). The copies of all sentences,
        sorted by length, `batch` at a time (padded, attention-masked): model.bert on the batch, the hidden state at
        each copy's masked position gathered, only those through model.cls, log_softmax, the target picked.
Both tokenize with BertTokenizerFast (truncation at max_length) inside the timed part, under inference_mode, with
torch.set_num_threads(--threads). bench/mlm.mjs sends the check first (also the warm-up) and stops the run before
any timing when a log-probability is more than 1e-3 away from ours.
"""

import argparse
import json
import os
import resource
import sys
import time

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_VERBOSITY', 'error')

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import BertForMaskedLM, BertTokenizerFast  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.disable_progress_bar()


def copies_of(tokenizer, texts, max_length):
    """Per sentence: its ids and, for each scored position, the position (1 .. T-2)."""
    encoded = tokenizer(texts, truncation=True, max_length=max_length)['input_ids']
    return [(ids, list(range(1, len(ids) - 1))) for ids in encoded]


def score_naive(model, tokenizer, texts, max_length, batch):
    mask_id = tokenizer.mask_token_id
    results = []
    for ids, positions in copies_of(tokenizer, texts, max_length):
        ids = torch.tensor(ids)
        scored = torch.tensor(positions)
        rows = torch.arange(len(positions))
        copies = ids.repeat(len(positions), 1)
        copies[rows, scored] = mask_id
        logits = model(input_ids=copies, attention_mask=torch.ones_like(copies), token_type_ids=torch.zeros_like(copies)).logits
        logprobs = torch.log_softmax(logits, dim=-1)
        results.append(logprobs[rows, scored, ids[scored]].tolist())
    return results


def score_gather(model, tokenizer, texts, max_length, batch):
    mask_id = tokenizer.mask_token_id
    sentences = copies_of(tokenizer, texts, max_length)
    copies = [(s, k) for s, (_, positions) in enumerate(sentences) for k in range(len(positions))]
    copies.sort(key=lambda copy: len(sentences[copy[0]][0]))
    results = [[0.0] * len(positions) for _, positions in sentences]
    for start in range(0, len(copies), batch):
        chunk = copies[start:start + batch]
        length = max(len(sentences[s][0]) for s, _ in chunk)
        input_ids = torch.zeros(len(chunk), length, dtype=torch.long)
        attention_mask = torch.zeros(len(chunk), length, dtype=torch.long)
        positions = torch.zeros(len(chunk), dtype=torch.long)
        targets = torch.zeros(len(chunk), dtype=torch.long)
        for row, (s, k) in enumerate(chunk):
            ids, scored = sentences[s]
            input_ids[row, :len(ids)] = torch.tensor(ids)
            attention_mask[row, :len(ids)] = 1
            positions[row] = scored[k]
            targets[row] = ids[scored[k]]
        input_ids[torch.arange(len(chunk)), positions] = mask_id
        hidden = model.bert(input_ids=input_ids, attention_mask=attention_mask,
                            token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
        logits = model.cls(hidden[torch.arange(len(chunk)), positions])  # [batch, vocab]
        picked = torch.log_softmax(logits, dim=-1).gather(1, targets[:, None])[:, 0].tolist()
        for (s, k), value in zip(chunk, picked):
            results[s][k] = value
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--mode', choices=['naive', 'gather'], required=True)
    parser.add_argument('--model', required=True)
    parser.add_argument('--threads', type=int, default=os.cpu_count())
    parser.add_argument('--max-length', type=int, default=128)
    parser.add_argument('--batch', type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = BertForMaskedLM.from_pretrained(args.model, dtype=torch.float32).eval()
    tokenizer = BertTokenizerFast.from_pretrained(args.model)
    score = score_naive if args.mode == 'naive' else score_gather

    def reply(value):
        sys.stdout.write(json.dumps(value) + '\n')
        sys.stdout.flush()

    with torch.inference_mode():
        for line in sys.stdin:
            message = json.loads(line)
            if message['op'] == 'check':
                differences = []
                for theirs, ours in zip(score(model, tokenizer, message['texts'], args.max_length, args.batch), message['logprobs']):
                    if len(theirs) != len(ours):
                        sys.exit(f'mlm_peer.py {args.mode}: {len(theirs)} scored tokens where ours has {len(ours)}')
                    differences += [abs(a - b) for a, b in zip(theirs, ours)]
                reply({'max': max(differences), 'mean': sum(differences) / len(differences)})
            elif message['op'] == 'score':
                started = time.perf_counter()
                scored = score(model, tokenizer, message['texts'], args.max_length, args.batch)
                reply({'seconds': time.perf_counter() - started, 'scored': sum(len(s) for s in scored)})
            else:
                reply({
                    'threads': f'{torch.get_num_threads()} intra-op ({model.config._attn_implementation} attention)',
                    'versions': f'torch {torch.__version__}, transformers {transformers.__version__}',
                    'maxRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                })
                return


if __name__ == '__main__':
    main()
