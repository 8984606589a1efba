/**
 * The shared core of name resolution: the model being built, the global namespace,
 * reporting, declaring names and looking them up. The domain modules (platform.ts,
 * guest.ts, timeline.ts, firmware.ts, xen.ts, cmdqv.ts) use it; resolve.ts runs them.
 */
import type * as A from '@iommu-lens/grammar';
import type { Code } from './codes';
import type { Finding, Fix } from './findings';
import { finding } from './codes';
import type { Interval } from './interval';
import { COMPONENT_NAMES, parseRelease, RELEASE_EXAMPLES, type Component, type Release } from './versions';
import { evaluateCount, evaluateNumber, evaluateRange, type Evaluated } from './numbers';
import type { Block, BlockItems, BlockOwners, Device, KindInfo, Member, Model, Platform, ResolvedStep, Sym, SymbolKind } from './types';
import { emptyModel } from './empty';
import { didYouMean } from '@iommu-lens/grammar';
import type { WorkspaceNames } from './workspaceNames';

/**
 * Did-you-mean compares an unknown word with every candidate. A description with tens of
 * thousands of unknown names (20,000 against 1,000 devices took 12 s per analysis) stops
 * suggesting once this many candidates were compared in one model; every name is still
 * reported, only without a guess.
 */
const SUGGESTION_BUDGET = 1_000_000;

/** The names a did-you-mean compares with, listed only when it still runs (see SUGGESTION_BUDGET). */
export type Candidates = () => Iterable<string>;

export type StepOf<K extends A.Step['kind']> = Extract<A.Step, { kind: K }>;
/**
 * How a timeline resolves a step a domain adds (the grammar's `steps` place): the guest it
 * names (the timeline notes it in play and gives its platform at this step), or the device it
 * acts on without naming a guest (looked up on the platforms in play), then the rest.
 */
export interface StepResolver<S extends A.Step = A.Step> {
  guest?: (step: S) => A.Ref | undefined;
  device?: (step: S) => A.Ref | undefined;
  resolve?: (ctx: Scope, uri: string, step: S, r: ResolvedStep) => void;
}
/** What a scope reads of the model schema (part.ts builds it from the model parts). */
export interface ScopeSchema {
  readonly kinds: Readonly<Record<SymbolKind, KindInfo>>;
  /** `platforms, guests, ... and VINTFs`: the global kinds' plurals, for messages. */
  readonly globalPlurals: string;
  readonly maps: readonly string[];
  readonly lists: readonly string[];
  /** Per block, the resolver of each statement kind the domains add, and the kinds given once with their words. */
  readonly items: {
    readonly [B in Block]: ReadonlyMap<string, (ctx: Scope, uri: string, owner: BlockOwners[B], item: BlockItems[B]) => void>;
  };
  readonly singletons: { readonly [B in Block]: { kinds: readonly string[]; words: Readonly<Record<string, string>> } };
  /** The domains' timeline steps by kind. */
  readonly steps: ReadonlyMap<string, StepResolver>;
}

/** What a global name names: a platform, a guest, or a domain's declaration. */
export type GlobalEntity = { sym: Sym };

export class Scope {
  /**
   * `names`: the whole workspace's names, which suggestions consult even when this scope
   * models only a component of it (`usedNames` records that it did).
   */
  constructor(
    private readonly names: WorkspaceNames,
    readonly schema: ScopeSchema,
  ) {
    this.model = emptyModel(schema);
  }
  /** A suggestion or hint read the workspace's names: the result depends on them. */
  usedNames = false;
  /**
   * A lookup searched every platform of the model (a timeline's device with no guest in
   * play): the result depends on platforms this scope may not hold.
   */
  searchedAllPlatforms = false;

  /** The workspace's names, noting that the result now depends on them. */
  workspace(): WorkspaceNames {
    this.usedNames = true;
    return this.names;
  }

  readonly findings: Finding[] = [];
  readonly model: Model;
  /** The one global namespace. */
  readonly globals = new Map<string, { sym: Sym; entity: GlobalEntity }>();
  /** Every platform declaration, duplicates included (their members are checked too). */
  readonly allPlatforms: Platform[] = [];
  /** What a model part keeps while the model is built (a list of its declarations, duplicates included), by its key. */
  private readonly partState = new Map<object, unknown>();
  state<T>(key: object, init: () => T): T {
    if (!this.partState.has(key)) this.partState.set(key, init());
    return this.partState.get(key) as T;
  }

