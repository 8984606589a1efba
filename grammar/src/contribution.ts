/**
 * What a domain adds to the grammar (its file under `domains/`, listed once in
 * `domains/index.ts`): its keywords and enumerations, its parser rules and where the core's
 * rules take them, and their CST → AST builders. The core assembles the lexer's keywords,
 * `ENUMS`, the file rule, the timeline body, the AST builder and the AST's unions from the
 * registry.
 */
import type { CstNode } from 'chevrotain';
import type { Children } from './cst';
import type { Braces, Node, OptionLit, RamDecl, RangeLit, Ref, ReleaseLit, Span, UnknownStatement, Word } from './nodes';
import type { ParserClass, Place } from './sharedRules';

export type { ParserClass, Place } from './sharedRules';

export interface GrammarContribution<
  Enums extends Readonly<Record<string, readonly string[]>> = Readonly<Record<string, readonly string[]>>,
  Nodes extends Partial<Record<Place, Node>> = Partial<Record<Place, Node>>,
  Rule extends string = string,
> {
  /** Its folder's name under server/src/domains. */
  id: string;
  /**
   * Words that open its declarations, open its statements, or only follow another keyword (a word the
   * core or another domain shares is the core's).
   */
  keywords: { declarations?: readonly string[]; statements?: readonly string[]; values?: readonly string[] };
  /** Its enumerations (the keyword alternatives `oneOf` consumes), by name. */
  enums: Enums;
  /**
   * Its rules: a mixin over the parser, since chevrotain's rules are defined as the parser is
   * constructed, before its self-analysis. Rule names are chevrotain's: docs, completion,
   * messages and tests use them.
   */
  rules: (Base: ParserClass) => ParserClass;
  /** Its rules the core's rules take at each place, in order. */
  places: Partial<Record<Place, readonly Rule[]>>;
  /** The CST → AST builder of each of its rules at a place, by rule name. */
  build: Readonly<Partial<Record<Rule, (n: CstNode, b: AstBuild) => Node | undefined>>>;
  /** Never set: the AST node types its rules give at each place (the core's unions read them). */
  nodes?: Nodes;
}

/** What the domains' builders use of the core's AST builder: the shared pieces and the blocks' handling. */
export interface AstBuild {
  /** The statements of a block in source order, unknown ones reported and kept (see `AstBuilder.items`). */
  items<T>(n: CstNode, ruleName: string, build: (item: CstNode) => T | undefined): (T | UnknownStatement)[];
  braces(n: CstNode | undefined, opener: Span): Braces | undefined;
  /** The span of a declaration's keyword (the whole declaration's if recovery lost it). */
  keywordSpan(n: CstNode, keyword: string): Span;
  /** A statement of a domain's rule, built by that domain (a timeline's steps come from several). */
  build(n: CstNode): Node | undefined;
  name(n: CstNode | undefined): Word | undefined;
  ref(n: CstNode | undefined): Ref | undefined;
  range(n: CstNode | undefined): RangeLit | undefined;
  dmaWindow(c: Children): RangeLit | undefined;
  /** The name after `iommufd` in an assignment or a hot-plug. */
  iommufdUse(c: Children): Word | undefined;
  enumValue(c: Children, label: string): Word | undefined;
  release(n: CstNode | undefined): ReleaseLit | undefined;
  option(n: CstNode): OptionLit | undefined;
  ram(n: CstNode): RamDecl;
}
