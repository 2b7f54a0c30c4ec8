// The query and documents the rerank tests share (the API's parity test, the server's and the CLI's): the third
// document is longer than MAX_SEQ_LEN tokens with the query, so every suite meets truncation.
export const RERANK_MAX_SEQ_LEN = 24;
export const RERANK_QUERY = 'how do I bake bread at home';
export const RERANK_DOCUMENTS = [
  'Knead the dough, let it rise, and bake it hot.',
  'The stock market fell sharply on Tuesday.',
  'Bread needs flour, water, salt and yeast; mix them, knead for ten minutes, leave the dough to rise for an hour, shape it and bake.',
  'Bread.',
];