  /** The word messages use for a kind of name. */
  noun(kind: SymbolKind): string {
    return this.schema.kinds[kind].noun;
  }

  // ----- reporting -------------------------------------------------------------------

  report(code: Code, uri: string, span: A.Span, message: string, extra: Parameters<typeof finding>[3] = {}): void {
    this.findings.push(finding(code, { uri, span }, message, extra));
  }

  value<T>(uri: string, r: Evaluated<T>): T | undefined {
    if (r.ok) return r.value;
    this.report(r.problem.code, uri, r.problem.span, r.problem.message);
    return undefined;
  }

  num(uri: string, lit: A.NumLit | undefined): bigint | undefined {
    return lit ? this.value(uri, evaluateNumber(lit)) : undefined;
  }

  count(uri: string, lit: A.NumLit | undefined, min: bigint, max: bigint, what: string): bigint | undefined {
    return lit ? this.value(uri, evaluateCount(lit, min, max, what)) : undefined;
  }

  /** A release number (`kernel 6.6`); one that is not `MAJOR.MINOR[.PATCH]` is reported. */
  release(uri: string, lit: A.ReleaseLit | undefined, component: Component): Release | undefined {
    if (!lit) return undefined;
    const r = parseRelease(lit.text);
    if (!r)
      this.report(
        'invalid-number',
        uri,
        lit.span,
        `'${lit.text}' is not a ${COMPONENT_NAMES[component]} release such as ${RELEASE_EXAMPLES[component]}`,
      );
    return r;
  }

  range(uri: string, r: A.RangeLit | undefined): Interval | undefined {
    // A range missing its END or SIZE is a syntax error the parser already reported.
    return r && (r.end || r.size) ? this.value(uri, evaluateRange(r)) : undefined;
  }

  // ----- declaring -------------------------------------------------------------------

  sym(kind: SymbolKind, uri: string, name: A.Word, span: A.Span, container?: string): Sym {
    const s: Sym = { kind, name: name.text, uri, nameSpan: name.span, span, container };
    this.model.symbols.push(s);
    return s;
  }

  refer(uri: string, span: A.Span, target: Sym): void {
    this.model.references.push({ uri, span, target });
  }

  /** Declares a global name; false (and a finding) when it is taken. */
  declareGlobal(sym: Sym, entity: GlobalEntity): boolean {
    const prior = this.globals.get(sym.name);
    if (prior) {
      const same = prior.sym.kind === sym.kind;
      this.report(
        'duplicate-name',
        sym.uri,
        sym.nameSpan,
        `'${sym.name}' is already declared as ${same ? 'a' : 'the'} ${this.noun(prior.sym.kind)}${same ? '' : ` '${sym.name}'`}; ` +
          `${this.schema.globalPlurals} share one namespace`,
        { related: [{ uri: prior.sym.uri, span: prior.sym.nameSpan, message: `first declared here` }] },
      );
      return false;
    }
    this.globals.set(sym.name, { sym, entity });
    return true;
  }

  /** Declares a name in a local table (per platform, guest, driver, ...). */
  declareLocal<T extends { sym: Sym }>(table: Map<string, T>, entry: T, scope: string): boolean {
    const prior = table.get(entry.sym.name);
    if (prior) {
      this.report(
        'duplicate-name',
        entry.sym.uri,
        entry.sym.nameSpan,
        `'${entry.sym.name}' is already declared in ${scope} as ${article(this.noun(prior.sym.kind))}`,
        { related: [{ uri: prior.sym.uri, span: prior.sym.nameSpan, message: 'first declared here' }] },
      );
      return false;
    }
    table.set(entry.sym.name, entry);
    return true;
  }

