export * from './analysis';
export * from './positions';
export { hover, type HoverResult } from './hover';
