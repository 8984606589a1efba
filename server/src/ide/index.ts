export * from './analysis';
export type { CompletionIcon, KindLook, OutlineIcon } from './kindLooks';
export * from './positions';
export { hover, type HoverResult } from './hover';
export { inlayHints, type InlayHint } from './inlayHints';
export {
  definition,
  documentHighlights,
  prepareRename,
  references,
  rename,
  symbolAt,
  type Highlight,
  type Location,
  type TextEdit,
} from './navigation';
export { documentSymbols, workspaceSymbols, type OutlineSymbol, type WorkspaceSymbol } from './symbols';
export { codeActions, type CodeAction } from './codeActions';
export { foldingRanges, type FoldingRange } from './folding';
export { selectionRanges, type SelectionRange } from './selectionRanges';
export {
  encodeSemanticTokens,
  semanticTokens,
  SEMANTIC_TOKEN_MODIFIERS,
  SEMANTIC_TOKEN_TYPES,
  type SemanticToken,
} from './semanticTokens';
export { completion, type CompletionItem, type CompletionKind } from './completion';
export { formatDocument, formatRange, type FormatEdit, type FormatOptions } from './format';
export { addressMap, addressMapTargetAt, type AddressMap, type AddressMapTarget } from './addressMap';
export { renderSvg } from './addressMapSvg';
export { applySeverities, parseSeverityOverrides, SEVERITY_LEVELS, type SeverityLevel, type SeverityOverrides } from './severity';
