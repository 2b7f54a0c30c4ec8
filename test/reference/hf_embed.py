#!/usr/bin/env python3
"""Hugging Face as the ground truth of sentence embeddings (run with .venv/bin/python, which `npm run setup` creates):
transformers' BertModel in float64 with bert-as-service's pooling written out here, and sentence-transformers'
SentenceTransformer as it is. Nothing here calls bert-embed-native.

stdin: {"jobs": [job, ...]}, stdout: {"results": [result, ...]} (nothing else goes to stdout; library messages go to
stderr). Texts may be sentence pairs written "A ||| B" (pool only). Jobs:

  {"op": "pool", "model": DIR, "texts": [...], "max_length": N,
   "cases": [{"pooling": "REDUCE_MEAN", "layers": [-1], "mask_cls_sep": false, "normalize": false}, ...]}
      BertModel.from_pretrained(DIR) (eager attention), then model.double(): every parameter must be the checkpoint's
      own tensor, bit for bit (names through scripts/bert-tensor-names.json), or the run fails. Texts are tokenized by
      the checkpoint's own tokenizer (AutoTokenizer: BertTokenizerFast) with truncation=True, max_length=N
      (longest_first for pairs), and run with output_hidden_states=True: hidden_states[0] is
      the embedding output, hidden_states[i] layer i's output, and a layer index l picks hidden_states[l] (Python's
      negative indices: -1 the last layer).
      Pooling, as bert-as-service's graph.py does it on the concatenation of the chosen layers (tf.concat(all_layers,
      -1), then pooled), with the pooling mask m = the attention mask, less [CLS] and [SEP] (by id, as bert-as-service
      compares the token strings) when mask_cls_sep:
        REDUCE_MEAN     sum_t m_t x_t / sum_t m_t
        REDUCE_MAX      max over tokens with m_t = 1
        REDUCE_MEAN_MAX [REDUCE_MEAN, REDUCE_MAX] of the concatenated layers: all the means, then all the maxima
        CLS_TOKEN, FIRST_TOKEN  x_0;  SEP_TOKEN, LAST_TOKEN  x at (number of real tokens - 1), the last real token
                        (bert-as-service leaves the token strategies alone under mask_cls_sep)
        NONE            m_t x_t for each token, then zero rows up to N
      Where bert-embed-native documents another choice, this follows it: layer 0 is the embedding output
      (bert-as-service's all_encoder_layers start at the first layer), [CLS]/[SEP] stay visible to attention under
      mask_cls_sep (bert-as-service feeds the same mask to the model), a text with no pooled token (an empty text under
      mask_cls_sep) pools to zeros (bert-as-service: 0 for the mean, -1e30 for the max), and normalize (not in
      bert-as-service) L2-normalizes each vector (each token vector for NONE) like torch.nn.functional.normalize.
      All texts run as one batch padded on the right (attention_mask 0 on the padding: in float64 a padded key's
      softmax weight is exactly 0), and each text's hidden states are cut to its own tokens before pooling.
      Optional: "add_special_tokens": false (HF's own: no [CLS]/[SEP], a pair's sequences side by side) and
      "cased": true (the tokenizer loaded with do_lower_case=False, strip_accents=False: bert-as-service's
      -cased_tokenization, Google's FullTokenizer(do_lower_case=False)).
      -> {"ids": [[...]], "type_ids": [[...]], "truncated": [bool], "tokens": [[...]],
          "vectors": [per case: [per text: base64 of the float64 little-endian vector (NONE: N x width, row-major)]]}

  {"op": "sentence_transformers", "model": DIR, "texts": [...]}
      SentenceTransformer(DIR, device='cpu').encode(texts) (float32, its default batch size), after checking that the
      transformer's weights are the checkpoint's.
      -> {"embeddings": [[...]], "max_seq_length": n, "modules": [class names], "ids": [[token ids as it tokenizes]]}
"""

import base64
import json
import os
import sys

os.environ.setdefault('TRANSFORMERS_VERBOSITY', 'error')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_NO_ADVISORY_WARNINGS', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts'))

import bert_tensor_names as names  # noqa: E402  (scripts/bert-tensor-names.json: the tensor names, spelled once)
from reference_jobs import run_jobs  # noqa: E402
import torch  # noqa: E402
from safetensors import safe_open  # noqa: E402
from transformers import AutoTokenizer, BertModel  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.disable_progress_bar()

