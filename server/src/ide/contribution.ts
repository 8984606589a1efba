/**
 * What a domain adds to the core (issue 23): its engine, and what it shows in the editor. The
 * core's features ask every domain in turn; the registry (server/src/domains/index.ts) lists
 * the domains, and the top layers hand that list to the `AnalysisHost`.
 */
import type { Assist, Node, Span, WordSlot } from '@iommu-lens/grammar';
import type { Device, Guest, Interval, Model, ModelPart, Platform, Sym, SymbolKind } from '../model';
import type { GroupRegions, GuestRamRange, SimEngine } from '../sim';

export interface HoverResult {
  markdown: string;
  span: Span;
}

/** `A`: the analysis its features read (ide/analysis.ts's `Analysis`; a parameter, so this file imports nothing of it). */
export interface IdeContribution<A> {
  /** The kinds of name it declares, whose hovers it gives. */
  hoverKinds?: readonly SymbolKind[];
  /** The hover of one of its names (the declaration or a use). */
  symbolHover?(a: A, sym: Sym): string | undefined;
  /** The hover of one of its statements without a name (a step, a command) at `offset`. */
  statementHover?(a: A, uri: string, offset: number): HoverResult | undefined;
  /** Like `statementHover`, asked after every domain's `statementHover` (a hover on any step). */
  fallbackStatementHover?(a: A, uri: string, offset: number): HoverResult | undefined;
  /** A few words on each of its declared names, for the outline and workspace symbols. */
  symbolDetails?(model: Model, out: Map<Sym, string>): void;
  /** Its declarations whose number literals may be addresses (hovers explain them). */
  addressDeclarations?(model: Model): readonly { sym: { uri: string }; decl: Node }[][];
  /** Its keywords' documentation. */
  keywords?: KeywordDocs;
  /** What completion offers in the places of its statements, by `slotKey`. */
  slotFillers?: Readonly<Record<string, SlotFiller<A>>>;
  /** Sections of a guest RAM hover (`here`: the file of the hovered line): what its runs did to the guest's map. */
  guestRamSections?(a: A, g: Guest, ranges: readonly GuestRamRange[], here: string): string[];
  /** Groups its runs bring into a guest's container (for the RAM hover's overlaps). */
  guestGroups?(a: A, g: Guest): readonly GroupRegions[];
  /** A note on one range of a guest's RAM (SEV-SNP: which side of vTOM it is on). */
  ramNote?(g: Guest, range: Interval): string | undefined;
  /** Sections it adds to a device's hover (what its runs did to the device). */
  deviceSections?(a: A, p: Platform, d: Device): string[];
}

/** Documentation of keywords: in their usual sense, and where they mean something else (`CONTEXT:word`). */
export interface KeywordDocs {
  docs: Readonly<Record<string, string>>;
  senses?: Readonly<Record<string, string>>;
}

/** Where completion offers words: the analysis, the cursor, what the grammar says goes there. */
export interface SlotContext<A> {
  a: A;
  uri: string;
  offset: number;
  assist: Assist;
  slot: WordSlot;
}

/** What a completion item is (the editor shows an icon for each). */
export type CompletionKind =
  | 'keyword'
  | 'value'
  | 'platform'
  | 'guest'
  | 'device'
  | 'iommu'
  | 'vintf'
  | 'domain'
  | 'mapping'
  | 'event'
  | 'opcode'
  | 'operand'
  | 'bit'
  | 'quirk'
  | 'class'
  | 'service';

/** A completion item before it is placed (ide/completion.ts's `Candidate`). */
export interface SlotCandidate {
  label: string;
  kind: CompletionKind;
  detail?: string;
  documentation?: string;
  insertText?: string;
}

/** What fills one place of the grammar (`slotKey`: `migrateStep/ref2`, `smmuCommand/opcode`, ...). */
export type SlotFiller<A> = (c: SlotContext<A>) => SlotCandidate[];

export interface DomainParts<A> {
  model?: ModelPart;
  engine?: SimEngine;
  ide?: IdeContribution<A>;
}
