#!/usr/bin/env python3
"""transformers' token-classification pipeline (BertForTokenClassification, fast tokenizer) as the reference of
Encoder.classifyTokens and of lib/tasks/classify-tokens/entities.ts (run with .venv/bin/python).

stdin: {"jobs": [job, ...]}, stdout: {"results": [result, ...]}. The model runs in float64 with 'eager' attention; a
load report with a missing or mismatched weight fails the run (nothing is labelled by weights that are not the
checkpoint's). One pipeline per model directory and max_length, kept for the whole request; the model runs a given
window once (memoize_forward) however many jobs postprocess it.

  {"op": "pipeline", "model": DIR, "inputs": [text | [word, ...]], "max_length": N (default: the tokenizer's
   model_max_length), "aggregation_strategy": "none" | "simple" | "first" | "average" | "max" | null (null: not
   passed, the pipeline's default 'none'), "ignore_labels": [...] | null (null: not passed, ['O']), "stride": N | null,
   "is_split_into_words": bool, "whole_text": bool, "windows": bool}
    -> per input {"text": the sentence the offsets index (for words: ' '.join(words), as the pipeline builds it),
                  "entities": [the pipeline's dicts; start / end in UTF-16 code units, scores as floats],
                  "windows": [{"ids", "offsets" (UTF-16, absolute into "text"), "special" (0/1), "logits"}] (with
                  "windows": true: each chunk the model ran, padding left out), "truncated": bool}
       or {"error": "ExceptionType: message"} where the pipeline (or the tokenizer under it) refused the input.

What the installed transformers (5.18) and tokenizers (0.23.2) do, read in pipelines/token_classification.py and
checked here:
- Offsets are code points (Python str indices) into the sentence; this script converts them to UTF-16 code units.
- is_split_into_words: the sentence is the words joined by ' ' (the `delimiter` argument); the fast tokenizer gives
  each token's offsets within its own word, and the pipeline adds the word's start in the joined sentence (word_ids ->
  word_to_chars_map). The result equals the pipeline run on ' '.join(words) as one text: the same tokens, offsets,
  words and scores (a word holding a space is split further by BERT's pre-tokenizer either way).
- Scores: a softmax over each token's logits in numpy (float64 here, as the model's logits are). 'none' gives one
  entity per non-special token, {entity, score, index (position in its window, [CLS] = 0), word (the vocabulary
  token, '##' kept), start, end}. Special means the special_tokens_mask, which marks only what the post-processor
  adds ([CLS], [SEP]) and padding: a [MASK] or [UNK] written in the text is labelled like any other token.
- postprocess adds a word's start to offset_mapping's own tensor (start_ind += start_char on a 0-d view), so the
  windows here are copied as the model runs them, before that.
- Subwords: is_subword = len(token) != len(sentence[start:end]) in code points ("##ing" against "ing"). So a word
  whose accent is its own code point (NFD 'Cafe\u0301' -> 'cafe'), or '❤️' (its variation selector is dropped by
  the normalizer), counts as a subword even as a word's first token, and 'first' / 'average' / 'max' merge it into
  the word before it; NFC 'Café' does not. An [UNK] token is never a subword, and its word is the source text,
  sentence[start:end] (an emoji, 'x😀y').
- word (aggregated): tokenizer.convert_tokens_to_string, i.e. tokenizers' WordPiece decoder (prefix '##',
  cleanup=True): a space before each token but '##' continuations, and per token " ." -> ".", " ?" -> "?", " !" ->
  "!", " ," -> ",", " ' " -> "'", " n't" -> "n't", " 'm", " 's", " 've", " 're" glued, " do not" -> " don't".
  transformers' own clean_up_tokenization_spaces is not applied (it is False for BERT here anyway).
- 'simple': B-/I- grouping (group_entities): a token joins the group before it when its tag (label without 'B-' /
  'I-'; a label in neither form is its own tag, counted as 'I') equals the group's last tag and it is not a 'B-'.
  The group's entity_group is its first label after the first '-' (split('-', 1)[-1]), its score the mean of its
  tokens' scores. 'first' / 'average' / 'max' first merge each word (a token and the subwords after it): the first
  token's label, the mean score vector's argmax, or the label of the token whose best score is highest; then group.
- ignore_labels (default ['O']) drops an entity whose entity, or whose entity_group, is listed, per window.
- stride: the fast tokenizer's return_overflowing_tokens windows (stride < model_max_length is checked by the
  pipeline; tokenizers asserts stride < model_max_length - 2, a PanicException, when the text needs windows).
  aggregation_strategy='none' given explicitly with a stride is refused (ValueError), but with aggregation_strategy
  left out the default 'none' does run: token entities of every window. With more than one window the entities of
  all windows (each filtered by ignore_labels) go through aggregate_overlapping_entities: sorted by start, of two
  that overlap the longer is kept, on equal length the higher score, on equal score the earlier.
- tokenizers 0.23.1+ stops reading a text once `max_length` tokens exist when it truncates (the 'truncation early
  exit', huggingface/tokenizers#1990), and the overflowing windows are cut only from what was read
  (huggingface/tokenizers#2091, fix pending in #2098): pipeline(text, stride=s) labels only about the first
  model_max_length tokens of a long text (to the end of the word that reaches it), in two windows for most strides,
  and drops the rest. With 0.22.2 the windows cover the whole text: content chunks of model_max_length - 2 tokens, each
  starting model_max_length - 2 - stride after the one before, up to the chunk that reaches the end. The limit is
  per word for is_split_into_words (each word is tokenized on its own), so words get the whole-text windows.
  "whole_text": true runs a text as its words (text.split(' '), is_split_into_words) for that reason: the same
  tokens, offsets and sentence as the text (it must have no whitespace but single spaces, and no word of
  max_length tokens or more), with the windows tokenizers 0.22.2 makes (checked against tokenizers 0.22.2's
  Tokenizer.encode(...).overflowing on the suites' long texts).
- Without a stride the pipeline truncates at model_max_length (truncation=True): the tokens past it get no entity.
"""