POOLINGS = ('NONE', 'REDUCE_MEAN', 'REDUCE_MAX', 'REDUCE_MEAN_MAX', 'CLS_TOKEN', 'FIRST_TOKEN', 'SEP_TOKEN', 'LAST_TOKEN')


def fail(message):
    print(f'hf_embed.py: {message}', file=sys.stderr)
    raise SystemExit(1)


def split_pair(text):
    parts = text.split(' ||| ')
    if len(parts) > 2:
        fail(f'more than one " ||| " in {text!r}')
    return parts


def checkpoint_tensors(directory):
    """The checkpoint's tensors under BertModel's parameter names (canonical names: no prefix, LayerNorm weight/bias),
    without the head and the position-ids buffer (BertModel has no use for them)."""
    single = os.path.join(directory, 'model.safetensors')
    if not os.path.exists(single):
        fail(f'{directory}: no model.safetensors')
    out = {}
    with safe_open(single, framework='pt') as f:
        stored = list(f.keys())
        prefix = names.detect_prefix(stored)
        if prefix is None:
            fail(f'{directory}: no {names.WORD_EMBEDDINGS}')
        for name in stored:
            canonical = names.canonical(name, prefix)
            if not canonical.startswith(names.UNUSED_BY_BERT_MODEL):
                out[canonical] = f.get_tensor(name)
    return out


def check_weights(model, directory, info=None):
    """Every parameter of the BertModel must be the checkpoint's tensor, bit for bit: nothing randomly initialized,
    nothing the loader renamed wrongly."""
    if info is not None:
        print(f'hf_embed.py: {directory}: missing {sorted(info["missing_keys"])}, '
              f'unexpected {sorted(info["unexpected_keys"])}', file=sys.stderr)
        if info['missing_keys'] or info.get('mismatched_keys') or info.get('error_msgs'):
            fail(f'{directory}: weights missing from the checkpoint would be random: {info}')
    stored = checkpoint_tensors(directory)
    params = model.state_dict()
    for name, param in params.items():
        if name not in stored:
            fail(f'{directory}: {name} is not in the checkpoint (randomly initialized?)')
        if not torch.equal(param.detach().float(), stored[name].float()):
            fail(f'{directory}: {name} differs from the checkpoint tensor')
    unused = sorted(set(stored) - set(params))
    if unused:
        fail(f'{directory}: checkpoint tensors BertModel did not take: {unused}')


class Models:
    def __init__(self):
        self.cache = {}

    def get(self, directory, cased=False):
        key = (os.path.abspath(directory), cased)
        if key not in self.cache:
            model, info = BertModel.from_pretrained(directory, dtype=torch.float32, output_loading_info=True,
                                                    attn_implementation='eager')
            check_weights(model, directory, info)
            model = model.double().eval()
            # cased: bert-as-service's -cased_tokenization, i.e. Google's FullTokenizer(do_lower_case=False).
            tokenizer = AutoTokenizer.from_pretrained(directory, **({'do_lower_case': False, 'strip_accents': False} if cased else {}))
            if not tokenizer.is_fast:
                fail(f'{directory}: {type(tokenizer).__name__} is not a fast (tokenizers) tokenizer')
            self.cache[key] = (model, tokenizer)
        return self.cache[key]


