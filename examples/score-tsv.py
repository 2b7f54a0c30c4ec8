#!/usr/bin/env python3
"""Per-token probabilities of the sentences of a TSV file from BERT's masked-LM head, asked of
`bert-embed serve` through TensorFlow Serving's REST API, the way a TF Serving client of BERT does
it: the script tokenizes itself (BERT's basic + WordPiece tokenization), makes one copy of each
sentence per token with that token replaced by [MASK], pads the features as BERT's
create_pretraining_data.py does, and POSTs them to /v1/models/<name>:predict. It prints
`token<TAB>probability` per token and a blank line after each sentence.

  bert-embed serve -m ./bert-base-uncased --socket /tmp/bert.sock
  python3 examples/score-tsv.py --socket /tmp/bert.sock --model-name bert-base-uncased \\
      --vocab ./bert-base-uncased/vocab.txt --column 1 sentences.tsv

Python 3 standard library only.
"""
import argparse
import http.client
import json
import math
import socket
import sys
import unicodedata
import urllib.parse


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a UNIX socket: http.client with the connect step replaced."""

    def __init__(self, path, timeout=300):
        super().__init__('localhost', timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


# --- BERT's tokenization: basic (clean, split on whitespace and punctuation) then WordPiece ---

def is_punctuation(char):
    code = ord(char)
    # All non-letter/number ASCII counts as punctuation ("$", "^", "`"), as in BERT.
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith('P')


def is_cjk(code):
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
            or 0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F or 0x2B820 <= code <= 0x2CEAF
            or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)


def basic_tokenize(text, lowercase):
    cleaned = []
    for char in text:
        code = ord(char)
        if code in (0, 0xFFFD):
            continue
        if char in ' \t\n\r' or unicodedata.category(char) == 'Zs':
            cleaned.append(' ')
        elif unicodedata.category(char).startswith('C'):
            continue
        elif is_cjk(code):
            cleaned.append(' %s ' % char)
        else:
            cleaned.append(char)
    words = []
    for word in ''.join(cleaned).split():
        if lowercase:
            word = ''.join(c for c in unicodedata.normalize('NFD', word.lower()) if unicodedata.category(c) != 'Mn')
        piece = ''
        for char in word:
            if is_punctuation(char):
                words.extend([piece, char] if piece else [char])
                piece = ''
            else:
                piece += char
        if piece:
            words.append(piece)
    return words


def wordpiece(word, vocab, max_chars=100):
    if len(word) > max_chars:
        return ['[UNK]']
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            candidate = word[start:end] if start == 0 else '##' + word[start:end]
            if candidate in vocab:
                break
            end -= 1
        if end == start:
            return ['[UNK]']
        pieces.append(candidate)
        start = end
    return pieces


def tokenize(text, vocab, lowercase):
    return [piece for word in basic_tokenize(text, lowercase) for piece in wordpiece(word, vocab)]


# --- features, as create_pretraining_data.py writes them ---

def masked_copies(tokens, vocab, max_seq_length, max_predictions):
    """One instance per token of `tokens` (already cut to max_seq_length - 2), that token masked."""
    sequence = ['[CLS]'] + tokens + ['[SEP]']
    ids = [vocab[token] for token in sequence]
    padding = [0] * (max_seq_length - len(ids))
    for position in range(1, len(sequence) - 1):
        masked = list(ids)
        masked[position] = vocab['[MASK]']
        yield {
            'input_ids': masked + padding,
            'input_mask': [1] * len(ids) + padding,
            'segment_ids': [0] * max_seq_length,
            'masked_lm_positions': [position] + [0] * (max_predictions - 1),
            'masked_lm_ids': [ids[position]] + [0] * (max_predictions - 1),
        }


def predict(connection, model_name, instances):
    path = '/v1/models/%s:predict' % urllib.parse.quote(model_name, safe='')
    body = json.dumps({'signature_name': 'serving_default', 'instances': instances})
    connection.request('POST', path, body, {'content-type': 'application/json'})
    response = connection.getresponse()
    answer = json.loads(response.read().decode('utf-8'))
    if response.status != 200:
        sys.exit('score-tsv.py: %s answered %d: %s' % (path, response.status, answer.get('error', answer)))
    return answer['predictions']


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument('--socket', help='UNIX socket of bert-embed serve')
    where.add_argument('--url', help='http://host:port of bert-embed serve')
    parser.add_argument('--model-name', required=True, help='the served model name (serve uses the model directory\'s name)')
    parser.add_argument('--vocab', required=True, help="the model's vocab.txt")
    parser.add_argument('--column', type=int, default=0, help='0-based TSV column holding the sentence (default 0)')
    parser.add_argument('--max-seq-length', type=int, default=128)
    parser.add_argument('--max-predictions', type=int, default=20, help='max_predictions_per_seq (default 20)')
    parser.add_argument('--batch-size', type=int, default=32, help='masked copies per request (default 32)')
    parser.add_argument('--lowercase', action=argparse.BooleanOptionalAction, default=True, help='lowercase and strip accents (uncased models; default on)')
    parser.add_argument('file', nargs='?', help='TSV file (default stdin)')
    args = parser.parse_args()

    with open(args.vocab, encoding='utf-8') as lines:
        vocab = {line.strip(): index for index, line in enumerate(lines)}
    if args.socket:
        connection = UnixHTTPConnection(args.socket)
    else:
        url = urllib.parse.urlsplit(args.url)
        connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=300)
    source = open(args.file, encoding='utf-8') if args.file else sys.stdin
    for line in source:
        line = line.rstrip('\r\n')
        if not line:
            continue
        columns = line.split('\t')
        if args.column >= len(columns):
            sys.exit('score-tsv.py: a line has %d columns, no column %d: %r' % (len(columns), args.column, line))
        tokens = tokenize(columns[args.column], vocab, args.lowercase)[:args.max_seq_length - 2]
        copies = list(masked_copies(tokens, vocab, args.max_seq_length, args.max_predictions))
        losses = []
        for start in range(0, len(copies), args.batch_size):
            losses.extend(row[0] for row in predict(connection, args.model_name, copies[start:start + args.batch_size]))
        for token, loss in zip(tokens, losses):
            print('%s\t%.9g' % (token, math.exp(-loss)))
        print()
    connection.close()


if __name__ == '__main__':
    main()
