/** The pool's grammar: `pool NAME { host, host, ... }`, the hosts a guest may run on. */
import type { Braces, Node, Ref, Word } from '../nodes';
import type { GrammarContribution, ParserClass } from '../contribution';
import { node, nodes, span } from '../cst';
import { Comma, kw, LBrace, Newline, RBrace } from '../tokens';

export interface PoolDecl extends Node {
  kind: 'pool';
  name?: Word;
  braces?: Braces;
  hosts: Ref[];
}

const rules = (Base: ParserClass) =>
  class PoolRules extends Base {
    /** `pool NAME { host, host, ... }`: hosts separated by commas or newlines. */
    public poolDecl = this.RULE('poolDecl', () => {
      this.CONSUME(kw('pool'));
      this.SUBRULE(this.name);
      this.MANY(() => this.CONSUME(Newline, { LABEL: 'leadingNewline' }));
      this.CONSUME(LBrace);
      this.MANY2(() =>
        this.OR([{ ALT: () => this.CONSUME2(Newline) }, { ALT: () => this.CONSUME(Comma) }, { ALT: () => this.SUBRULE(this.ref) }]),
      );
      this.CONSUME(RBrace);
    });
  };

export const POOLS_GRAMMAR: GrammarContribution<
  Record<never, never>,
  { declarations: PoolDecl },
  keyof InstanceType<ReturnType<typeof rules>>
> = {
  id: 'pools',
  keywords: { declarations: ['pool'] },
  enums: {},
  rules,
  places: { declarations: ['poolDecl'] },
  build: {
    poolDecl: (n, b): PoolDecl => ({
      kind: 'pool',
      span: span(n),
      name: b.name(node(n.children, 'name')),
      braces: b.braces(n, b.keywordSpan(n, 'pool')),
      hosts: nodes(n.children, 'ref')
        .map((r) => b.ref(r))
        .filter((r): r is Ref => !!r),
    }),
  },
};
