/**
 * The firmware's grammar: a `firmware` (an EDK II build for a guest) with its drivers, their
 * DMA maps, the handlers run at ExitBootServices or on events, and the handlers' actions.
 */
import { EMPTY_ALT, type CstNode, type ParserMethod } from 'chevrotain';
import type { Braces, Node, OptionLit, Ref, ReleaseLit, UnknownStatement, Word } from '../nodes';
import type { AstBuild } from '../contribution';
import type { GrammarContribution, ParserClass } from '../contribution';
import { allTokens, node, nodes, span, token, word } from '../cst';
import { kw, NumberLit, Word as WordToken } from '../tokens';

const ENUMS = {
  dmaOperation: ['bus-master-read', 'bus-master-write', 'common-buffer', 'bus-master-read64', 'bus-master-write64', 'common-buffer64'],
  bufferSource: ['allocate-buffer', 'allocate-pool', 'allocate-pages'],
  tplLevel: ['notify', 'callback'],
} as const;

export interface FirmwareDecl extends Node {
  kind: 'firmware';
  name?: Word;
  guest?: Ref;
  braces?: Braces;
  items: FirmwareItem[];
}
export type FirmwareItem = Edk2Stmt | DriverDecl | IommuProtocolDecl | UnknownStatement;
/** `edk2 edk2-stable202411`: the EDK II release of a firmware. */
export interface Edk2Stmt extends Node {
  kind: 'edk2';
  release?: ReleaseLit;
}
export interface DriverDecl extends Node {
  kind: 'driver';
  name?: Word;
  device?: Ref;
  braces?: Braces;
  items: (MapStmt | HandlerStmt | UnknownStatement)[];
}
export interface MapStmt extends Node {
  kind: 'map';
  name?: Word;
  operation?: Word;
  options: OptionLit[];
}
export interface HandlerStmt extends Node {
  kind: 'handler';
  /** `exit-boot-services`, `before-exit-boot-services`, or `event` with `eventName`. */
  event?: Word;
  eventName?: Word;
  tpl?: Word;
  braces?: Braces;
  actions: (Action | UnknownStatement)[];
}
export interface Action extends Node {
  kind: 'action';
  verb: Word;
  target?: Ref;
  deferred?: Word;
  service?: Word;
}
export interface IommuProtocolDecl extends Node {
  kind: 'iommu-protocol';
  braces?: Braces;
  handlers: (HandlerStmt | UnknownStatement)[];
}

/*
 * The rules, in three mixins, one per group; each extends the one before, so the rules are
 * defined (and chevrotain lists them) in the order below.
 */

/** The statements: `firmware`, `driver` with its DMA `map`s, `edk2`. */
const statementRules = (Base: ParserClass) =>
  class FirmwareStatementRules extends Base {
    // The bodies are blocks, defined with the other blocks last (in `rules`): a rule's body
    // runs only at the parser's self-analysis, when every rule exists.
    declare firmwareBody: ParserMethod<[], CstNode>;
    declare driverBody: ParserMethod<[], CstNode>;

    public firmwareDecl = this.RULE('firmwareDecl', () => {
      this.CONSUME(kw('firmware'));
      this.SUBRULE(this.name);
      this.CONSUME(kw('for'));
      this.SUBRULE(this.ref);
      this.SUBRULE(this.firmwareBody);
    });

    public driverDecl = this.RULE('driverDecl', () => {
      this.CONSUME(kw('driver'));
      this.SUBRULE(this.name);
      this.CONSUME(kw('for'));
      this.SUBRULE(this.ref);
      this.SUBRULE(this.driverBody);
    });

    public mapStmt = this.RULE('mapStmt', () => {
      this.CONSUME(kw('map'));
      this.SUBRULE(this.name);
      this.oneOf('dmaOperation');
      this.MANY(() => this.SUBRULE(this.mapOption));
    });

    public mapOption = this.RULE('mapOption', () =>
      this.OR([
        {
          ALT: () => {
            this.CONSUME(kw('at'));
            this.CONSUME(NumberLit);
          },
        },
        {
          ALT: () => {
            this.CONSUME(kw('size'));
            this.CONSUME2(NumberLit);
          },
        },
        { ALT: () => this.CONSUME(kw('pending')) },
        { ALT: () => this.CONSUME(kw('completed')) },
        {
          ALT: () => {
            this.CONSUME(kw('from'));
            this.oneOf('bufferSource', 1);
          },
        },
      ]),
    );

    /** `edk2 edk2-stable202411`: the EDK II release the firmware is built from (RULES §0.2). */
    public edk2Stmt = this.RULE('edk2Stmt', () => {
      this.CONSUME(kw('edk2'));
      this.CONSUME(WordToken, { LABEL: 'tag' });
    });
  };

