/**
 * What every rule of the parser shares, the core's and the domains': the shared pieces
 * (names, references, ranges, releases, `ram` lines, DMA windows, iommufd uses, unknown
 * statements) and the helpers that build blocks and enumerations. The core's rules
 * (`parser.ts`) and each domain's (`domains/`) extend it; `parser.ts` assembles the whole
 * parser and gives it what only the assembly knows: the tokens, the enumerations and which
 * domain rules go where.
 */
import { CstParser, type CstNode, type IOrAlt, type ParserMethod, type TokenType } from 'chevrotain';
import { errorMessageProvider } from './messages';
import { Bdf, Comma, Dot, DotDot, kw, LBrace, Newline, NumberLit, RBrace, Semi, Word } from './tokens';

/**
 * Where the core's rules take the domains' rules: the file's declarations, the timeline's
 * steps, and the core blocks' statements that speak a domain's vocabulary.
 */
export type Place = 'declarations' | 'steps' | 'iommuBody' | 'deviceBody' | 'guestBody';

/** What the assembled parser gives the shared rules. */
export interface Assembly {
  tokens: TokenType[];
  /** Every enumeration: the keyword alternatives of an enumerated value, by name. */
  enums: Readonly<Record<string, readonly string[]>>;
  /** The names of the domains' rules at a place, in the registry's order. */
  places: (place: Place) => readonly string[];
}

/** The parser classes the domains' rules extend. */
export type ParserClass = new (assembly: Assembly) => SharedRules;

/** Tokens a stray line may contain (everything but separators and braces). */
const strayTokens: TokenType[] = [Comma, DotDot, Dot, Bdf, NumberLit, Word];

export class SharedRules extends CstParser {
  constructor(private readonly assembly: Assembly) {
    super(assembly.tokens, {
      recoveryEnabled: true,
      nodeLocationTracking: 'onlyOffset',
      maxLookahead: 3,
      errorMessageProvider,
    });
  }

  /** A name being declared. */
  public name = this.RULE('name', () => {
    this.CONSUME(Word);
  });

  /** A reference: `nic0`, or qualified by its platform, `epyc-b.nic0`. */
  public ref = this.RULE('ref', () => {
    this.CONSUME(Word);
    this.OPTION(() => {
      this.CONSUME(Dot);
      this.CONSUME2(Word);
    });
  });

  /** `START..END` (END inclusive) or `START size SIZE`. */
  public range = this.RULE('range', () => {
    this.CONSUME(NumberLit, { LABEL: 'start' });
    this.OR([
      {
        ALT: () => {
          this.CONSUME(DotDot);
          this.CONSUME2(NumberLit, { LABEL: 'end' });
        },
      },
      {
        ALT: () => {
          this.CONSUME(kw('size'));
          this.CONSUME3(NumberLit, { LABEL: 'sizeValue' });
        },
      },
    ]);
  });

  /** A line the enclosing block does not understand; kept whole, reported later. */
  public unknownStatement = this.RULE('unknownStatement', () => {
    this.AT_LEAST_ONE(() => this.OR(this.alts('unknownStatement', () => strayTokens.map((t) => ({ ALT: () => this.CONSUME(t) })))));
    this.OPTION(() => this.SUBRULE(this.strayBlock));
  });

  public strayBlock = this.RULE('strayBlock', () => {
    this.CONSUME(LBrace);
    this.MANY(() =>
      this.OR([
        { ALT: () => this.CONSUME(Newline) },
        { ALT: () => this.CONSUME(Semi) },
        { ALT: () => this.SUBRULE(this.strayBlock) },
        ...strayTokens.map((t) => ({ ALT: () => this.CONSUME2(t) })),
      ]),
    );
    this.CONSUME(RBrace);
  });

  /** Consumes one keyword of an enumeration (`ENUMS`), e.g. a region type. */
  protected oneOf(e: string, idx = 0): void {
    this.or(
      idx,
      this.alts(`enum ${e} ${idx}`, () => {
        const values = this.assembly.enums[e];
        if (!values) throw new Error(`no enumeration named ${e}`);
        return values.map((w) => ({ ALT: () => this.consume(idx, kw(w), { LABEL: e }) }));
      }),
    );
  }

  /**
   * The alternatives of an OR that runs once per statement, made on its first call and kept
   * (chevrotain's advice on performance): made on every call, the arrays and closures of the
   * blocks' statement alternatives were about 40% of what the parser allocated. `site` names
   * the OR; `make` gives the same alternatives every time.
   */
  protected alts(site: string, make: () => IOrAlt<unknown>[]): IOrAlt<unknown>[] {
    let list = this.altCache.get(site);
    if (!list) this.altCache.set(site, (list = make()));
    return list;
  }
  private readonly altCache = new Map<string, IOrAlt<unknown>[]>();

  /**
   * Builds a block rule: `{` statements `}` with the given statement alternatives.
   * A required block may open on the next line; an optional one (`iommu x vt-d { ... }`)
   * must open on the same line, or the next statement would be taken for its body.
   */
  protected block(ruleName: string, statements: () => ParserMethod<[], CstNode>[], optional = false) {
    return this.RULE(ruleName, () => {
      if (!optional) this.MANY(() => this.CONSUME(Newline, { LABEL: 'leadingNewline' }));
      this.CONSUME(LBrace);
      // One token of lookahead picks the statement, so an error inside a known
      // statement is recovered there instead of turning the line into an unknown one.
      this.MANY2(() =>
        this.OR({
          MAX_LOOKAHEAD: 1,
          DEF: this.alts(ruleName, () => [
            { ALT: () => this.CONSUME2(Newline) },
            { ALT: () => this.CONSUME(Semi) },
            ...statements().map((rule) => ({ ALT: () => this.SUBRULE(rule) })),
            { ALT: () => this.SUBRULE(this.unknownStatement), IGNORE_AMBIGUITIES: true },
          ]),
        }),
      );
      this.CONSUME(RBrace);
    });
  }

  /** The domains' rules at `place`, in the registry's order (read as chevrotain records the rules). */
  protected placed(place: Place): ParserMethod<[], CstNode>[] {
    const rules = this as unknown as Record<string, ParserMethod<[], CstNode> | undefined>;
    return this.assembly.places(place).map((name) => {
      const rule = rules[name];
      if (!rule) throw new Error(`a domain places the rule '${name}' but defines none of that name`);
      return rule;
    });
  }

  /** A release number such as `6.6` or `6.6.12` (RULES §0.2); its value is the tokens' text. */
  public release = this.RULE('release', () => {
    this.CONSUME(NumberLit);
    this.AT_LEAST_ONE(() => {
      this.CONSUME(Dot);
      this.CONSUME2(NumberLit);
    });
  });

  public ramDecl = this.RULE('ramDecl', () => {
    this.CONSUME(kw('ram'));
    this.SUBRULE(this.name);
    this.SUBRULE(this.range);
  });

  /** `iommufd NAME` after an assignment: QEMU's `iommufd=NAME` on the vfio-pci device (RULES §6.6). */
  public iommufdUse = this.RULE('iommufdUse', () => {
    this.CONSUME(kw('iommufd'));
    this.SUBRULE(this.name);
  });

  /** `dma-window RANGE`: where the device's DMA lands in guest-physical space (SEV vTOM checks, RULES §6.1). */
  public dmaWindow = this.RULE('dmaWindow', () => {
    this.CONSUME(kw('dma-window'));
    this.SUBRULE(this.range);
  });
}
