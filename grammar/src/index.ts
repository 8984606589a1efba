export * from './ast';
export { parse } from './parse';
export { lex, type LexResult } from './lexer';
export { ALL_KEYWORDS, DECLARATION_KEYWORDS, STATEMENT_KEYWORDS, VALUE_KEYWORDS } from './keywords';
export { ENUMS, type EnumName, parserInstance } from './parser';
export { statementKeywordsByBlock } from './vocabulary';
export { didYouMean, editDistance } from './messages';
export { assistAt, type Assist, type AssistKeyword, type EnclosingBlock, type WordSlot } from './assist';
export { astChildren, type AstChild } from './astWalk';
