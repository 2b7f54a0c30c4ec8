/**
 * Crafted texts that stress every step of BERT's tokenization. Expected ids are never written here:
 * the tests ask the references (HF tokenizers, transformers.js) for them.
 */

const ZWJ = '\u200d';

export const UNICODE_CASES: Record<string, string> = {
  // Accents and case
  'accents, Latin': 'Héllo Wörld: Ångström, naïve café, résumé, façade, crème brûlée, São Paulo, Zürich',
  'accents, capitals': 'ÉCOLE ÀÉÎÕÜ ÇÑ Ÿ ÆØÅ',
  'accents, Vietnamese': 'Tiếng Việt có dấu: Người ta nói rằng',
  'accents, Polish and Czech': 'Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy.',
  'Turkish dotted I': 'İstanbul ışık İİ ıI',
  'German sharp s': 'Straße STRASSE ẞ ß',
  ligatures: 'ﬁnance ﬂow Ǆ ǅ ǆ Ĳ',
  'full-width forms': 'ＡＢＣ　ａｂｃ　１２３！？',
  'Greek sigma at word end': 'ΟΔΟΣ ΟΔΥΣΣΕΥΣ ΣΑΣ Σ',
  'Greek polytonic': 'Ὀδυσσεύς ἄνθρωπος ᾅδης',
  Cyrillic: 'Москва ЁЖ Ёж ёлка Україна',
  Armenian: 'Հայաստան և Արցախ',
  // Combining marks
  'combining acute after e': 'cafe\u0301 e\u0301e\u0301',
  'stacked marks out of order': 'q\u0307\u0323 a\u0308\u0301 o\u031b\u0323',
  'combining mark alone': '\u0301 \u0308x',
  Devanagari: 'हिन्दी भाषा में लिखा गया',
  Thai: 'ภาษาไทยเป็นภาษาที่สวยงาม',
  'Arabic with harakat': 'العَرَبِيَّة لُغَةٌ جَمِيلَةٌ',
  'Hebrew with niqqud': 'שָׁלוֹם עֲלֵיכֶם',
  // CJK
  Chinese: '我爱北京天安门，天安门上太阳升。',
  'Chinese mixed with English': '中文English混合text测试123',
  'CJK extension A and compatibility ideographs': '㐀㐁 豈更車',
  'CJK extension B (astral)': '𠀀𠀁𡃁x𪚥y',
  Japanese: '東京タワーへ行きました。ひらがなとカタカナ、ｶﾀｶﾅ',
  Korean: '안녕하세요 세계! 한국어 텍스트입니다.',
  // Emoji
  emoji: 'I love 🍕 and 😀! 🎉🎉',
  'emoji ZWJ family': `family: 👨${ZWJ}👩${ZWJ}👧${ZWJ}👦 done`,
  'emoji flags, skin tones, keycaps': '🇫🇷🇯🇵 👍🏽 1️⃣ ❤️ ☺︎',
  // Zero-width, bidi and other format characters
  'zero-width characters': `zero\u200bwidth join\u200cer join${ZWJ}er word\u2060joiner`,
  'bidi marks': '\u200eleft\u200f right \u202aembed\u202c \u202bRTL\u202c \u202doverride\u202e \u2066isolate\u2069',
  'BOM and soft hyphen': '\ufeffBOM soft\u00adhyphen',
  // Control characters
  'tab, newline, carriage return': 'tab\there new\nline windows\r\nline',
  'C0 controls': 'null\u0000byte bell\u0007 \u001b[31mansi\u001b[0m del\u007f x',
  'vertical tab, form feed, next line': 'vt\u000bjoined ff\u000cjoined nel\u0085joined',
  'replacement character': 'bad\ufffdbyte \ufffd',
  'lone surrogates': 'lone\ud800high and \udc00low',
  // Whitespace of every kind
  'Unicode spaces': [
    '\u00a0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007',
    '\u2008', '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\u180e',
  ].map((space, i) => `w${i}${space}`).join(''),
  'only whitespace': ' \t\n\r\u00a0\u3000 ',
  // Long words
  '200-character word': 'a'.repeat(200),
  '100-character word (at the limit)': 'ab'.repeat(50),
  '101-character word': 'x'.repeat(101),
  '60 emoji word (120 UTF-16 units, 60 code points)': '🍕'.repeat(60),
  '60 decomposed accents (120 code points, 60 after stripping)': 'e\u0301'.repeat(60),
  '101-character word of CJK-adjacent letters': `${'q'.repeat(101)}中`,
  // Special tokens written in the text
  'mask token in text': 'hello [MASK] world',
  'lowercase mask token in text': 'hello [mask] world',
  'special tokens already there': '[CLS] already [SEP] there [PAD] [UNK]',
  'special tokens glued': 'x[MASK]y[MASK][MASK] Hello[SEP]World [[MASK]]',
  'broken special tokens': '[MASK [ MASK ] [MASKED] MASK]',
  // Empty
  empty: '',
  'single space': ' ',
  'only removed characters': '\u200b\u0000\ufeff',
  // Punctuation, symbols and numbers
  punctuation: 'Hello, world! (test) [brackets] {braces} <angle> «guillemets» „quotes“ ‘single’ — em–en… ¿Qué? ¡Hola!',
  'currency and symbols': '$100 €50 ¥20 £10 ₹5 ©®™°±§¶• C++ C# @user #tag 100% a_b a-b ~`^|\\',
  math: '∑∫√∞≠≤ x² ½ ③',
  'digits of other scripts': '٣٤٥ ๓๔ ३४',
  'punctuation newer than HF tables': 'a⹃b ⹏ a\u061db',
  'format characters newer than HF tables': 'a\u0890b a\u08e2b',
  'marks newer than HF tables': 'a\u08cab a\u0897b',
};

