export * from './analysis';
export * from './positions';
export { hover, type HoverResult } from './hover';
export { inlayHints, type InlayHint } from './inlayHints';
