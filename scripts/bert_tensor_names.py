"""Hugging Face BERT's tensor names for the test fixtures and scripts, read from scripts/bert-tensor-names.json (the one
place they are spelled; scripts/bert-tensor-names.mjs reads the same file for JavaScript and TypeScript). Standard
library only, so that any Python (Debian's, or the .venv's) can import it:

    sys.path.insert(0, '<repo>/scripts'); import bert_tensor_names as names

The product's own reader (lib/model/safetensors-index.ts, native/) does not use this.
"""

import json
import os

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'bert-tensor-names.json'), encoding='utf-8') as _f:
    NAMES = json.load(_f)

#: 'bert.': the prefix BertForMaskedLM puts before the encoder's names (its base_model_prefix).
ENCODER_PREFIX = NAMES['encoderPrefix']
#: 'cls.': the masked-LM head's names start with it and are never prefixed.
HEAD_PREFIX = NAMES['headPrefix']
#: The word embeddings' weight: every BERT checkpoint has it, so it tells the prefix.
WORD_EMBEDDINGS = NAMES['embeddings']['word']['name'] + '.weight'
#: The pooler's dense layer (BertPooler), e.g. to tell a checkpoint without a pooler.
POOLER = NAMES['pooler']['dense']['name']
#: The int64 position-ids buffer some checkpoints carry.
POSITION_IDS = NAMES['positionIds']['name']
#: Head tensors that, when absent, are these (canonical) tensors (tie_word_embeddings).
TIED_TO = dict(NAMES['tiedTo'])
#: Prefixes of canonical checkpoint names that BertForMaskedLM has no use for.
UNUSED_BY_MASKED_LM = tuple(NAMES['unusedByMaskedLm'])
#: Prefixes of canonical checkpoint names that BertModel has no use for (the head, and the position-ids buffer, which
#: transformers recreates).
UNUSED_BY_BERT_MODEL = (HEAD_PREFIX, POSITION_IDS)

_LN = NAMES['layerNorm']
_LEGACY_LN = NAMES['legacyLayerNorm']
_LN_SEGMENTS = {
    m['name'].rsplit('.', 1)[-1]
    for group in ('embeddings', 'layer', 'maskedLmHead')
    for m in NAMES[group].values() if m['kind'] == 'layerNorm'
}


def is_head(name):
    """Whether a tensor name is one of the masked-LM head's (cls.*)."""
    return name.startswith(HEAD_PREFIX)


def detect_prefix(names):
    """The prefix of the encoder's names ('' or e.g. 'bert.'), found from the word embeddings; None when absent."""
    names = list(names)
    if WORD_EMBEDDINGS in names:
        return ''
    if ENCODER_PREFIX + WORD_EMBEDDINGS in names:
        return ENCODER_PREFIX
    for name in names:
        if name.endswith('.' + WORD_EMBEDDINGS):
            return name[: len(name) - len(WORD_EMBEDDINGS)]
    return None


def canonical(name, prefix=ENCODER_PREFIX):
    """A checkpoint tensor's canonical name: the encoder's prefix (default 'bert.') removed, LayerNorm gamma / beta
    renamed weight / bias (the names of transformers' BertModel; the head's cls.* names are kept)."""
    if prefix and not is_head(name) and name.startswith(prefix):
        name = name[len(prefix):]
    base, _, parameter = name.rpartition('.')
    if base.rsplit('.', 1)[-1] in _LN_SEGMENTS:
        if parameter == _LEGACY_LN['weight']:
            name = f'{base}.{_LN["weight"]}'
        elif parameter == _LEGACY_LN['bias']:
            name = f'{base}.{_LN["bias"]}'
    return name


def masked_lm_name(canonical_name):
    """The BertForMaskedLM parameter name of a canonical name: the encoder's under 'bert.', the head's as they are."""
    return canonical_name if is_head(canonical_name) else ENCODER_PREFIX + canonical_name
