/**
 * Xen's grammar: a `xen` host with its release, its own memory, quarantine, `dom0` and
 * `domain` blocks, and the `balloon` / `free` steps that change a domain's P2M.
 */
import type { CstNode, ParserMethod } from 'chevrotain';
import type { Braces, Node, RangeLit, RamDecl, Ref, ReleaseLit, UnknownStatement, Word } from '../nodes';
import type { AstBuild } from '../contribution';
import type { GrammarContribution, ParserClass } from '../contribution';
import { node, nodes, span, tokens, token, word } from '../cst';
import { Comma, kw } from '../tokens';

const ENUMS = {
  xenMode: ['pv', 'pvh', 'hvm'],
  dom0Iommu: ['strict', 'passthrough', 'relaxed'],
  xenMap: ['host-identity', 'maintained', 'pv-iommu', 'virtual-vtd'],
  quarantineMode: ['off', 'basic', 'scratch-page'],
  rdmPolicy: ['strict', 'relaxed'],
} as const;

export interface XenDecl extends Node {
  kind: 'xen';
  name?: Word;
  platform?: Ref;
  braces?: Braces;
  items: (Dom0Decl | DomainDecl | XenRangeStmt | XenQuarantineStmt | XenVersionStmt | UnknownStatement)[];
}
/** Memory Xen keeps for itself (image, heap, stubs): never identity-mapped for dom0. */
export interface XenRangeStmt extends Node {
  kind: 'xen-range';
  range?: RangeLit;
}
/** `xen 4.17`: the hypervisor's release. */
export interface XenVersionStmt extends Node {
  kind: 'xen-version';
  release?: ReleaseLit;
}
/** `quarantine MODE` in the xen block: Xen's global `iommu=quarantine=` option. */
export interface XenQuarantineStmt extends Node {
  kind: 'quarantine';
  value?: Word;
}
export interface Dom0Decl extends Node {
  kind: 'dom0';
  braces?: Braces;
  items: XenItem[];
}
export interface DomainDecl extends Node {
  kind: 'domain';
  name?: Word;
  braces?: Braces;
  items: XenItem[];
}
export type XenItem =
  | (Node & { kind: 'mode' | 'map-reserved' | 'iommu-map' | 'quarantine'; value?: Word })
  | (Node & { kind: 'dom0-iommu'; values: Word[] })
  | (Node & { kind: 'pass'; devices: Ref[]; policy?: Word })
  | (Node & { kind: 'rdm'; strategy?: Word; policy?: Word })
  | RamDecl
  | UnknownStatement;
/** A P2M change: the domain gives pages back (`balloon`) or frees them (`free`). */
export type P2mStep = Node & { kind: 'balloon' | 'free'; target?: Ref; range?: RangeLit };

/*
 * The rules, in four mixins, one per group; each extends the one before, so the rules are
 * defined (and chevrotain lists them) in the order below.
 */

/** The declarations: `xen` on a platform, its `dom0` and `domain`s. */
const declarationRules = (Base: ParserClass) =>
  class XenDeclarationRules extends Base {
    // Their bodies are defined with the blocks (`blockRules`): a rule's body runs only at the
    // parser's self-analysis, when every rule exists.
    declare xenBody: ParserMethod<[], CstNode>;
    declare dom0Body: ParserMethod<[], CstNode>;
    declare domainBody: ParserMethod<[], CstNode>;

    public xenDecl = this.RULE('xenDecl', () => {
      this.CONSUME(kw('xen'));
      this.SUBRULE(this.name);
      this.CONSUME(kw('on'));
      this.SUBRULE(this.ref);
      this.SUBRULE(this.xenBody);
    });
    public dom0Decl = this.RULE('dom0Decl', () => {
      this.CONSUME(kw('dom0'));
      this.SUBRULE(this.dom0Body);
    });
    public domainDecl = this.RULE('domainDecl', () => {
      this.CONSUME(kw('domain'));
      this.SUBRULE(this.name);
      this.SUBRULE(this.domainBody);
    });
  };