  /** Warns about a setting given twice in one block; `words`: how a statement kind is written, where not as its kind. */
  singletons(
    uri: string,
    items: readonly { kind: string; span: A.Span }[],
    kinds: readonly string[],
    block: string,
    words: Readonly<Record<string, string>> = {},
  ): void {
    const seen = new Map<string, A.Span>();
    for (const item of items) {
      if (!kinds.includes(item.kind)) continue;
      const first = seen.get(item.kind);
      if (first) {
        this.report(
          'duplicate-setting',
          uri,
          item.span,
          `${block} already has a '${words[item.kind] ?? item.kind}' setting; this one overrides it`,
          { related: [{ uri, span: first, message: 'earlier setting' }] },
        );
      } else {
        seen.set(item.kind, item.span);
      }
    }
  }

  // ----- lookup ----------------------------------------------------------------------

  /** Resolves a reference to a global name of one of `kinds`. */
  global<K extends SymbolKind>(uri: string, ref: A.Ref | undefined, kinds: readonly K[]): GlobalEntity | undefined {
    if (!ref) return undefined;
    const want = kinds.map((k) => this.noun(k)).join(' or ');
    if (ref.qualifier) {
      this.report(
        'unknown-name',
        uri,
        ref.span,
        `a ${want} is named on its own, not qualified ('${ref.qualifier.text}.${ref.name.text}')`,
        { fixes: [replace(`Write '${ref.name.text}'`, uri, ref.span, ref.name.text)] },
      );
      return undefined;
    }
    const entry = this.globals.get(ref.name.text);
    if (!entry) {
      this.model.unresolved.push({ uri, span: ref.name.span, name: ref.name.text, kinds });
      this.unknown(uri, ref.name, `unknown ${want} '${ref.name.text}'`, () => this.workspace().globalsOf(kinds));
      return undefined;
    }
    if (!(kinds as readonly SymbolKind[]).includes(entry.sym.kind)) {
      this.report('wrong-kind', uri, ref.name.span, `'${ref.name.text}' is ${article(this.noun(entry.sym.kind))}, not ${article(want)}`, {
        related: [{ uri: entry.sym.uri, span: entry.sym.nameSpan, message: `'${ref.name.text}' is declared here` }],
      });
      return undefined;
    }
    this.refer(uri, ref.name.span, entry.sym);
    return entry.entity;
  }

  /** A word that is not one of the values a setting accepts (a register bit, a quirk). */
  unknownValue(uri: string, word: A.Word, message: string, candidates: Candidates): void {
    this.suggest('unknown-value', uri, word, message, candidates, '');
  }
  unknown(uri: string, name: A.Word, message: string, candidates: Candidates, hint = ''): void {
    this.suggest('unknown-name', uri, name, message, candidates, hint);
  }
  /** Candidates compared so far by did-you-mean (see SUGGESTION_BUDGET). */
  private compared = 0;

  /** Reports a word that matches nothing, with the closest candidate as a quick fix. */
  private suggest(code: Code, uri: string, word: A.Word, message: string, candidates: Candidates, hint: string): void {
    let guess: string | undefined;
    if (this.compared <= SUGGESTION_BUDGET) {
      const list = [...candidates()];
      this.compared += list.length;
      if (this.compared <= SUGGESTION_BUDGET) guess = didYouMean(word.text, list);
    }
    this.report(code, uri, word.span, `${message}${guess ? ` (did you mean '${guess}'?)` : ''}${hint}`, {
      fixes: guess ? [replace(`Change to '${guess}'`, uri, word.span, guess)] : [],
    });
  }

  /**
   * Resolves a platform member: in `platform` (the platform the statement is about),
   * or in the platform a qualified name names.
   */
  member(uri: string, ref: A.Ref | undefined, platform: Platform | undefined, kinds: readonly SymbolKind[]): Member | undefined {
    if (!ref) return undefined;
    let where = platform;
    if (ref.qualifier) {
      const q = this.globals.get(ref.qualifier.text);
      if (q?.sym.kind !== 'platform') {
        if (q) {
          this.report(
            'wrong-kind',
            uri,
            ref.qualifier.span,
            `'${ref.qualifier.text}' is ${article(this.noun(q.sym.kind))}, not a platform`,
          );
        } else {
          this.model.unresolved.push({ uri, span: ref.qualifier.span, name: ref.qualifier.text, kinds: ['platform'] });
          this.unknown(uri, ref.qualifier, `unknown platform '${ref.qualifier.text}'`, () => this.workspace().globalsOf(['platform']));
        }
        return undefined;
      }
      this.refer(uri, ref.qualifier.span, q.sym);
      const named = q.entity as Platform;
      if (platform && named !== platform) {
        this.report(
          'wrong-platform',
          uri,
          ref.span,
          `'${ref.qualifier.text}.${ref.name.text}' is on platform ${named.sym.name}, ` +
            `but this statement is about platform ${platform.sym.name}`,
          { related: [{ uri: platform.sym.uri, span: platform.sym.nameSpan, message: `platform ${platform.sym.name}` }] },
        );
        return undefined;
      }
      where = named;
    }
    if (!where) return undefined; // the platform itself did not resolve: already reported
    return this.memberIn(uri, ref.name, where, kinds);
  }