/** Pairs built from the cases, so that pair handling sees the same variety. */
export function unicodeCasePairs(): Array<[string, string]> {
  const texts = Object.values(UNICODE_CASES);
  return texts.map((text, i) => [text, texts[(i + 7) % texts.length]]);
}

/** Chinese sentences for bert-base-chinese (with Latin letters, digits and full-width punctuation mixed in). */
export const CHINESE_SENTENCES: string[] = [
  '我爱北京天安门，天安门上太阳升。',
  '今天天气很好，我们一起去公园散步吧！',
  '机器学习是人工智能的一个分支。',
  '自然语言处理（NLP）让计算机理解人类语言。',
  '他说：“明天见。”然后就走了。',
  '北京、上海、广州和深圳是中国的一线城市。',
  '这本书一共有365页，价格是49.9元。',
  '《红楼梦》是中国古典四大名著之一。',
  '请问，最近的地铁站在哪里？',
  '【通知】本周五下午3点召开全体会议；请准时参加。',
  '学而时习之，不亦说乎？有朋自远方来，不亦乐乎？',
  '床前明月光，疑是地上霜。举头望明月，低头思故乡。',
  '使用BERT模型进行中文文本分类，准确率达到了95%。',
  'iPhone和Android手机在中国都很流行。',
  '他的电子邮件地址是 zhang.san@example.com 。',
  '繁體中文與簡體中文有所不同。',
  '㐀㐁是扩展A区的汉字，𠀀𠀁是扩展B区的汉字。',
  '日本語の文章も少し混ぜてみます。',
  '한국어 문장도 섞어 봅니다.',
  'ＡＢＣ全角字母和１２３全角数字。',
  '温度是-5℃，湿度是80%。',
  '“你好，”她笑着说，“欢迎来到上海！”',
  '人工智能（Artificial Intelligence，AI）发展迅速……',
  '这是一个测试：[MASK]应该保持完整。',
  '长江、黄河——中华民族的母亲河。',
  'Tokenizer会把每个汉字单独切分出来。',
  '数学公式：E=mc²，π≈3.14159。',
  '他在2023年10月1日去了杭州西湖。',
  '鲁迅先生说过：“其实地上本没有路，走的人多了，也便成了路。”',
  '🍵喝茶吗？😊',
];

/** A small deterministic generator (mulberry32), so random texts are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FUZZ_ALPHABET: string[] = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ...'          ',
  ...'.,;:!?\'"()[]{}<>-_/\\@#$%^&*+=~`|',
  ...'éèêëàâäôöûüçñßøåÉÈÀÇÑÅØæœ',
  '\u0301', '\u0308', '\u0323', '\u0327', '\u0300',
  ...'αβγδεΣσςΩωПривет',
  ...'我爱中文字测试㐀豈',
  '𠀀', '𡃁',
  ...'ひらがなカタカナ한국어',
  '😀', '🍕', '👍', '🏽', ZWJ, '\ufe0f',
  '\t', '\n', '\r', '\u00a0', '\u3000', '\u2003', '\u2028',
  '\u200b', '\u200e', '\ufeff', '\u00ad', '\u0000', '\u0007', '\u0085', '\ufffd',
  '«', '»', '—', '…', '¿', '¡', '“', '”', '€', '°', '½', '²',
  '[MASK]', '[SEP]', '[CLS]', '[mask]', '##', ' ||| ',
];

/** Random strings over an alphabet of every kind of character above, with occasional long runs. */
export function randomTexts(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const texts: string[] = [];
  for (let n = 0; n < count; n++) {
    const length = Math.floor(random() * 40);
    let text = '';
    for (let i = 0; i < length; i++) {
      const piece = FUZZ_ALPHABET[Math.floor(random() * FUZZ_ALPHABET.length)];
      text += random() < 0.02 ? piece.repeat(30 + Math.floor(random() * 80)) : piece;
    }
    texts.push(text);
  }
  return texts;
}
