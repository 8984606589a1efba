/**
 * SMMU CMDQV's grammar: an IOMMU's `cmdqv` hardware, the VINTFs (`vintf` blocks) and the
 * SMMUv3 commands a guest issues through them (`commands` blocks of batches).
 */
import type { CstNode } from 'chevrotain';
import type { Braces, Node, NumLit, Ref, UnknownStatement, Word } from '../nodes';
import type { AstBuild } from '../contribution';
import type { GrammarContribution, ParserClass } from '../contribution';
import { node, nodes, num, span, token, tokens, word } from '../cst';
import { kw, NumberLit, Word as WordToken } from '../tokens';

const ENUMS = {
  ownerKind: ['guest', 'host'],
} as const;

export interface CmdqvStmt extends Node {
  kind: 'cmdqv';
  vintfs?: NumLit;
  sidsPerVintf?: NumLit;
  vcmdqs?: NumLit;
}
export interface VintfDecl extends Node {
  kind: 'vintf';
  name?: Word;
  iommu?: Ref;
  guest?: Ref;
  braces?: Braces;
  items: VintfItem[];
}
export type VintfItem =
  | (Node & { kind: 'owner' | 'hyp-own'; value?: Word })
  | (Node & { kind: 'stream'; device?: Ref; virtualSid?: NumLit })
  | (Node & { kind: 'vmid'; value?: NumLit })
  | (Node & { kind: 'queue'; index?: NumLit; size?: NumLit; base?: NumLit })
  | UnknownStatement;
export interface CommandsDecl extends Node {
  kind: 'commands';
  vintf?: Ref;
  braces?: Braces;
  batches: (BatchDecl | UnknownStatement)[];
}
export interface BatchDecl extends Node {
  kind: 'batch';
  braces?: Braces;
  commands: (SmmuCommand | UnknownStatement)[];
}
export interface SmmuCommand extends Node {
  kind: 'smmu-command';
  opcode: Word;
  operands: (NumLit | Word)[];
}

/** An IOMMU's `cmdqv` statement, and the VINTFs: their declaration, statements and block. */
const vintfRules = (Base: ParserClass) =>
  class CmdqvVintfRules extends Base {
    public cmdqvStmt = this.RULE('cmdqvStmt', () => {
      this.CONSUME(kw('cmdqv'));
      this.OPTION(() => {
        this.CONSUME(kw('vintfs'));
        this.CONSUME(NumberLit, { LABEL: 'vintfCount' });
      });
      this.OPTION2(() => {
        this.CONSUME(kw('sids-per-vintf'));
        this.CONSUME2(NumberLit, { LABEL: 'sidCount' });
      });
      this.OPTION3(() => {
        this.CONSUME(kw('vcmdqs'));
        this.CONSUME3(NumberLit, { LABEL: 'vcmdqCount' });
      });
    });

    public vintfDecl = this.RULE('vintfDecl', () => {
      this.CONSUME(kw('vintf'));
      this.SUBRULE(this.name);
      this.CONSUME(kw('on'));
      this.SUBRULE(this.ref);
      // Without `for`, the host kernel's own VINTF (VINTF0).
      this.OPTION(() => {
        this.CONSUME(kw('for'));
        this.SUBRULE2(this.ref);
      });
      this.SUBRULE(this.vintfBody);
    });
    public ownerStmt = this.RULE('ownerStmt', () => {
      this.CONSUME(kw('owner'));
      this.oneOf('ownerKind');
    });
    public streamStmt = this.RULE('streamStmt', () => {
      this.CONSUME(kw('stream'));
      this.SUBRULE(this.ref);
      this.CONSUME(kw('as'));
      this.CONSUME(NumberLit);
    });
    public vmidStmt = this.RULE('vmidStmt', () => {
      this.CONSUME(kw('vmid'));
      this.CONSUME(NumberLit);
    });
    public hypOwnStmt = this.RULE('hypOwnStmt', () => {
      this.CONSUME(kw('hyp-own'));
      this.oneOf('onOff');
    });
    /** An LVCMDQ the VMM allocates (IOMMU_HW_QUEUE_ALLOC): `queue INDEX size BYTES [at ADDRESS]`. */
    public queueStmt = this.RULE('queueStmt', () => {
      this.CONSUME(kw('queue'));
      this.CONSUME(NumberLit, { LABEL: 'index' });
      this.CONSUME(kw('size'));
      this.CONSUME2(NumberLit, { LABEL: 'queueSize' });
      this.OPTION(() => {
        this.CONSUME(kw('at'));
        this.CONSUME3(NumberLit, { LABEL: 'base' });
      });
    });
    public vintfBody = this.block('vintfBody', () => [this.ownerStmt, this.streamStmt, this.vmidStmt, this.hypOwnStmt, this.queueStmt]);
  };

