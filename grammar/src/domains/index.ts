/**
 * The registry of the domains' grammars: the one module that lists them. The core takes
 * from it the lexer's keywords, `ENUMS`, the parser's rules (the file's declarations, the
 * timeline's steps and the statements a domain adds to a core block, at their places, in
 * this order) and the AST builders and node types.
 */
import type { GrammarContribution, Place } from '../contribution';
import { CMDQV_GRAMMAR } from './cmdqv';
import { FIRMWARE_GRAMMAR } from './firmware';
import { POOLS_GRAMMAR } from './pools';
import { SEV_GRAMMAR } from './sev';
import { TDISP_GRAMMAR } from './tdisp';
import { TIMELINES_GRAMMAR } from './timelines';
import { XEN_GRAMMAR } from './xen';

export type * from './cmdqv';
export type * from './firmware';
export type * from './pools';
export type * from './sev';
export type * from './tdisp';
export type * from './timelines';
export type * from './xen';

/** Every domain's grammar, one line each, in the order of the server's registry. */
export const GRAMMAR_DOMAINS = [
  TIMELINES_GRAMMAR,
  TDISP_GRAMMAR,
  SEV_GRAMMAR,
  POOLS_GRAMMAR,
  FIRMWARE_GRAMMAR,
  XEN_GRAMMAR,
  CMDQV_GRAMMAR,
] as const;

type Domain = (typeof GRAMMAR_DOMAINS)[number];
type NodesOf<D> = D extends GrammarContribution<infer _E, infer N, infer _R> ? N : never;
type EnumsOf<D> = D extends GrammarContribution<infer E, infer _N, infer _R> ? E : never;
type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** The AST nodes the domains' rules give at a place (a union). */
export type DomainNode<P extends Place> = NodesOf<Domain> extends infer N ? (N extends { [K in P]: infer X } ? X : never) : never;
/** Every domain's enumerations. */
export type DomainEnums = Intersection<EnumsOf<Domain>>;