/** The handlers (at ExitBootServices, before it, or on an event) and their actions. */
const handlerRules = (Base: ParserClass) =>
  class FirmwareHandlerRules extends statementRules(Base) {
    /** `on exit-boot-services tpl callback { actions }`, or one action on the same line. */
    public handlerStmt = this.RULE('handlerStmt', () => {
      this.CONSUME(kw('on'));
      this.OR([
        { ALT: () => this.CONSUME(kw('exit-boot-services')) },
        { ALT: () => this.CONSUME(kw('before-exit-boot-services')) },
        {
          ALT: () => {
            this.CONSUME(kw('event'));
            this.SUBRULE(this.name);
          },
        },
      ]);
      this.CONSUME(kw('tpl'));
      this.oneOf('tplLevel', 1);
      this.OR2([{ ALT: () => this.SUBRULE(this.actionBody) }, { ALT: () => this.SUBRULE(this.action) }, { ALT: EMPTY_ALT() }]);
    });

    public action = this.RULE('action', () =>
      this.OR([
        { ALT: () => this.CONSUME(kw('stop-dma')) },
        {
          ALT: () => {
            this.CONSUME(kw('unmap'));
            this.SUBRULE(this.ref);
          },
        },
        {
          ALT: () => {
            this.CONSUME(kw('unmap-all'));
            this.OPTION(() => this.CONSUME(kw('deferred')));
          },
        },
        {
          ALT: () => {
            this.CONSUME(kw('free'));
            this.SUBRULE2(this.ref);
          },
        },
        {
          ALT: () => {
            this.CONSUME(kw('signal'));
            this.SUBRULE(this.name);
          },
        },
        {
          ALT: () => {
            this.CONSUME(kw('call'));
            this.CONSUME(WordToken, { LABEL: 'service' });
          },
        },
      ]),
    );

    public actionBody = this.block('actionBody', () => [this.action], true);
  };

/** The blocks (a driver's, the IOMMU protocol's, the firmware's) and the `iommu-protocol` declaration. */
const rules = (Base: ParserClass) =>
  class FirmwareRules extends handlerRules(Base) {
    // `override`: the two bodies `statementRules` declares (and refers to) are defined here.
    public override driverBody = this.block('driverBody', () => [this.mapStmt, this.handlerStmt]);
    public iommuProtocolDecl = this.RULE('iommuProtocolDecl', () => {
      this.CONSUME(kw('iommu-protocol'));
      this.SUBRULE(this.iommuProtocolBody);
    });
    public iommuProtocolBody = this.block('iommuProtocolBody', () => [this.handlerStmt]);
    public override firmwareBody = this.block('firmwareBody', () => [this.edk2Stmt, this.driverDecl, this.iommuProtocolDecl]);
  };