def bert_as_service_pool(hidden_states, ids, case, cls_id, sep_id, max_length):
    """One text's vector (flat) from its hidden states (a tuple of [1, T, H] float64 tensors, no padding)."""
    pooling = case['pooling']
    if pooling not in POOLINGS:
        fail(f'unknown pooling {pooling!r}')
    # bert-as-service: tf.concat(all_layers, -1), then pooling over the tokens.
    x = torch.cat([hidden_states[layer][0] for layer in case['layers']], dim=-1)  # [T, W]
    ids_t = torch.tensor(ids)
    attention = torch.ones(len(ids), dtype=torch.float64)
    m = attention.clone()
    if case.get('mask_cls_sep'):
        m = m * ((ids_t != cls_id) & (ids_t != sep_id)).double()
    pooled_any = bool(m.sum() > 0)

    def mean():
        if not pooled_any:
            return torch.zeros(x.shape[1], dtype=x.dtype)
        return (x * m[:, None]).sum(0) / m.sum()

    def maximum():
        if not pooled_any:
            return torch.zeros(x.shape[1], dtype=x.dtype)
        return x[m.bool()].max(0).values

    if pooling == 'NONE':
        out = torch.zeros(max_length, x.shape[1], dtype=x.dtype)
        out[: len(ids)] = x * m[:, None]
        if case.get('normalize'):
            out = torch.nn.functional.normalize(out, dim=-1)
        return out.flatten()
    if pooling == 'REDUCE_MEAN':
        v = mean()
    elif pooling == 'REDUCE_MAX':
        v = maximum()
    elif pooling == 'REDUCE_MEAN_MAX':
        v = torch.cat([mean(), maximum()])
    elif pooling in ('CLS_TOKEN', 'FIRST_TOKEN'):
        v = x[0]
    else:  # SEP_TOKEN, LAST_TOKEN
        v = x[int(attention.sum().item()) - 1]
    if case.get('normalize'):
        v = torch.nn.functional.normalize(v, dim=-1)
    return v


def float64_base64(values):
    """A float64 tensor as base64 of its little-endian bytes (JSON numbers of millions of values are slow)."""
    return base64.b64encode(values.detach().to(torch.float64).contiguous().numpy().astype('<f8').tobytes()).decode('ascii')


def pool(job, models):
    model, tokenizer = models.get(job['model'], job.get('cased', False))
    max_length = job['max_length']
    cases = job['cases']
    special = job.get('add_special_tokens', True)
    out = {'ids': [], 'type_ids': [], 'truncated': [], 'tokens': [], 'vectors': [[] for _ in cases]}
    for text in job['texts']:
        parts = split_pair(text)
        enc = tokenizer(*parts, truncation=True, max_length=max_length, add_special_tokens=special)
        full = tokenizer(*parts, truncation=False, add_special_tokens=special)
        out['ids'].append(enc['input_ids'])
        out['type_ids'].append(enc['token_type_ids'])
        out['truncated'].append(len(full['input_ids']) > len(enc['input_ids']))
        out['tokens'].append(tokenizer.convert_ids_to_tokens(enc['input_ids']))
    # One forward pass for all the texts, padded on the right with attention_mask 0 (in float64 a padded key's
    # softmax weight is exactly 0); each text's hidden states are then cut to its own tokens.
    lengths = [len(ids) for ids in out['ids']]
    width = max(lengths)
    pad = lambda rows, value: torch.tensor([r + [value] * (width - len(r)) for r in rows])  # noqa: E731
    with torch.no_grad():
        result = model(input_ids=pad(out['ids'], tokenizer.pad_token_id), token_type_ids=pad(out['type_ids'], 0),
                       attention_mask=pad([[1] * n for n in lengths], 0), output_hidden_states=True)
    if len(result.hidden_states) != model.config.num_hidden_layers + 1:
        fail(f'{len(result.hidden_states)} hidden states for {model.config.num_hidden_layers} layers')
    for b, ids in enumerate(out['ids']):
        hidden_states = tuple(h[b:b + 1, :len(ids)] for h in result.hidden_states)
        for c, case in enumerate(cases):
            out['vectors'][c].append(float64_base64(bert_as_service_pool(
                hidden_states, ids, case, tokenizer.cls_token_id, tokenizer.sep_token_id, max_length)))
    return out


def sentence_transformers(job, _models):
    from sentence_transformers import SentenceTransformer

    directory = job['model']
    model = SentenceTransformer(directory, device='cpu')
    transformer = model[0]
    check_weights(transformer.auto_model, directory)
    embeddings = model.encode(job['texts'])
    ids = [model.tokenize([text])['input_ids'][0].tolist() for text in job['texts']]
    return {
        'embeddings': [[float(v) for v in row] for row in embeddings],
        'max_seq_length': model.max_seq_length,
        'modules': [type(m).__name__ for m in model],
        'ids': ids,
    }


OPS = {'pool': pool, 'sentence_transformers': sentence_transformers}


def main():
    run_jobs(OPS, Models())


if __name__ == '__main__':
    main()
