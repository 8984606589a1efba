/**
 * What a domain adds to the core (issue 23): its engine, and what it shows in the editor. The
 * core's features ask every domain in turn; the registry (server/src/domains/index.ts) lists
 * the domains, and the top layers hand that list to the `AnalysisHost`.
 */
import type { Assist, Node, Span, WordSlot } from '@iommu-lens/grammar';
import type { Device, Guest, Interval, Iommu, Model, ModelPart, Platform, Sym, SymbolKind } from '../model';
import type { GroupRegions, GuestCheck, GuestRamRange, SimEngine } from '../sim';
import type { KindLook } from './kindLooks';

export interface HoverResult {
  markdown: string;
  span: Span;
}

/** `A`: the analysis its features read (ide/analysis.ts's `Analysis`; a parameter, so this file imports nothing of it). */
export interface IdeContribution<A> {
  /** How the editor shows the kinds of name it declares. */
  looks?: { readonly [K in SymbolKind]?: KindLook };
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
  /** The platform and guest a number literal of one of its declarations is about (`decl`: the declaration). */
  addressContext?(a: A, decl: Node, literal: Span): { platform?: Platform; guest?: Guest } | undefined;
  /** Ranges of a platform's memory it names (an address hover lists what holds the address). */
  hostRanges?(a: A, p: Platform): readonly { what: string; range: Interval }[];
  /** Lines an address hover adds for the address spaces it declares besides guests' (Xen domains' RAM). */
  addressLines?(a: A, v: bigint): string[];
  /** A note on an address of a guest (SEV-SNP: which side of vTOM it is on). */
  addressNote?(g: Guest, v: bigint): string | undefined;
  /** Bars it adds over a guest's RAM in the address map (SEV-SNP: the private and shared parts). */
  guestBars?(g: Guest, ram: readonly Interval[]): readonly GuestBar[];
  /** A note on a device it gives a meaning to (TDISP: it has a TDI): a sentence for its hover, or a few words (`brief`) for completion. */
  deviceNote?(d: Device, brief: boolean): string | undefined;
  /** A note on an IOMMU it gives a meaning to (CMDQV: its VINTFs), for completion. */
  iommuNote?(i: Iommu): string | undefined;
  /** Sections it adds to a device's hover (what its runs did to the device). */
  deviceSections?(a: A, p: Platform, d: Device): string[];
}

/** A bar of the address map over guest-physical space, with the statement it comes from. */
export interface GuestBar {
  range: Interval;
  kind: 'private' | 'shared';
  label: string;
  source: { uri: string; span: Span };
}

/** Documentation of keywords: in their usual sense, and where they mean something else (`CONTEXT:word`). */
export interface KeywordDocs {
  docs: Readonly<Record<string, string>>;
  senses?: Readonly<Record<string, string>>;
  /** What its enumerations' values are (`xenMode`: `Xen domain type`), for completion's detail. */
  enumTitles?: Readonly<Record<string, string>>;
  /** What a statement is called in a block that opens with the word (`timeline`: `timeline step`). */
  statementNouns?: Readonly<Record<string, string>>;
}

/** Where completion offers words: the analysis, the cursor, what the grammar says goes there. */
export interface SlotContext<A> {
  a: A;
  uri: string;
  offset: number;
  assist: Assist;
  slot: WordSlot;
}

/** What a completion item is (the editor shows an icon for each): a word of the language, or a name of its kind (its look's icon). */
export type CompletionKind = 'keyword' | 'value' | SymbolKind | 'opcode' | 'operand' | 'bit' | 'quirk' | 'class' | 'service';

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
  /** Checks it adds to VFIO's start of each guest. */
  guestChecks?: readonly GuestCheck[];
  ide?: IdeContribution<A>;
}