/** The statements of dom0 and of a domain (mode, IOMMU, passed-through devices, RDM), and the xen block's `xen-range`. */
const statementRules = (Base: ParserClass) =>
  class XenStatementRules extends declarationRules(Base) {
    public modeStmt = this.RULE('modeStmt', () => {
      this.CONSUME(kw('mode'));
      this.oneOf('xenMode');
    });
    public dom0IommuStmt = this.RULE('dom0IommuStmt', () => {
      this.CONSUME(kw('iommu'));
      this.AT_LEAST_ONE(() => this.oneOf('dom0Iommu'));
    });
    public mapReservedStmt = this.RULE('mapReservedStmt', () => {
      this.CONSUME(kw('map-reserved'));
      this.oneOf('onOff');
    });
    public passStmt = this.RULE('passStmt', () => {
      this.CONSUME(kw('pass'));
      this.SUBRULE(this.ref);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.ref);
      });
      // xl's per-device `pci = [ 'SBDF,rdm_policy=relaxed' ]`.
      this.OPTION(() => {
        this.CONSUME(kw('rdm-policy'));
        this.oneOf('rdmPolicy');
      });
    });
    /** xl's `rdm = "strategy=host,policy=relaxed"`: the domain's default RDM policy. */
    public rdmStmt = this.RULE('rdmStmt', () => {
      this.CONSUME(kw('rdm'));
      this.OPTION(() => {
        this.CONSUME(kw('strategy'));
        this.CONSUME(kw('host'));
      });
      this.OPTION2(() => {
        this.CONSUME(kw('policy'));
        this.oneOf('rdmPolicy');
      });
    });
    public iommuMapStmt = this.RULE('iommuMapStmt', () => {
      this.CONSUME(kw('iommu-map'));
      this.oneOf('xenMap');
    });
    public quarantineStmt = this.RULE('quarantineStmt', () => {
      this.CONSUME(kw('quarantine'));
      this.oneOf('quarantineMode');
    });
    public xenRangeStmt = this.RULE('xenRangeStmt', () => {
      this.CONSUME(kw('xen-range'));
      this.SUBRULE(this.range);
    });
  };

/** The blocks (dom0's, a domain's, the xen block's) and the xen block's `xen RELEASE`. */
const blockRules = (Base: ParserClass) =>
  class XenBlockRules extends statementRules(Base) {
    // `override`: the bodies `declarationRules` declares (and refers to) are defined here.
    public override dom0Body = this.block('dom0Body', () => [this.modeStmt, this.dom0IommuStmt, this.mapReservedStmt, this.iommuMapStmt]);
    public override domainBody = this.block('domainBody', () => [
      this.modeStmt,
      this.passStmt,
      this.iommuMapStmt,
      this.quarantineStmt,
      this.ramDecl,
      this.rdmStmt,
    ]);
    /** `xen 4.17`: the hypervisor's release; rules that changed between releases follow it. */
    public xenVersionStmt = this.RULE('xenVersionStmt', () => {
      this.CONSUME(kw('xen'));
      this.SUBRULE(this.release);
    });
    public override xenBody = this.block('xenBody', () => [
      this.dom0Decl,
      this.domainDecl,
      this.xenRangeStmt,
      this.quarantineStmt,
      this.xenVersionStmt,
    ]);
  };

/** The timeline's P2M steps. */
const rules = (Base: ParserClass) =>
  class XenRules extends blockRules(Base) {
    /** A P2M change: the domain gives pages back (`balloon`) or frees them (`free`). */
    public balloonStep = this.RULE('balloonStep', () => {
      this.CONSUME(kw('balloon'));
      this.SUBRULE(this.ref);
      this.OPTION(() => this.SUBRULE(this.range));
    });
    public freeStep = this.RULE('freeStep', () => {
      this.CONSUME(kw('free'));
      this.SUBRULE(this.ref);
      this.SUBRULE(this.range);
    });
  };

