#!/usr/bin/env python3
"""Hugging Face transformers' BertForMaskedLM as the reference of the masked-LM head (run with .venv/bin/python,
which `npm run setup` creates: Debian's python3 with torch and transformers from pip).

stdin: {"jobs": [job, ...]}, stdout: {"results": [result, ...]} (nothing else goes to stdout; transformers' own
messages go to stderr). Every job names its checkpoint directory as "model" and may ask for "dtype": "float64"
(default "float32"): the model is loaded once per (directory, dtype) with BertForMaskedLM.from_pretrained and
BertTokenizerFast.from_pretrained. A model whose load report shows a missing or mismatched weight, or any weight
(the head's cls.* included) that is not the checkpoint's own tensor (or, for the absent decoder, the tensor it is
tied to: the word embeddings and cls.predictions.bias), fails the run: nothing is ever scored with randomly
initialized weights. Unused encoder-side tensors (the pooler, position_ids) are fine: BertForMaskedLM has no pooler.
Attention is transformers' 'eager' implementation (an explicit softmax; the same in float64).

Texts may be sentence pairs written "A ||| B". Jobs:

  {"op": "score", "model": DIR, "texts": [...], "metric": "original"|"within_word_l2r"|"whole_word",
   "max_length": N (default 512)}
      Pseudo-log-likelihood. Tokenized with truncation=True, max_length=N (longest_first for pairs). Scored tokens:
      every token between [CLS] and the final [SEP] except a pair's middle [SEP] (sequence id not None). Words are
      (sequence id, word id) groups of word_ids(). One masked copy per scored token: `original` masks the token,
      `within_word_l2r` masks the token and the later pieces of its word; `whole_word` makes one copy per word with
      all its pieces masked and scores each piece from that copy. All copies of a text run through BertForMaskedLM's
      encoder as one batch (split only when its attention scores would pass ~1 GiB), its head (cls) maps the hidden
      states at the scored positions to full-vocabulary logits; log_softmax in the model's dtype.
      -> per text {"ids", "type_ids", "tokens", "offsets": [[start, end]] (all tokens, [0, 0] for specials),
                   "positions": [scored token indices], "logprobs": [per scored token],
                   "ranks": [1 + number of vocab ids with a strictly higher logit], "word_of": [word index per
                   scored token], "words": [[token indices of each word]], "word_logprobs": [sum per word],
                   "total": sum of logprobs, "truncated": bool}
  {"op": "fill_mask", "model": DIR, "texts": [...], "top_k": 5, "targets": [str, ...] (optional),
   "max_length": N (optional: truncation)}
      Single sentences go through transformers' pipeline('fill-mask') itself (one or more [MASK]s); pairs, which the
      pipeline cannot take, through the same computation written out here.
      -> per text {"masks": [{"position", "candidates": [{"token": id, "score": prob, "token_str", "sequence"}]}]}
  {"op": "sparse", "model": DIR, "texts": [...], "max_length": N (default 512)}
      text-embeddings-inference's SPLADE pooling on BertForMaskedLM's logits: max over the (attention-masked) tokens
      of log(1 + relu(logits)). -> per text {"indices": [ascending vocab ids], "values": [...]} of nonzero entries.
  {"op": "logits_at", "model": DIR, "input_ids": [[...]], "token_type_ids": [[...]] (default 0),
   "attention_mask": [[...]] (default 1 for each given id; ragged rows are padded), "positions": [[...]],
   "targets": [[...]] (one target id per position), "full": false}
      -> {"logprobs": [[log p(target) at each position]], "ranks": [[...]], "logits": [[logit of target]],
          "full": [[[log-probs over the vocabulary]]] only with "full": true}
"""

import copy
import json
import os
import sys

os.environ.setdefault('TRANSFORMERS_VERBOSITY', 'warning')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_NO_ADVISORY_WARNINGS', '1')

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts'))

import bert_tensor_names as names  # noqa: E402  (scripts/bert-tensor-names.json: the tensor names, spelled once)
from reference_jobs import run_jobs  # noqa: E402
import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402
from transformers import BertForMaskedLM, BertTokenizerFast, pipeline  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.disable_progress_bar()

DTYPES = {'float32': torch.float32, 'float64': torch.float64}
LOGITS_BUDGET = 1 << 28  # elements of one forward pass's logits (1 GiB of float32)


def fail(message):
    print(f'hf_mlm.py: {message}', file=sys.stderr)
    raise SystemExit(1)


