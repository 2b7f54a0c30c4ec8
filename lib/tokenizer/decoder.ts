/**
 * BERT decoding as Hugging Face does it: tokenizers' WordPiece decoder, then (optionally)
 * transformers' clean_up_tokenization over the whole text.
 */

/**
 * The WordPiece decoder's clean-up, applied to each piece with its leading space (tokenizers'
 * decoders/wordpiece.rs): transformers' rules plus ' do not' → " don't" (which a piece, holding no
 * space, never contains).
 */
function cleanUpPiece(piece: string): string {
  return cleanUpTokenization(piece).replaceAll(' do not', " don't");
}

/**
 * tokenizers' WordPiece decoder: every token but the first gets a space before it, unless it is a
 * continuation piece, which loses its prefix and is glued to the one before (a first token keeps
 * its prefix, as in HF). With `cleanup`, each piece is cleaned on its own, which only ever glues
 * '.', '?', '!' and ',' to what precedes them, since a WordPiece token holds no space.
 */
export function decodeWordPieces(tokens: readonly string[], prefix = '##', cleanup = true): string {
  let text = '';
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    let piece: string;
    if (i === 0) piece = token;
    else if (token.startsWith(prefix)) piece = token.slice(prefix.length);
    else piece = ` ${token}`;
    text += cleanup ? cleanUpPiece(piece) : piece;
  }
  return text;
}

/**
 * transformers' clean_up_tokenization over the decoded text: unlike the decoder's, it sees across
 * tokens, so "do n ' t" becomes "don't" and "it ' s" becomes "it's".
 */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
