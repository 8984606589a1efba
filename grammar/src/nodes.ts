/**
 * The AST nodes the core and the domains share: spans, words, numbers, references, ranges,
 * braces, unknown statements, releases, options and `ram` lines. Every node has a `span`
 * (UTF-16 offsets into its file, end exclusive).
 */

export interface Span {
  start: number;
  end: number;
}

/**
 * A span whose offsets are small integers. Chevrotain keeps offsets in fields that start
 * as NaN, so they come out as heap numbers; a span built from them straight would box both
 * fields (V8 then gives every `{start, end}` object double fields: ~60 bytes a span instead
 * of ~40, over a million spans in a large workspace). `| 0` is exact: no string reaches 2^31.
 */
export function makeSpan(start: number, end: number): Span {
  return { start: start | 0, end: end | 0 };
}

export interface Node {
  span: Span;
}
/** A name being declared, a word, or an enumerated keyword value. */
export interface Word extends Node {
  text: string;
}
/** A number as written (`0xfee0_0000`, `512G`); the model evaluates it. */
export interface NumLit extends Node {
  text: string;
}
/** `nic0`, or `epyc-b.nic0` (then `qualifier` is the platform). */
export interface Ref extends Node {
  qualifier?: Word;
  name: Word;
}

/** A reference as written: `nic0` or `epyc-b.nic0`. */
export function refText(r: Pick<Ref, 'qualifier' | 'name'>): string {
  return r.qualifier ? `${r.qualifier.text}.${r.name.text}` : r.name.text;
}
/** `START..END` (inclusive) or `START size SIZE`. */
export interface RangeLit extends Node {
  start: NumLit;
  end?: NumLit;
  size?: NumLit;
}
/** The braces of a block; `close` is missing when the block is never closed. */
export interface Braces {
  open: Span;
  close?: Span;
}

/** A line the enclosing block does not understand (reported as a syntax error). */
export interface UnknownStatement extends Node {
  kind: 'unknown';
  head: Word;
}

/** A release number as written (`6.6`, `6.6.12`): the text of its tokens. */
export interface ReleaseLit {
  text: string;
  span: Span;
}
/** One `key value` option, e.g. `memory 16G`, `cpu amd`, `at 0x1000`, `pending`. */
export interface OptionLit extends Node {
  key: Word;
  value?: NumLit | Word;
}
export interface RamDecl extends Node {
  kind: 'ram';
  name?: Word;
  range?: RangeLit;
}

/**
 * What the core assembles from every domain, for the domains' nodes that hold it: `ast.ts`
 * adds `step` (every domain's timeline steps) by declaration merging, as the registry sits
 * between the domains and the core.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by `ast.ts`
export interface Assembled {}