def canonical(name):
    """Checkpoint tensor name -> BertForMaskedLM parameter name."""
    return names.masked_lm_name(names.canonical(name))


def safetensors_files(directory):
    single = os.path.join(directory, 'model.safetensors')
    if os.path.exists(single):
        return [single]
    index = os.path.join(directory, 'model.safetensors.index.json')
    if os.path.exists(index):
        with open(index) as f:
            return [os.path.join(directory, n) for n in sorted(set(json.load(f)['weight_map'].values()))]
    return []


def check_head(model, directory, info):
    """No weight may be missing or mismatched, and every parameter (the head's cls.* included) must be the
    checkpoint's tensor, or the one it is tied to, bit for bit."""
    print(f'hf_mlm.py: {directory}: missing {sorted(info["missing_keys"])}, unexpected {sorted(info["unexpected_keys"])}, '
          f'mismatched {sorted(info.get("mismatched_keys") or [])}', file=sys.stderr)
    if info['missing_keys'] or info.get('mismatched_keys') or info.get('error_msgs'):
        fail(f'{directory}: weights missing from the checkpoint would be random: {info}')
    bad = [k for k in info['unexpected_keys']
           if not k.removeprefix(names.ENCODER_PREFIX).startswith(names.UNUSED_BY_MASKED_LM)]
    if bad:
        fail(f'{directory}: checkpoint tensors the model did not take: {bad}')
    files = safetensors_files(directory)
    if not files:
        print(f'hf_mlm.py: {directory}: no safetensors file, only the load report was checked', file=sys.stderr)
        return
    stored = {}
    for file in files:
        with safe_open(file, framework='pt') as f:
            for name in f.keys():
                if names.canonical(name) != names.POSITION_IDS:
                    stored[canonical(name)] = f.get_tensor(name)
    tied = {names.masked_lm_name(k): names.masked_lm_name(v) for k, v in names.TIED_TO.items()}
    for name, param in model.state_dict().items():
        source = name if name in stored else tied.get(name)
        if source not in stored:
            fail(f'{directory}: {name} is not in the checkpoint (randomly initialized?)')
        if not torch.equal(param.detach().float(), stored[source].float()):
            fail(f'{directory}: {name} differs from the checkpoint tensor {source}')


class Models:
    def __init__(self):
        self.cache = {}

    def get(self, directory, dtype_name='float32'):
        if dtype_name not in DTYPES:
            fail(f'unknown dtype {dtype_name}')
        key = (os.path.abspath(directory), dtype_name)
        if key not in self.cache:
            base = (os.path.abspath(directory), 'float32')
            if base in self.cache:
                model32, tokenizer = self.cache[base]
                model = copy.deepcopy(model32).to(DTYPES[dtype_name])
            else:
                model, info = BertForMaskedLM.from_pretrained(directory, dtype=torch.float32, output_loading_info=True,
                                                              attn_implementation='eager')
                model.eval()
                check_head(model, directory, info)
                model.to(DTYPES[dtype_name])
                tokenizer = BertTokenizerFast.from_pretrained(directory)
            self.cache[key] = (model, tokenizer)
        return self.cache[key]


def split_pair(text):
    parts = text.split(' ||| ')
    if len(parts) > 2:
        fail(f'more than one " ||| " in {text!r}')
    return parts


def encode(tokenizer, text, max_length):
    parts = split_pair(text)
    enc = tokenizer(*parts, truncation=True, max_length=max_length, return_offsets_mapping=True)
    full = tokenizer(*parts, truncation=False)
    return enc, len(full['input_ids']) > len(enc['input_ids'])


