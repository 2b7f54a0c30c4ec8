#!/usr/bin/python3
"""Trace a Hugging Face-style BertModel from a safetensors checkpoint into a TorchScript file.

usage: /usr/bin/python3 scripts/trace-hf-style.py CHECKPOINT_DIR OUT_FILE.pt [CHECKPOINT_DIR OUT_FILE.pt ...]

Reads CHECKPOINT_DIR/config.json and CHECKPOINT_DIR/model.safetensors (F32/F16/BF16/F64; keys with or without a
'bert.' prefix, LayerNorm weight/bias or gamma/beta), builds an eager float32 torch module with the same module tree
as transformers' BertModel (embeddings / encoder.layer[i].attention.self.query ... / pooler), and saves
torch.jit.trace(model, (input_ids, attention_mask, token_type_ids)). forward returns what BertModel with
torchscript=True, output_hidden_states=True returns:
    (last_hidden_state [B,T,H], pooler_output [B,H], hidden_states: tuple of L+1 tensors [B,T,H], embeddings first)
The traced module is checked against the eager one on a batch of another size and length; exit status 1 if they
differ by more than 1e-5. No transformers / safetensors packages needed.
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_tensor_names as names  # noqa: E402  (scripts/bert-tensor-names.json: the tensor names, spelled once)

CHECK_TOLERANCE = 1e-5


# ---------------------------------------------------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------------------------------------------------

def read_safetensors(path):
    """Returns {name: float32 (or int64) torch tensor}."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    if n > len(data) - 8:
        raise ValueError(f'{path}: header length {n} exceeds the file')
    header = json.loads(data[8:8 + n].decode('utf-8'))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        begin, end = info['data_offsets']
        raw = data[base + begin: base + end]
        dtype = info['dtype']
        shape = info['shape']
        if dtype == 'F32':
            arr = np.frombuffer(raw, dtype='<f4').astype(np.float32)
        elif dtype == 'F16':
            arr = np.frombuffer(raw, dtype='<f2').astype(np.float32)
        elif dtype == 'BF16':
            arr = (np.frombuffer(raw, dtype='<u2').astype(np.uint32) << 16).view(np.float32)
        elif dtype == 'F64':
            arr = np.frombuffer(raw, dtype='<f8').astype(np.float32)
        elif dtype == 'I64':
            arr = np.frombuffer(raw, dtype='<i8').astype(np.int64)
        elif dtype == 'I32':
            arr = np.frombuffer(raw, dtype='<i4').astype(np.int64)
        else:
            raise ValueError(f'{path}: unsupported dtype {dtype} for {name}')
        expected = int(np.prod(shape)) if shape else 1
        if arr.size != expected:
            raise ValueError(f'{path}: {name} has {arr.size} elements, expected {expected}')
        out[name] = torch.from_numpy(np.ascontiguousarray(arr).reshape(shape))
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Model (module tree and semantics of transformers' BertModel, eval mode)
# ---------------------------------------------------------------------------------------------------------------------

class GELUTanh(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def make_activation(name):
    if name in ('gelu', 'gelu_python'):
        return nn.GELU()
    if name in ('gelu_new', 'gelu_fast'):
        return GELUTanh()
    if name == 'gelu_pytorch_tanh':
        return nn.GELU(approximate='tanh')
    if name == 'relu':
        return nn.ReLU()
    if name in ('silu', 'swish'):
        return nn.SiLU()
    if name == 'tanh':
        return nn.Tanh()
    raise ValueError(f'unsupported hidden_act {name}')


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c['vocab_size'], c['hidden_size'], padding_idx=c.get('pad_token_id', 0))
        self.position_embeddings = nn.Embedding(c['max_position_embeddings'], c['hidden_size'])
        self.token_type_embeddings = nn.Embedding(c['type_vocab_size'], c['hidden_size'])
        self.LayerNorm = nn.LayerNorm(c['hidden_size'], eps=c.get('layer_norm_eps', 1e-12))
        self.dropout = nn.Dropout(c.get('hidden_dropout_prob', 0.1))
        self.register_buffer('position_ids', torch.arange(c['max_position_embeddings']).expand((1, -1)), persistent=False)

    def forward(self, input_ids, token_type_ids):
        seq_length = input_ids.size(1)  # traced as aten::size, not baked in
        position_ids = self.position_ids[:, 0:seq_length]
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(position_ids)
        embeddings = self.LayerNorm(embeddings)
        return self.dropout(embeddings)


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c['hidden_size']
        self.num_attention_heads = c['num_attention_heads']
        self.attention_head_size = h // self.num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(h, self.all_head_size)
        self.key = nn.Linear(h, self.all_head_size)
        self.value = nn.Linear(h, self.all_head_size)
        self.dropout = nn.Dropout(c.get('attention_probs_dropout_prob', 0.1))

    def transpose_for_scores(self, x):
        new_shape = x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
        return x.view(new_shape).permute(0, 2, 1, 3)

    def forward(self, hidden_states, extended_attention_mask):
        q = self.transpose_for_scores(self.query(hidden_states))
        k = self.transpose_for_scores(self.key(hidden_states))
        v = self.transpose_for_scores(self.value(hidden_states))
        scores = torch.matmul(q, k.transpose(-1, -2))
        scores = scores / math.sqrt(self.attention_head_size)
        scores = scores + extended_attention_mask
        probs = self.dropout(F.softmax(scores, dim=-1))
        context = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return context.view(context.size()[:-2] + (self.all_head_size,))


class BertSelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c['hidden_size']
        self.dense = nn.Linear(h, h)
        self.LayerNorm = nn.LayerNorm(h, eps=c.get('layer_norm_eps', 1e-12))
        self.dropout = nn.Dropout(c.get('hidden_dropout_prob', 0.1))

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, hidden_states, extended_attention_mask):
        return self.output(self.self(hidden_states, extended_attention_mask), hidden_states)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['intermediate_size'])
        self.intermediate_act_fn = make_activation(c.get('hidden_act', 'gelu'))

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['intermediate_size'], c['hidden_size'])
        self.LayerNorm = nn.LayerNorm(c['hidden_size'], eps=c.get('layer_norm_eps', 1e-12))
        self.dropout = nn.Dropout(c.get('hidden_dropout_prob', 0.1))

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, hidden_states, extended_attention_mask):
        attention_output = self.attention(hidden_states, extended_attention_mask)
        return self.output(self.intermediate(attention_output), attention_output)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c['num_hidden_layers'])])


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['hidden_size'])
        self.activation = nn.Tanh()

    def forward(self, hidden_states):
        return self.activation(self.dense(hidden_states[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        embedding_output = self.embeddings(input_ids, token_type_ids)
        # HF get_extended_attention_mask: [B,1,1,T], (1 - mask) * finfo(float32).min, added to the scores.
        # Built in float32, then cast to the activations' dtype (type_as is traced, so a half-converted module
        # still gets a mask of its own dtype).
        extended = attention_mask[:, None, None, :].to(dtype=torch.float32)
        extended = (1.0 - extended) * torch.finfo(torch.float32).min
        extended = extended.type_as(embedding_output)
        all_hidden_states = (embedding_output,)
        hidden_states = embedding_output
        for layer in self.encoder.layer:
            hidden_states = layer(hidden_states, extended)
            all_hidden_states = all_hidden_states + (hidden_states,)
        pooled_output = self.pooler(hidden_states)
        return hidden_states, pooled_output, all_hidden_states


# ---------------------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------------------

def normalize_state_dict(tensors):
    """Strip a model prefix ('bert.' or any '<x>.' before the word embeddings' name) and map gamma/beta; the names come
    from scripts/bert-tensor-names.json."""
    prefix = names.detect_prefix(tensors)
    if prefix is None:
        raise ValueError(f'checkpoint has no {names.WORD_EMBEDDINGS}')
    out = {}
    for name, t in tensors.items():
        if not name.startswith(prefix) or names.is_head(name):
            continue  # e.g. cls.predictions.* of a BertForMaskedLM checkpoint
        out[names.canonical(name, prefix)] = t
    return out, prefix


def load_model(checkpoint_dir):
    with open(os.path.join(checkpoint_dir, 'config.json'), 'r', encoding='utf-8') as f:
        config = json.load(f)
    pet = config.get('position_embedding_type', 'absolute')
    if pet != 'absolute':
        raise ValueError(f'position_embedding_type {pet} is not supported')
    if config['hidden_size'] % config['num_attention_heads'] != 0:
        raise ValueError('hidden_size is not a multiple of num_attention_heads')
    config.setdefault('type_vocab_size', 2)
    config.setdefault('max_position_embeddings', 512)
    raw = read_safetensors(os.path.join(checkpoint_dir, 'model.safetensors'))
    state, _ = normalize_state_dict(raw)
    state.pop(names.POSITION_IDS, None)  # our buffer is non-persistent (always arange)
    model = BertModel(config)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if unexpected:
        print(f'trace-hf-style: ignoring unexpected tensors: {unexpected[:8]}{"..." if len(unexpected) > 8 else ""}',
              file=sys.stderr)
        for k in unexpected:
            state.pop(k)
    if any(not k.startswith(names.POOLER + '.') for k in missing):
        raise ValueError(f'checkpoint lacks tensors: {missing}')
    if missing:
        print('trace-hf-style: checkpoint has no pooler; pooler weights set to zero', file=sys.stderr)
        for k in missing:
            state[k] = torch.zeros_like(expected[k])
    for k, t in state.items():
        if tuple(t.shape) != tuple(expected[k].shape):
            raise ValueError(f'{k}: checkpoint shape {tuple(t.shape)} != model shape {tuple(expected[k].shape)}')
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, config


def example_batch(config, batch, length, real_lengths, seed):
    g = torch.Generator().manual_seed(seed)
    vocab = config['vocab_size']
    input_ids = torch.randint(1, vocab, (batch, length), generator=g, dtype=torch.long)
    attention_mask = torch.zeros((batch, length), dtype=torch.long)
    token_type_ids = torch.zeros((batch, length), dtype=torch.long)
    for b, n in enumerate(real_lengths):
        attention_mask[b, :n] = 1
        input_ids[b, n:] = config.get('pad_token_id', 0) or 0
        if config['type_vocab_size'] > 1:
            token_type_ids[b, n // 2:n] = 1
    return input_ids, attention_mask, token_type_ids


def flatten_outputs(out):
    last, pooled, hidden = out
    return [last, pooled] + list(hidden)


def trace_one(checkpoint_dir, out_file):
    torch.manual_seed(0)
    model, config = load_model(checkpoint_dir)

    example = example_batch(config, 2, 7, [7, 4], seed=1)
    with torch.no_grad():
        traced = torch.jit.trace(model, example)

    # Generalisation check: another batch size and length, padded rows.
    check = example_batch(config, 3, 19, [19, 11, 3], seed=2)
    with torch.no_grad():
        eager_out = flatten_outputs(model(*check))
        traced_out = flatten_outputs(traced(*check))
    if len(eager_out) != len(traced_out):
        raise TraceCheckError(f'traced module returns {len(traced_out)} tensors, eager {len(eager_out)}')
    worst = 0.0
    for e, t in zip(eager_out, traced_out):
        if e.shape != t.shape:
            raise TraceCheckError(f'shape mismatch {tuple(t.shape)} vs {tuple(e.shape)}')
        worst = max(worst, (e - t).abs().max().item())
    if not worst <= CHECK_TOLERANCE:
        raise TraceCheckError(f'traced module differs from eager by {worst} (> {CHECK_TOLERANCE})')

    out_dir = os.path.dirname(os.path.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    tmp = f'{out_file}.tmp-{os.getpid()}'
    traced.save(tmp)
    os.replace(tmp, out_file)
    return {'out': os.path.abspath(out_file), 'layers': config['num_hidden_layers'],
            'hidden': config['hidden_size'], 'check_max_abs_diff': worst}


class TraceCheckError(Exception):
    pass


def main(argv):
    # CHECKPOINT_DIR OUT_FILE [CHECKPOINT_DIR OUT_FILE ...] (several pairs share one torch start-up)
    args = argv[1:]
    if len(args) < 2 or len(args) % 2 != 0:
        print(__doc__.strip().split('\n\n')[1], file=sys.stderr)
        return 2
    for i in range(0, len(args), 2):
        try:
            info = trace_one(args[i], args[i + 1])
        except TraceCheckError as err:
            print(f'trace-hf-style: {args[i]}: {err}', file=sys.stderr)
            return 1
        print(json.dumps(info), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
