/**
 * TDISP's grammar: a device's `tdisp` capability, and the steps that drive a TDI (TDISP
 * messages, config-space writes with their register bits, power and link changes).
 */
import type { NumLit, Node, Ref, Word } from '../nodes';
import type { GrammarContribution, ParserClass } from '../contribution';
import { node, num, span, token, tokens, word } from '../cst';
import { kw, NumberLit, Word as WordToken } from '../tokens';

const ENUMS = {
  tdispMessage: ['lock', 'start', 'stop', 'report', 'bind-p2p', 'unbind-p2p', 'set-mmio-attr'],
  configSimple: ['flr', 'msix', 'bist', 'rom', 'resizable-bar', 'ari', 'pasid', 'page-request', 'multicast', 'intx'],
  powerState: ['D0', 'D1', 'D2', 'D3hot', 'D3cold'],
  linkState: ['up', 'down'],
} as const;

/** `tdisp` in a device: it speaks TDISP. */
export interface TdispFlag extends Node {
  kind: 'tdisp-capable';
}
export type TdispStep = Node & { kind: 'tdisp'; device?: Ref; message?: Word };
/** `config D command MSE BME`, `config D bar 0 0xfe000000`, `config D flr`, ... */
export interface ConfigStep extends Node {
  kind: 'config';
  device?: Ref;
  what?: Word;
  bits: Word[];
  bar?: NumLit;
  value?: NumLit;
  /** `sriov vf-enable off | vf-mse off | numvfs N`: the SR-IOV field written (`value` holds N). */
  sriovField?: Word;
}
export type PowerLinkStep = Node & { kind: 'power' | 'link'; device?: Ref; state?: Word };

const rules = (Base: ParserClass) =>
  class TdispRules extends Base {
    public tdispFlag = this.RULE('tdispFlag', () => {
      this.CONSUME(kw('tdisp'));
    });

    public tdispStep = this.RULE('tdispStep', () => {
      this.CONSUME(kw('tdisp'));
      this.SUBRULE(this.ref);
      this.oneOf('tdispMessage');
    });
    public configStep = this.RULE('configStep', () => {
      this.CONSUME(kw('config'));
      this.SUBRULE(this.ref);
      this.OR([
        {
          ALT: () => {
            this.CONSUME(kw('command'));
            this.MANY(() => this.CONSUME(WordToken, { LABEL: 'bits' }));
          },
        },
        {
          ALT: () => {
            this.CONSUME(kw('devctl'));
            this.MANY2(() => this.CONSUME2(WordToken, { LABEL: 'bits' }));
          },
        },
        {
          ALT: () => {
            this.CONSUME(kw('bar'));
            this.CONSUME(NumberLit, { LABEL: 'barIndex' });
            this.OPTION(() => this.CONSUME2(NumberLit, { LABEL: 'value' }));
          },
        },
        {
          // `sriov` alone: some write to the SR-IOV capability; with a field, one that takes the VFs away (RULES §5.6).
          ALT: () => {
            this.CONSUME(kw('sriov'));
            this.OPTION2(() =>
              this.OR2([
                {
                  ALT: () => {
                    this.CONSUME(kw('vf-enable'));
                    this.CONSUME(kw('off'));
                  },
                },
                {
                  ALT: () => {
                    this.CONSUME(kw('vf-mse'));
                    this.CONSUME2(kw('off'));
                  },
                },
                {
                  ALT: () => {
                    this.CONSUME(kw('numvfs'));
                    this.CONSUME3(NumberLit, { LABEL: 'value' });
                  },
                },
              ]),
            );
          },
        },
        { ALT: () => this.oneOf('configSimple', 1) },
      ]);
    });
    public powerStep = this.RULE('powerStep', () => {
      this.CONSUME(kw('power'));
      this.SUBRULE(this.ref);
      this.oneOf('powerState');
    });
    public linkStep = this.RULE('linkStep', () => {
      this.CONSUME(kw('link'));
      this.SUBRULE(this.ref);
      this.oneOf('linkState');
    });
  };

export const TDISP_GRAMMAR: GrammarContribution<
  typeof ENUMS,
  { deviceBody: TdispFlag; steps: TdispStep | ConfigStep | PowerLinkStep },
  keyof InstanceType<ReturnType<typeof rules>>
> = {
  id: 'tdisp',
  keywords: {
    statements: ['tdisp', 'config', 'power', 'link'],
    values: [
      // TDISP messages (`start` and `stop` are the core's)
      'lock',
      'report',
      'bind-p2p',
      'unbind-p2p',
      'set-mmio-attr',
      // config-space writes
      'command',
      'bar',
      'flr',
      'msix',
      'devctl',
      'bist',
      'rom',
      'resizable-bar',
      'ari',
      'pasid',
      'sriov',
      'page-request',
      'multicast',
      'intx',
      'vf-enable',
      'vf-mse',
      'numvfs',
      // power and link
      'D0',
      'D1',
      'D2',
      'D3hot',
      'D3cold',
      'up',
      'down',
    ],
  },
  enums: ENUMS,
  rules,
  places: { deviceBody: ['tdispFlag'], steps: ['tdispStep', 'configStep', 'powerStep', 'linkStep'] },
  build: {
    tdispFlag: (n): TdispFlag => ({ kind: 'tdisp-capable', span: span(n) }),
    tdispStep: (n, b): TdispStep => ({
      kind: 'tdisp',
      span: span(n),
      device: b.ref(node(n.children, 'ref')),
      message: b.enumValue(n.children, 'tdispMessage'),
    }),
    configStep: (n, b): ConfigStep => {
      const c = n.children;
      const what = word(token(c, 'command') ?? token(c, 'devctl') ?? token(c, 'bar') ?? token(c, 'sriov') ?? token(c, 'configSimple'));
      return {
        kind: 'config',
        span: span(n),
        device: b.ref(node(c, 'ref')),
        what,
        bits: tokens(c, 'bits').map((t) => word(t)!),
        bar: num(token(c, 'barIndex')),
        value: num(token(c, 'value')),
        sriovField: word(token(c, 'vf-enable') ?? token(c, 'vf-mse') ?? token(c, 'numvfs')),
      };
    },
    powerStep: (n, b): PowerLinkStep => ({
      kind: 'power',
      span: span(n),
      device: b.ref(node(n.children, 'ref')),
      state: b.enumValue(n.children, 'powerState'),
    }),
    linkStep: (n, b): PowerLinkStep => ({
      kind: 'link',
      span: span(n),
      device: b.ref(node(n.children, 'ref')),
      state: b.enumValue(n.children, 'linkState'),
    }),
  },
};