function xenItem(n: CstNode, b: AstBuild): Dom0Decl | DomainDecl | XenRangeStmt | XenQuarantineStmt | XenVersionStmt | undefined {
  const c = n.children;
  const s = span(n);
  if (n.name === 'xenVersionStmt') return { kind: 'xen-version', span: s, release: b.release(node(c, 'release')) };
  if (n.name === 'xenRangeStmt') return { kind: 'xen-range', span: s, range: b.range(node(c, 'range')) };
  if (n.name === 'quarantineStmt') return { kind: 'quarantine', span: s, value: b.enumValue(c, 'quarantineMode') };
  if (n.name === 'dom0Decl') {
    const body = node(c, 'dom0Body');
    return {
      kind: 'dom0',
      span: s,
      braces: b.braces(body, s),
      items: body ? b.items(body, 'dom0Body', (i) => xenStmt(i, b)) : [],
    };
  }
  if (n.name === 'domainDecl') {
    const body = node(c, 'domainBody');
    return {
      kind: 'domain',
      span: s,
      name: b.name(node(c, 'name')),
      braces: b.braces(body, s),
      items: body ? b.items(body, 'domainBody', (i) => xenStmt(i, b)) : [],
    };
  }
  return undefined;
}

function xenStmt(n: CstNode, b: AstBuild): XenItem | undefined {
  const c = n.children;
  const s = span(n);
  switch (n.name) {
    case 'modeStmt':
      return { kind: 'mode', span: s, value: b.enumValue(c, 'xenMode') };
    case 'mapReservedStmt':
      return { kind: 'map-reserved', span: s, value: b.enumValue(c, 'onOff') };
    case 'iommuMapStmt':
      return { kind: 'iommu-map', span: s, value: b.enumValue(c, 'xenMap') };
    case 'quarantineStmt':
      return { kind: 'quarantine', span: s, value: b.enumValue(c, 'quarantineMode') };
    case 'dom0IommuStmt':
      return { kind: 'dom0-iommu', span: s, values: tokens(c, 'dom0Iommu').map((t) => word(t)!) };
    case 'passStmt':
      return {
        kind: 'pass',
        span: s,
        devices: nodes(c, 'ref')
          .map((r) => b.ref(r))
          .filter((r): r is Ref => !!r),
        policy: b.enumValue(c, 'rdmPolicy'),
      };
    case 'rdmStmt':
      return { kind: 'rdm', span: s, strategy: word(token(c, 'host')), policy: b.enumValue(c, 'rdmPolicy') };
    case 'ramDecl':
      return b.ram(n);
    default:
      return undefined;
  }
}

const p2mStep =
  (kind: 'balloon' | 'free') =>
  (n: CstNode, b: AstBuild): P2mStep => ({
    kind,
    span: span(n),
    target: b.ref(node(n.children, 'ref')),
    range: b.range(node(n.children, 'range')),
  });

export const XEN_GRAMMAR: GrammarContribution<
  typeof ENUMS,
  { declarations: XenDecl; steps: P2mStep },
  keyof InstanceType<ReturnType<typeof rules>>
> = {
  id: 'xen',
  keywords: {
    declarations: ['xen'],
    statements: ['dom0', 'domain', 'mode', 'pass', 'iommu-map', 'quarantine', 'map-reserved', 'xen-range', 'rdm', 'balloon'],
    values: [
      'pv',
      'pvh',
      'hvm',
      'strict',
      'passthrough',
      'relaxed',
      'host-identity',
      'maintained',
      'pv-iommu',
      'virtual-vtd',
      'basic',
      'scratch-page',
      'rdm-policy',
      'strategy',
      'policy',
    ],
  },
  enums: ENUMS,
  rules,
  places: { declarations: ['xenDecl'], steps: ['balloonStep', 'freeStep'] },
  build: {
    xenDecl: (n, b): XenDecl => {
      const c = n.children;
      const body = node(c, 'xenBody');
      return {
        kind: 'xen',
        span: span(n),
        name: b.name(node(c, 'name')),
        platform: b.ref(node(c, 'ref')),
        braces: b.braces(body, b.keywordSpan(n, 'xen')),
        items: body ? b.items(body, 'xenBody', (i) => xenItem(i, b)) : [],
      };
    },
    balloonStep: p2mStep('balloon'),
    freeStep: p2mStep('free'),
  },
};
