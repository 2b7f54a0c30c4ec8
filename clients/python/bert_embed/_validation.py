"""Checks of the client's arguments, in bert-as-service's exception types (TypeError for a wrong type,
ValueError for a wrong value), each message naming the argument, what was expected and received."""


def _shown(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + '...'


def expected(field, what, value):
    return 'Expected %s for %s but received %s of type %s' % (what, field, _shown(value), type(value).__name__)


def check_texts(texts):
    """bert-as-service's check: a non-empty list of non-empty strings."""
    if not isinstance(texts, list):
        raise TypeError(expected('texts', 'a non-empty list of strings', texts))
    if not texts:
        raise ValueError(expected('texts', 'a non-empty list of strings', texts))
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(expected('texts[%d]' % i, 'a string', text))
        if not text.strip():
            raise ValueError(expected('texts[%d]' % i, 'a non-empty string', text))


def check_tokenized_texts(texts):
    """bert-as-service's check with is_tokenized=True: a non-empty list of non-empty lists of non-empty strings."""
    if not isinstance(texts, list):
        raise TypeError(expected('texts', 'a non-empty list of token lists (is_tokenized=True)', texts))
    if not texts:
        raise ValueError(expected('texts', 'a non-empty list of token lists (is_tokenized=True)', texts))
    for i, tokens in enumerate(texts):
        if not isinstance(tokens, list):
            raise TypeError(expected('texts[%d]' % i, 'a non-empty list of strings (is_tokenized=True)', tokens))
        if not tokens:
            raise ValueError(expected('texts[%d]' % i, 'a non-empty list of strings (is_tokenized=True)', tokens))
        for j, token in enumerate(tokens):
            if not isinstance(token, str):
                raise TypeError(expected('texts[%d][%d]' % (i, j), 'a string', token))
            if not token.strip():
                raise ValueError(expected('texts[%d][%d]' % (i, j), 'a non-empty string', token))


def check_port(field, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(expected(field, 'an integer port from 1 to 65535', value))
    if not 1 <= value <= 65535:
        raise ValueError(expected(field, 'an integer port from 1 to 65535', value))
    return value


def check_timeout(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(expected('timeout', 'milliseconds > 0, or -1 to wait forever', value))
    if value != -1 and not value > 0:
        raise ValueError(expected('timeout', 'milliseconds > 0, or -1 to wait forever', value))
    return value


def check_positive_integer(field, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(expected(field, 'a positive integer', value))
    if value < 1:
        raise ValueError(expected(field, 'a positive integer', value))
    return value