  memberIn(uri: string, name: A.Word, where: Platform, kinds: readonly SymbolKind[]): Member | undefined {
    const want = kinds.map((k) => this.noun(k)).join(' or ');
    const m = where.members.get(name.text);
    if (!m) {
      this.model.unresolved.push({ uri, span: name.span, name: name.text, kinds, platform: where });
      const candidates = () => [...where.members.values()].filter((x) => kinds.includes(x.sym.kind)).map((x) => x.sym.name);
      const hint = kinds.includes('device') ? this.elsewhereHint(name.text, where.sym.name) : '';
      // When another platform has exactly this name, that is the likelier mistake than a typo.
      this.unknown(uri, name, `no ${want} '${name.text}' on platform ${where.sym.name}`, hint ? () => [] : candidates, hint);
      return undefined;
    }
    if (!kinds.includes(m.sym.kind)) {
      this.report(
        'wrong-kind',
        uri,
        name.span,
        `'${name.text}' is ${article(this.noun(m.sym.kind))} of platform ${where.sym.name}, not ${article(want)}`,
        { related: [{ uri: m.sym.uri, span: m.sym.nameSpan, message: `'${name.text}' is declared here` }] },
      );
      return undefined;
    }
    this.refer(uri, name.span, m.sym);
    return m;
  }

  /** `; a and b have one`: the workspace's other platforms with a device of this name (three named, the rest counted). */
  elsewhereHint(device: string, except?: string): string {
    const { names, total } = this.workspace().somePlatformsWithDevice(device, except, 3);
    if (!total) return '';
    const list = total > names.length ? `${names.join(', ')} and ${total - names.length} more` : names.join(' and ');
    return `; ${list} ${total > 1 ? 'have' : 'has'} one`;
  }

  /**
   * The platforms of this model declaring a device of this name, in declaration order
   * (indexed on first use, once platforms are resolved: timeline steps ask per step).
   */
  platformsWithDevice(name: string): readonly Platform[] {
    if (!this.deviceOwners) {
      this.deviceOwners = new Map();
      for (const p of this.model.platforms.values()) {
        for (const d of p.devices.keys()) {
          const list = this.deviceOwners.get(d);
          if (list) list.push(p);
          else this.deviceOwners.set(d, [p]);
        }
      }
    }
    return this.deviceOwners.get(name) ?? [];
  }

  private deviceOwners?: Map<string, Platform[]>;

  /** Platforms of this model sorted as they are declared. */
  inDeclarationOrder(list: Platform[]): Platform[] {
    if (!this.platformOrder) this.platformOrder = new Map([...this.model.platforms.values()].map((p, i) => [p, i]));
    const order = this.platformOrder;
    return list.sort((a, b) => order.get(a)! - order.get(b)!);
  }

  private platformOrder?: Map<Platform, number>;

  device(uri: string, ref: A.Ref | undefined, platform: Platform | undefined): Device | undefined {
    return this.member(uri, ref, platform, ['device']) as Device | undefined;
  }
}

// ----- helpers ---------------------------------------------------------------------

export function replace(title: string, uri: string, span: A.Span, newText: string): Fix {
  return { title, edits: [{ uri, span, newText }] };
}

export function article(noun: string): string {
  return `${/^(?:[aeiou]|IOMMU)/.test(noun) ? 'an' : 'a'} ${noun}`;
}