import os
import sys

os.environ.setdefault('TRANSFORMERS_VERBOSITY', 'error')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_NO_ADVISORY_WARNINGS', '1')
os.environ.setdefault('RUST_BACKTRACE', '0')

from reference_jobs import load_float64, run_jobs  # noqa: E402
import torch  # noqa: E402
from transformers import BertForTokenClassification, BertTokenizerFast, pipeline  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.disable_progress_bar()


def fail(message):
    print(f'hf_token_classification.py: {message}', file=sys.stderr)
    raise SystemExit(1)


CAPTURED = ('attention_mask', 'input_ids', 'special_tokens_mask', 'logits', 'offset_mapping')


def utf16_positions(text):
    """UTF-16 code-unit index of every code-point index of text (and of its end)."""
    positions = [0]
    for ch in text:
        positions.append(positions[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return positions


def memoize_forward(model):
    """The model's output for a window it has run before is reused: jobs differ in their postprocessing (strategy,
    ignore_labels) far more often than in their inputs, and the pipeline reads the logits without changing them."""
    forward = model.forward
    outputs = {}

    def memoized(input_ids=None, attention_mask=None, token_type_ids=None, **kwargs):
        key = (tuple(input_ids.shape), tuple(input_ids.flatten().tolist()), tuple(attention_mask.flatten().tolist()),
               None if token_type_ids is None else tuple(token_type_ids.flatten().tolist()), tuple(sorted(kwargs)))
        if key not in outputs:
            outputs[key] = forward(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, **kwargs)
        return outputs[key]

    model.forward = memoized


class Pipelines:
    def __init__(self):
        self.cache = {}
        self.captured = None

    def get(self, directory, max_length):
        key = (directory, max_length)
        if key not in self.cache:
            model = load_float64(BertForTokenClassification, directory, fail)
            memoize_forward(model)
            kwargs = {} if max_length is None else {'model_max_length': max_length}
            tokenizer = BertTokenizerFast.from_pretrained(directory, **kwargs)
            if not tokenizer.is_fast:
                fail(f'{directory}: not a fast tokenizer')
            pipe = pipeline('token-classification', model=model, tokenizer=tokenizer, device='cpu')
            forward = pipe._forward

            def capture(model_inputs):
                outputs = forward(model_inputs)
                if self.captured is not None:
                    # copied now: postprocess adds a word's start to offset_mapping's tensor in place (start_ind +=
                    # start_char on a 0-d view) for words
                    self.captured.append({key: outputs[key][0].tolist() for key in CAPTURED}
                                         | {'word_ids': outputs.get('word_ids'), 'word_to_chars_map': outputs.get('word_to_chars_map')})
                return outputs

            pipe._forward = capture
            self.cache[key] = pipe
        return self.cache[key]


def window_of(outputs, positions):
    """One chunk the model ran: ids, absolute UTF-16 offsets, special flags and logits, padding left out."""
    keep, ids, special, logits, raw = (outputs[key] for key in CAPTURED)
    word_ids = outputs.get('word_ids')
    word_to_chars = outputs.get('word_to_chars_map')
    window = {'ids': [], 'offsets': [], 'special': [], 'logits': []}
    for i, kept in enumerate(keep):
        if not kept:
            continue
        start, end = raw[i]
        # as gather_pre_entities: a pre-tokenized input's offsets are within their word
        if word_ids is not None and word_to_chars is not None and word_ids[i] is not None:
            shift = word_to_chars[word_ids[i]][0]
            start, end = start + shift, end + shift
        window['ids'].append(ids[i])
        window['offsets'].append([positions[start], positions[end]])
        window['special'].append(int(special[i]))
        window['logits'].append([float(v) for v in logits[i]])
    return window


def entity_of(entity, positions):
    out = {}
    for key, value in entity.items():
        if key in ('start', 'end'):
            out[key] = positions[int(value)]
        elif key == 'score':
            out[key] = float(value)
        elif key == 'index':
            out[key] = int(value)
        else:
            out[key] = value
    return out


def run_pipeline(job, pipelines):
    pipe = pipelines.get(job['model'], job.get('max_length'))
    kwargs = {}
    for name in ('aggregation_strategy', 'ignore_labels', 'stride'):
        if job.get(name) is not None:
            kwargs[name] = job[name]
    split = bool(job.get('is_split_into_words'))
    whole_text = bool(job.get('whole_text'))
    results = []
    for item in job['inputs']:
        if whole_text:
            if split or '  ' in item or item != item.strip() or any(ch.isspace() and ch != ' ' for ch in item):
                fail('whole_text needs a text whose only whitespace is single spaces')
            given, is_words = item.split(' '), True
        else:
            given, is_words = item, split
        sentence = ' '.join(given) if is_words else given
        positions = utf16_positions(sentence)
        pipelines.captured = []
        try:
            entities = pipe([given], is_split_into_words=is_words, **kwargs)[0]
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # noqa: B036 -- tokenizers' PanicException is a BaseException
            results.append({'error': f'{type(error).__name__}: {error}'})
            continue
        finally:
            captured, pipelines.captured = pipelines.captured, None
        full = pipe.tokenizer(given, is_split_into_words=is_words)['input_ids']
        result = {
            'text': sentence,
            'entities': [entity_of(entity, positions) for entity in entities],
            'truncated': len(full) > pipe.tokenizer.model_max_length and job.get('stride') is None,
        }
        if job.get('windows'):
            result['windows'] = [window_of(outputs, positions) for outputs in captured]
        results.append(result)
    return results


if __name__ == '__main__':
    run_jobs({'pipeline': run_pipeline}, Pipelines())