def forward_logits(model, input_ids, token_type_ids, attention_mask):
    """Full BertForMaskedLM logits [B, T, V], the batch split only to keep the logits within LOGITS_BUDGET."""
    b, t = input_ids.shape
    per = max(1, LOGITS_BUDGET // (t * model.config.vocab_size))
    outs = []
    with torch.no_grad():
        for s in range(0, b, per):
            outs.append(model(input_ids=input_ids[s:s + per], token_type_ids=token_type_ids[s:s + per],
                              attention_mask=attention_mask[s:s + per]).logits)
    return torch.cat(outs)


def logits_at_positions(model, input_ids, token_type_ids, rows, cols):
    """BertForMaskedLM's logits, cls(bert(...)[0]) as its forward computes them, at the (row, col) pairs only (the head
    works position by position); [len(rows), V]. No padding: every row is as long as the input."""
    b, t = input_ids.shape
    cfg = model.config
    per = max(1, LOGITS_BUDGET // (t * max(cfg.num_attention_heads * t, cfg.intermediate_size)))
    hidden = []
    with torch.no_grad():
        for s in range(0, b, per):
            ids = input_ids[s:s + per]
            hidden.append(model.bert(input_ids=ids, token_type_ids=token_type_ids[s:s + per],
                                     attention_mask=torch.ones_like(ids)).last_hidden_state)
        return model.cls(torch.cat(hidden)[torch.tensor(rows), torch.tensor(cols)])


def ranks_of(logits, targets):
    """1 + number of vocabulary entries with a strictly higher logit than the target's; logits [N, V], targets [N]."""
    chosen = logits.gather(1, targets[:, None])
    return (logits > chosen).sum(1) + 1


def score(job, models):
    model, tokenizer = models.get(job['model'], job.get('dtype', 'float32'))
    metric = job.get('metric', 'original')
    if metric not in ('original', 'within_word_l2r', 'whole_word'):
        fail(f'unknown metric {metric}')
    max_length = job.get('max_length', 512)
    mask_id = tokenizer.mask_token_id
    results = []
    for text in job['texts']:
        enc, truncated = encode(tokenizer, text, max_length)
        ids = enc['input_ids']
        seq_ids = enc.sequence_ids()
        word_ids = enc.word_ids()
        positions = [i for i, s in enumerate(seq_ids) if s is not None]
        words, word_index = [], {}
        for i in positions:
            key = (seq_ids[i], word_ids[i])
            if key not in word_index:
                word_index[key] = len(words)
                words.append([])
            words[word_index[key]].append(i)
        word_of = [word_index[(seq_ids[i], word_ids[i])] for i in positions]
        copies, rows, cols = [], [], []  # copy masks; for each scored token: its copy and position
        if metric == 'whole_word':
            for w in words:
                copies.append(w)
            for i, w in zip(positions, word_of):
                rows.append(w)
                cols.append(i)
        else:
            for n, (i, w) in enumerate(zip(positions, word_of)):
                copies.append([i] if metric == 'original' else [j for j in words[w] if j >= i])
                rows.append(n)
                cols.append(i)
        logprobs, ranks = [], []
        if positions:
            batch = torch.tensor(ids).repeat(len(copies), 1)
            for c, masked in enumerate(copies):
                batch[c, masked] = mask_id
            types = torch.tensor(enc['token_type_ids']).repeat(len(copies), 1)
            picked = logits_at_positions(model, batch, types, rows, cols)  # [n_scored, V]
            targets = torch.tensor([ids[i] for i in positions])
            lp = torch.log_softmax(picked, dim=-1).gather(1, targets[:, None])[:, 0]
            logprobs = lp.double().tolist()
            ranks = ranks_of(picked, targets).tolist()
        word_logprobs = [0.0] * len(words)
        for w, v in zip(word_of, logprobs):
            word_logprobs[w] += v
        results.append({
            'ids': ids,
            'type_ids': enc['token_type_ids'],
            'tokens': tokenizer.convert_ids_to_tokens(ids),
            'offsets': [list(o) for o in enc['offset_mapping']],
            'positions': positions,
            'logprobs': logprobs,
            'ranks': ranks,
            'word_of': word_of,
            'words': words,
            'word_logprobs': word_logprobs,
            'total': sum(logprobs),
            'truncated': truncated,
        })
    return results


def fill_mask_pair(model, tokenizer, text, top_k, target_ids, max_length):
    """transformers' FillMaskPipeline.postprocess, written out for a sentence pair (the pipeline takes one text)."""
    parts = split_pair(text)
    kwargs = {'truncation': True, 'max_length': max_length} if max_length else {}
    enc = tokenizer(*parts, return_tensors='pt', **kwargs)
    with torch.no_grad():
        logits = model(**enc).logits[0]
    input_ids = enc['input_ids'][0]
    masked = torch.nonzero(input_ids == tokenizer.mask_token_id).squeeze(-1)
    if masked.numel() == 0:
        fail(f'no {tokenizer.mask_token} in {text!r}')
    probs = logits[masked].softmax(-1)
    if target_ids is not None:
        probs = probs[..., target_ids]
    k = min(top_k, probs.shape[-1])
    values, predictions = probs.topk(k)
    single = masked.numel() == 1
    out = []
    for i, (vs, ps) in enumerate(zip(values.tolist(), predictions.tolist())):
        row = []
        for v, p in zip(vs, ps):
            if target_ids is not None:
                p = int(target_ids[p])
            tokens = input_ids.clone()
            tokens[masked[i]] = p
            tokens = tokens[tokens != tokenizer.pad_token_id]
            row.append({'score': v, 'token': p, 'token_str': tokenizer.decode([p]),
                        'sequence': tokenizer.decode(tokens, skip_special_tokens=single)})
        out.append(row)
    return masked.tolist(), out


def fill_mask(job, models):
    model, tokenizer = models.get(job['model'], job.get('dtype', 'float32'))
    top_k = job.get('top_k', 5)
    targets = job.get('targets')
    max_length = job.get('max_length')
    fill = pipeline('fill-mask', model=model, tokenizer=tokenizer, device='cpu')
    target_ids = fill.get_target_ids(targets) if targets is not None else None
    results = []
    for text in job['texts']:
        if ' ||| ' in text:
            positions, rows = fill_mask_pair(model, tokenizer, text, top_k, target_ids, max_length)
        else:
            kwargs = {'tokenizer_kwargs': {'truncation': True, 'max_length': max_length}} if max_length else {}
            out = fill(text, top_k=top_k, targets=targets, **kwargs)
            rows = out if out and isinstance(out[0], list) else [out]
            ids = tokenizer(text, **({'truncation': True, 'max_length': max_length} if max_length else {}))['input_ids']
            positions = [i for i, t in enumerate(ids) if t == tokenizer.mask_token_id]
            if len(positions) != len(rows):
                fail(f'pipeline answered {len(rows)} masks for {len(positions)} in {text!r}')
        results.append({'masks': [{'position': p, 'candidates': [
            {'token': int(c['token']), 'score': float(c['score']), 'token_str': c['token_str'], 'sequence': c['sequence']}
            for c in row]} for p, row in zip(positions, rows)]})
    return results


def sparse(job, models):
    model, tokenizer = models.get(job['model'], job.get('dtype', 'float32'))
    max_length = job.get('max_length', 512)
    results = []
    for text in job['texts']:
        enc = tokenizer(*split_pair(text), truncation=True, max_length=max_length, return_tensors='pt')
        logits = forward_logits(model, enc['input_ids'], enc['token_type_ids'], enc['attention_mask'])
        relu_log = torch.log(1 + torch.relu(logits)) * enc['attention_mask'].unsqueeze(-1)
        pooled = relu_log.max(dim=1).values[0]
        nz = torch.nonzero(pooled).squeeze(-1)
        results.append({'indices': nz.tolist(), 'values': pooled[nz].double().tolist()})
    return results


def logits_at(job, models):
    model, _ = models.get(job['model'], job.get('dtype', 'float32'))
    rows = job['input_ids']
    width = max(len(r) for r in rows)
    pad = lambda r, v=0: list(r) + [v] * (width - len(r))  # noqa: E731
    ids = torch.tensor([pad(r) for r in rows])
    types = torch.tensor([pad(r) for r in job['token_type_ids']]) if job.get('token_type_ids') else torch.zeros_like(ids)
    if job.get('attention_mask'):
        mask = torch.tensor([pad(r) for r in job['attention_mask']])
    else:
        mask = torch.tensor([pad([1] * len(r)) for r in rows])
    logits = forward_logits(model, ids, types, mask)
    out = {'logprobs': [], 'ranks': [], 'logits': []}
    if job.get('full'):
        out['full'] = []
    for b, (positions, targets) in enumerate(zip(job['positions'], job['targets'])):
        if len(positions) != len(targets):
            fail(f'row {b}: {len(positions)} positions but {len(targets)} targets')
        if not positions:
            for k in out:
                out[k].append([])
            continue
        picked = logits[b, torch.tensor(positions)]
        t = torch.tensor(targets)
        lsm = torch.log_softmax(picked, dim=-1)
        out['logprobs'].append(lsm.gather(1, t[:, None])[:, 0].double().tolist())
        out['ranks'].append(ranks_of(picked, t).tolist())
        out['logits'].append(picked.gather(1, t[:, None])[:, 0].double().tolist())
        if job.get('full'):
            out['full'].append(lsm.double().tolist())
    return out


OPS = {'score': score, 'fill_mask': fill_mask, 'sparse': sparse, 'logits_at': logits_at}


def main():
    run_jobs(OPS, Models())


if __name__ == '__main__':
    main()