function firmwareItem(n: CstNode, b: AstBuild): FirmwareItem | undefined {
  const c = n.children;
  const s = span(n);
  if (n.name === 'edk2Stmt') {
    const tag = word(token(c, 'tag'));
    return { kind: 'edk2', span: s, release: tag && { text: tag.text, span: tag.span } };
  }
  if (n.name === 'driverDecl') {
    const body = node(c, 'driverBody');
    return {
      kind: 'driver',
      span: s,
      name: b.name(node(c, 'name')),
      device: b.ref(node(c, 'ref')),
      braces: b.braces(body, s),
      items: body ? b.items(body, 'driverBody', (i) => (i.name === 'mapStmt' ? map(i, b) : handler(i, b))) : [],
    };
  }
  if (n.name === 'iommuProtocolDecl') {
    const body = node(c, 'iommuProtocolBody');
    return {
      kind: 'iommu-protocol',
      span: s,
      braces: b.braces(body, s),
      handlers: body ? b.items(body, 'iommuProtocolBody', (i) => handler(i, b)) : [],
    };
  }
  return undefined;
}

function map(n: CstNode, b: AstBuild): MapStmt {
  const c = n.children;
  return {
    kind: 'map',
    span: span(n),
    name: b.name(node(c, 'name')),
    operation: b.enumValue(c, 'dmaOperation'),
    options: nodes(c, 'mapOption')
      .map((o) => b.option(o))
      .filter((o): o is OptionLit => !!o),
  };
}

function handler(n: CstNode, b: AstBuild): HandlerStmt {
  const c = n.children;
  const s = span(n);
  const body = node(c, 'actionBody');
  const inline = node(c, 'action');
  return {
    kind: 'handler',
    span: s,
    event: word(token(c, 'exit-boot-services') ?? token(c, 'before-exit-boot-services') ?? token(c, 'event')),
    eventName: b.name(node(c, 'name')),
    tpl: b.enumValue(c, 'tplLevel'),
    braces: b.braces(body, s),
    actions: body ? b.items(body, 'actionBody', (i) => action(i, b)) : inline ? [action(inline, b)].filter((a): a is Action => !!a) : [],
  };
}

function action(n: CstNode, b: AstBuild): Action | undefined {
  const toks = allTokens(n);
  const verb = word(toks[0]);
  if (!verb) return undefined;
  const c = n.children;
  const name = b.name(node(c, 'name'));
  return {
    kind: 'action',
    span: span(n),
    verb,
    target: b.ref(node(c, 'ref')) ?? (name ? { name, span: name.span } : undefined),
    deferred: word(token(c, 'deferred')),
    service: word(token(c, 'service')),
  };
}

export const FIRMWARE_GRAMMAR: GrammarContribution<
  typeof ENUMS,
  { declarations: FirmwareDecl },
  keyof InstanceType<ReturnType<typeof rules>>
> = {
  id: 'firmware',
  keywords: {
    declarations: ['firmware'],
    statements: ['edk2', 'driver', 'map', 'iommu-protocol', 'stop-dma', 'unmap', 'unmap-all', 'signal', 'call'],
    values: [
      'tpl',
      'event',
      'bus-master-read',
      'bus-master-write',
      'common-buffer',
      'bus-master-read64',
      'bus-master-write64',
      'common-buffer64',
      'pending',
      'completed',
      'allocate-buffer',
      'allocate-pool',
      'allocate-pages',
      'exit-boot-services',
      'before-exit-boot-services',
      'notify',
      'callback',
      'deferred',
    ],
  },
  enums: ENUMS,
  rules,
  places: { declarations: ['firmwareDecl'] },
  build: {
    firmwareDecl: (n, b): FirmwareDecl => {
      const c = n.children;
      const body = node(c, 'firmwareBody');
      return {
        kind: 'firmware',
        span: span(n),
        name: b.name(node(c, 'name')),
        guest: b.ref(node(c, 'ref')),
        braces: b.braces(body, b.keywordSpan(n, 'firmware')),
        items: body ? b.items(body, 'firmwareBody', (i) => firmwareItem(i, b)) : [],
      };
    },
  },
};