/** The SMMUv3 commands a guest issues through a VINTF: `commands` blocks of batches (defined after the VINTFs' rules). */
const rules = (Base: ParserClass) =>
  class CmdqvRules extends vintfRules(Base) {
    public commandsDecl = this.RULE('commandsDecl', () => {
      this.CONSUME(kw('commands'));
      this.SUBRULE(this.ref);
      this.SUBRULE(this.commandsBody);
    });
    public batchDecl = this.RULE('batchDecl', () => {
      this.CONSUME(kw('batch'));
      this.SUBRULE(this.batchBody);
    });
    /** One SMMUv3 command, e.g. `TLBI_NH_VA asid 3 va 0x1000` or `CFGI_STE 0x8`. */
    public smmuCommand = this.RULE('smmuCommand', () => {
      this.CONSUME(WordToken, { LABEL: 'opcode' });
      this.MANY(() =>
        this.OR([
          { ALT: () => this.CONSUME(NumberLit, { LABEL: 'operand' }) },
          { ALT: () => this.CONSUME2(WordToken, { LABEL: 'operand' }) },
        ]),
      );
    });
    public batchBody = this.block('batchBody', () => [this.smmuCommand]);
    public commandsBody = this.block('commandsBody', () => [this.batchDecl]);
  };

function vintfItem(n: CstNode, b: AstBuild): VintfItem | undefined {
  const c = n.children;
  const s = span(n);
  switch (n.name) {
    case 'ownerStmt':
      return { kind: 'owner', span: s, value: b.enumValue(c, 'ownerKind') };
    case 'hypOwnStmt':
      return { kind: 'hyp-own', span: s, value: b.enumValue(c, 'onOff') };
    case 'streamStmt':
      return { kind: 'stream', span: s, device: b.ref(node(c, 'ref')), virtualSid: num(token(c, 'Number')) };
    case 'vmidStmt':
      return { kind: 'vmid', span: s, value: num(token(c, 'Number')) };
    case 'queueStmt':
      return { kind: 'queue', span: s, index: num(token(c, 'index')), size: num(token(c, 'queueSize')), base: num(token(c, 'base')) };
    default:
      return undefined;
  }
}

function smmuCommand(n: CstNode): SmmuCommand | undefined {
  const c = n.children;
  const opcode = word(token(c, 'opcode'));
  if (!opcode) return undefined;
  const operands = tokens(c, 'operand')
    .sort((a, b) => a.startOffset - b.startOffset)
    .map((t) => (t.tokenType.name === 'Number' ? num(t)! : word(t)!));
  return { kind: 'smmu-command', span: span(n), opcode, operands };
}

export const CMDQV_GRAMMAR: GrammarContribution<
  typeof ENUMS,
  { declarations: VintfDecl | CommandsDecl; iommuBody: CmdqvStmt },
  keyof InstanceType<ReturnType<typeof rules>>
> = {
  id: 'cmdqv',
  keywords: {
    declarations: ['vintf', 'commands'],
    statements: ['cmdqv', 'owner', 'vmid', 'hyp-own', 'queue', 'batch'],
    values: ['vintfs', 'sids-per-vintf', 'vcmdqs'],
  },
  enums: ENUMS,
  rules,
  places: { declarations: ['vintfDecl', 'commandsDecl'], iommuBody: ['cmdqvStmt'] },
  build: {
    cmdqvStmt: (n): CmdqvStmt => {
      const c = n.children;
      return {
        kind: 'cmdqv',
        span: span(n),
        vintfs: num(token(c, 'vintfCount')),
        sidsPerVintf: num(token(c, 'sidCount')),
        vcmdqs: num(token(c, 'vcmdqCount')),
      };
    },
    vintfDecl: (n, b): VintfDecl => {
      const c = n.children;
      const body = node(c, 'vintfBody');
      const refs = nodes(c, 'ref');
      return {
        kind: 'vintf',
        span: span(n),
        name: b.name(node(c, 'name')),
        iommu: b.ref(refs[0]),
        guest: b.ref(refs[1]),
        braces: b.braces(body, b.keywordSpan(n, 'vintf')),
        items: body ? b.items(body, 'vintfBody', (i) => vintfItem(i, b)) : [],
      };
    },
    commandsDecl: (n, b): CommandsDecl => {
      const c = n.children;
      const body = node(c, 'commandsBody');
      return {
        kind: 'commands',
        span: span(n),
        vintf: b.ref(node(c, 'ref')),
        braces: b.braces(body, b.keywordSpan(n, 'commands')),
        batches: body
          ? b.items(body, 'commandsBody', (i) => {
              const batchBody = node(i.children, 'batchBody');
              const s = span(i);
              return {
                kind: 'batch' as const,
                span: s,
                braces: b.braces(batchBody, s),
                commands: batchBody ? b.items(batchBody, 'batchBody', smmuCommand) : [],
              };
            })
          : [],
      };
    },
  },
};
