/**
 * SEV's grammar: a guest's `confidential` statement (with its vTOM), and the steps that make
 * a device private or shared (`convert`) or measure a guest's memory (`launch-update`).
 * `assign ... as private` and `dma-window` stay the guest's: they are how a device is assigned.
 */
import type { Braces, Node, NumLit, Ref, UnknownStatement, Word } from '../nodes';
import type { GrammarContribution, ParserClass } from '../contribution';
import { node, num, span, token } from '../cst';
import { kw, NumberLit } from '../tokens';

const ENUMS = {
  confidentialKind: ['sev-snp', 'tdx'],
  convertMode: ['private', 'shared'],
} as const;

export interface ConfidentialStmt extends Node {
  kind: 'confidential';
  technology?: Word;
  braces?: Braces;
  items: (VtomStmt | UnknownStatement)[];
}
export interface VtomStmt extends Node {
  kind: 'vtom';
  value?: NumLit;
}
export type LaunchUpdateStep = Node & { kind: 'launch-update'; guest?: Ref };
export type ConvertStep = Node & { kind: 'convert'; device?: Ref; mode?: Word };

const rules = (Base: ParserClass) =>
  class SevRules extends Base {
    public confidentialStmt = this.RULE('confidentialStmt', () => {
      this.CONSUME(kw('confidential'));
      this.oneOf('confidentialKind');
      this.OPTION(() => this.SUBRULE(this.confidentialBody));
    });
    public vtomStmt = this.RULE('vtomStmt', () => {
      this.CONSUME(kw('vtom'));
      this.CONSUME(NumberLit);
    });
    public confidentialBody = this.block('confidentialBody', () => [this.vtomStmt], true);

    public launchUpdateStep = this.RULE('launchUpdateStep', () => {
      this.CONSUME(kw('launch-update'));
      this.SUBRULE(this.ref);
    });
    public convertStep = this.RULE('convertStep', () => {
      this.CONSUME(kw('convert'));
      this.SUBRULE(this.ref);
      this.CONSUME(kw('to'));
      this.oneOf('convertMode');
    });
  };

export const SEV_GRAMMAR: GrammarContribution<
  typeof ENUMS,
  { guestBody: ConfidentialStmt; steps: LaunchUpdateStep | ConvertStep },
  keyof InstanceType<ReturnType<typeof rules>>
> = {
  id: 'sev',
  keywords: { statements: ['confidential', 'vtom', 'launch-update', 'convert'], values: ['sev-snp', 'tdx'] },
  enums: ENUMS,
  rules,
  places: { guestBody: ['confidentialStmt'], steps: ['launchUpdateStep', 'convertStep'] },
  build: {
    confidentialStmt: (n, b): ConfidentialStmt => {
      const c = n.children;
      const s = span(n);
      const body = node(c, 'confidentialBody');
      return {
        kind: 'confidential',
        span: s,
        technology: b.enumValue(c, 'confidentialKind'),
        braces: b.braces(body, s),
        items: body
          ? b.items(body, 'confidentialBody', (i) => ({
              kind: 'vtom' as const,
              span: span(i),
              value: num(token(i.children, 'Number')),
            }))
          : [],
      };
    },
    launchUpdateStep: (n, b): LaunchUpdateStep => ({ kind: 'launch-update', span: span(n), guest: b.ref(node(n.children, 'ref')) }),
    convertStep: (n, b): ConvertStep => ({
      kind: 'convert',
      span: span(n),
      device: b.ref(node(n.children, 'ref')),
      mode: b.enumValue(n.children, 'convertMode'),
    }),
  },
};
