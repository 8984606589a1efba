/**
 * Completion: what may be typed at the cursor, each with documentation. The grammar says
 * what may come (`assistAt`: keywords, and the places where a name, an SMMU opcode or a
 * register bit goes); this module fills those places from the model with names of the
 * right kind, looked up where the statement is about: the devices of the guest's platform
 * in `assign`, platforms after `guest G on`, guests in timeline steps, and so on.
 * The enclosing declarations are read from the text (their opening words), so completion
 * works while the model lags behind the line being typed.
 */
import { assistAt, type Assist, type AssistKeyword, type Span, type WordSlot } from '@iommu-lens/grammar';
import { formatBdf, type Device, type Guest, type Iommu, type Platform, type Sym } from '../model';
import type { Analysis, DomainParts } from './analysis';
import type { CompletionKind, SlotContext, SlotFiller } from './contribution';
import { DEVICE_CLASS_DOCS, keywordDoc, keywordDocs } from './keywordDocs';

export type { CompletionKind } from './contribution';

export interface CompletionItem {
  label: string;
  kind: CompletionKind;
  /** One line: what the item is (`device on platform epyc-a, 0000:41:00.0`, `TDISP message`). */
  detail?: string;
  /** Markdown. */
  documentation?: string;
  /** The text the item replaces: the word being typed, or an empty span at the cursor. */
  replace: Span;
  /** When it differs from the label. */
  insertText?: string;
  /** Keeps the order given here (most relevant first). */
  sortText?: string;
}

/** An item before completion places it: what a slot filler returns. */
export type Candidate = Omit<CompletionItem, 'replace' | 'sortText'>;

/** Where a word goes: the analysis, the cursor, what the grammar says of it. */
export type Ctx = SlotContext<Analysis>;

/** Completions at `offset` of `text` (the current text of `uri`); `a` may be from a slightly older text. */
export function completion(a: Analysis, uri: string, text: string, offset: number): CompletionItem[] {
  const assist = assistAt(text, offset);
  if (!assist) return [];
  const candidates: Candidate[] = assist.keywords.map((k) => keywordItem(a.domains, k, assist));
  const fillers = slotFillers(a.domains);
  for (const slot of assist.slots) candidates.push(...(fillers[slotKey(slot)]?.({ a, uri, offset, assist, slot }) ?? []));
  const seen = new Set<string>();
  const out: CompletionItem[] = [];
  for (const c of candidates) {
    const key = `${c.kind}:${c.label}`;
    if (seen.has(key) || !matches(c.label, assist.prefix)) continue;
    seen.add(key);
    out.push({ ...c, replace: assist.replace });
  }
  // Editors sort by sortText as strings: pad to the widest index so the order holds.
  const width = String(out.length).length;
  for (const [i, item] of out.entries()) item.sortText = String(i).padStart(width, '0');
  return out;
}

/**
 * Whether `label` is offered for the word typed so far: case-insensitively, the prefix's
 * first character starts the label or one of its `-`/`_`/`.` parts, and the rest follow in order.
 */
export function matches(label: string, prefix: string): boolean {
  if (!prefix) return true;
  const l = label.toLowerCase();
  const p = prefix.toLowerCase();
  for (let start = 0; start >= 0; start = nextPart(l, start)) {
    if (l[start] !== p[0]) continue;
    let i = start;
    let ok = true;
    for (const ch of p.slice(1)) {
      i = l.indexOf(ch, i + 1);
      if (i < 0) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

function nextPart(label: string, from: number): number {
  for (let i = from + 1; i < label.length; i++) if ('-_.'.includes(label[i - 1]!)) return i;
  return -1;
}

// ----- keywords ------------------------------------------------------------------

function keywordItem(domains: readonly DomainParts[], k: AssistKeyword, assist: Assist): Candidate {
  const doc = keywordDoc(domains, k.text, { enumName: k.enumName, rule: k.rule, block: assist.block });
  const base = { label: k.text, ...(doc ? { documentation: doc } : {}) };
  if (k.enumName) return { ...base, kind: 'value', detail: keywordDocs(domains).enumTitles[k.enumName] };
  return { ...base, kind: 'keyword', detail: assist.statement.length ? (RULE_NOUNS[k.rule] ?? 'keyword') : statementNoun(domains, assist) };
}

/** Keywords of these rules say what they are. */
const RULE_NOUNS: Readonly<Record<string, string>> = { machineOption: 'machine option', mapOption: 'map option', action: 'handler action' };

/** What a word starting a statement is, by the block it is in. */
function statementNoun(domains: readonly DomainParts[], assist: Assist): string {
  const opener = assist.blocks[assist.blocks.length - 1]?.words[0];
  if (!opener) return 'declaration';
  const noun = keywordDocs(domains).statementNouns[opener];
  if (noun) return noun;
  if (opener === 'on') return 'handler action';
  return `${opener} statement`;
}

// ----- names ---------------------------------------------------------------------

/** Which slot of the grammar: `migrateStep/ref2` (the second ref of `migrate`), `smmuCommand/opcode`, ... */
export function slotKey(slot: WordSlot): string {
  const rules = slot.ruleStack;
  const inner = rules[rules.length - 1]!;
  if (inner === 'ref' || inner === 'name')
    return `${rules[rules.length - 2] ?? ''}/${inner}${slot.occurrences[slot.occurrences.length - 1] ?? 0}`;
  return `${inner}/${slot.label ?? 'word'}`;
}

export const platforms = (c: Ctx) => globals(c, c.a.model.platforms.values(), (p) => platformItem(c, p));
export const guests = (c: Ctx) => globals(c, c.a.model.guests.values(), (g) => guestItem(c, g));

/**
 * What fills each place a word goes in the core's statements; the domains add theirs
 * (`slotFillers`). Declared names get nothing.
 */
const CORE_FILLERS: Readonly<Record<string, SlotFiller<Analysis>>> = {
  'regionTarget/ref0': (c) => {
    const p = enclosingPlatform(c);
    return p ? [...devices(c, [p]), ...iommus(c, [p])] : [];
  },
  'deviceIommuStmt/ref0': (c) => {
    const p = enclosingPlatform(c);
    return p ? iommus(c, [p]) : [];
  },
  'vfOfStmt/ref0': (c) => {
    const p = enclosingPlatform(c);
    const self = blockOf(c, 'deviceBody')?.words[1];
    return p ? devices(c, [p]).filter((d) => d.label !== self) : [];
  },
  'guestDecl/ref0': platforms,
  'assignStmt/ref0': (c) => {
    const p = guestPlatform(c);
    return p ? devices(c, [p], assignedIn(c)) : [];
  },
  'classStmt/word': () =>
    Object.entries(DEVICE_CLASS_DOCS).map(([label, documentation]) => ({
      label,
      kind: 'class' as const,
      detail: 'device class',
      documentation,
    })),
};

const fillerCache = new WeakMap<readonly DomainParts[], Readonly<Record<string, SlotFiller<Analysis>>>>();

/** Every slot's filler: the core's and each domain's (a test checks that every `ref` of the grammar has one). */
export function slotFillers(domains: readonly DomainParts[]): Readonly<Record<string, SlotFiller<Analysis>>> {
  let all = fillerCache.get(domains);
  if (!all) {
    all = Object.assign({}, CORE_FILLERS, ...domains.map((d) => d.ide?.slotFillers ?? {})) as Record<string, SlotFiller<Analysis>>;
    fillerCache.set(domains, all);
  }
  return all;
}

/**
 * Global names are never qualified: after `x.` there is nothing of theirs to offer. Only
 * names the typed prefix matches become items (a fleet has tens of thousands).
 */
export function globals<T extends { sym: Sym }>(c: Ctx, all: Iterable<T>, item: (x: T) => Candidate): Candidate[] {
  if (c.slot.qualifier) return [];
  return [...all]
    .filter((x) => matches(x.sym.name, c.assist.prefix))
    .sort((x, y) => x.sym.name.localeCompare(y.sym.name))
    .map(item);
}

export function blockOf(c: Ctx, rule: string) {
  for (let i = c.assist.blocks.length - 1; i >= 0; i--) if (c.assist.blocks[i]!.rule === rule) return c.assist.blocks[i];
  return undefined;
}

/** The word after `keyword` in a declaration's opening words, past its own keyword and name. */
export function wordAfter(words: string[] | undefined, keyword: string): string | undefined {
  const i = words ? words.indexOf(keyword, 2) : -1;
  return i >= 0 ? words![i + 1] : undefined;
}

export const platformNamed = (c: Ctx, name: string | undefined) => (name === undefined ? undefined : c.a.model.platforms.get(name));
export const guestNamed = (c: Ctx, name: string | undefined) => (name === undefined ? undefined : c.a.model.guests.get(name));

function enclosingPlatform(c: Ctx): Platform | undefined {
  return platformNamed(c, blockOf(c, 'platformBody')?.words[1]);
}

/** The platform of the guest around the cursor, as its `guest NAME on PLATFORM` line says. */
function guestPlatform(c: Ctx): Platform | undefined {
  const words = blockOf(c, 'guestBody')?.words;
  return platformNamed(c, wordAfter(words, 'on')) ?? guestNamed(c, words?.[1])?.platform;
}

function assignedIn(c: Ctx): Set<string> {
  const g = guestNamed(c, blockOf(c, 'guestBody')?.words[1]);
  return new Set(g?.assigns.flatMap((x) => (x.device ? [x.device.sym.name] : [])));
}

/**
 * The devices of `ps`, `preferred` names first. A name that several of the platforms have is
 * offered qualified (`epyc-b.nic0`), as a step that names no guest needs it; after `epyc-b.`
 * only that platform's devices come.
 */
export function devices(c: Ctx, ps: Platform[], preferred: ReadonlySet<string> = new Set()): Candidate[] {
  return members(
    c,
    ps,
    (p) => [...p.devices.values()],
    preferred,
    (d, label) => deviceItem(c, d, label),
  );
}

export function iommus(c: Ctx, ps: Platform[]): Candidate[] {
  return members(
    c,
    ps,
    (p) => [...p.iommus.values()],
    new Set(),
    (i, label) => iommuItem(c, i, label),
  );
}

function members<T extends { sym: Sym }>(
  c: Ctx,
  ps: Platform[],
  list: (p: Platform) => T[],
  preferred: ReadonlySet<string>,
  item: (m: T, label: string) => Candidate,
): Candidate[] {
  const q = c.slot.qualifier;
  const scope = q === undefined ? ps : [c.a.model.platforms.get(q)].filter((p): p is Platform => p !== undefined);
  const all = scope.flatMap(list);
  const count = new Map<string, number>();
  for (const m of all) count.set(m.sym.name, (count.get(m.sym.name) ?? 0) + 1);
  const label = (m: T) => (q === undefined && count.get(m.sym.name)! > 1 ? `${m.sym.container}.${m.sym.name}` : m.sym.name);
  // Only what the typed prefix matches becomes an item: a fleet has tens of thousands of devices.
  return all
    .filter((m) => matches(label(m), c.assist.prefix))
    .sort((x, y) => Number(preferred.has(y.sym.name)) - Number(preferred.has(x.sym.name)) || label(x).localeCompare(label(y)))
    .map((m) => item(m, label(m)));
}

// ----- what each name is -----------------------------------------------------------

/** Markdown: the facts given, then where the name is declared. */
export function doc(c: Ctx, sym: Sym, facts: (string | undefined)[]): string {
  const line = c.a.lineIndex(sym.uri).position(sym.nameSpan.start).line + 1;
  const file = sym.uri.slice(sym.uri.lastIndexOf('/') + 1);
  return [...facts.filter((f): f is string => f !== undefined), `Declared in \`${file}\`, line ${line}.`].join('\n\n');
}

function platformItem(c: Ctx, p: Platform): Candidate {
  return {
    label: p.sym.name,
    kind: 'platform',
    detail: `platform${p.arch ? `, ${p.arch}` : ''}`,
    documentation: doc(c, p.sym, [
      `${p.devices.size} device${p.devices.size === 1 ? '' : 's'}, ${p.iommus.size} IOMMU${p.iommus.size === 1 ? '' : 's'}.`,
    ]),
  };
}

function guestItem(c: Ctx, g: Guest): Candidate {
  const assigned = g.assigns.flatMap((x) => (x.device ? [x.device.sym.name] : []));
  return {
    label: g.sym.name,
    kind: 'guest',
    detail: `guest${g.platform ? ` on platform ${g.platform.sym.name}` : ''}`,
    documentation: doc(c, g.sym, [
      assigned.length ? `Assigned: ${assigned.join(', ')}.` : undefined,
      g.confidential?.technology ? `Confidential: ${g.confidential.technology}.` : undefined,
    ]),
  };
}

function deviceItem(c: Ctx, d: Device, label: string): Candidate {
  return {
    label,
    kind: 'device',
    detail: `device on platform ${d.sym.container ?? '?'}${d.bdf ? `, ${formatBdf(d.bdf)}` : ''}`,
    documentation: doc(c, d.sym, [
      d.iommu
        ? `IOMMU ${d.iommu.sym.name}${d.stream !== undefined ? `, stream 0x${d.stream.toString(16)}` : ''}` +
          `${d.group !== undefined ? `, group ${d.group}` : ''}.`
        : 'Behind no IOMMU.',
      ...c.a.domains.map((x) => x.ide?.deviceNote?.(d, true)),
      d.pf ? `A VF of ${d.pf.sym.name}.` : undefined,
      d.deviceClass ? `Class ${d.deviceClass}.` : undefined,
    ]),
  };
}

export function iommuItem(c: Ctx, i: Iommu, label: string): Candidate {
  return {
    label,
    kind: 'iommu',
    detail: `IOMMU on platform ${i.sym.container ?? '?'}${i.kind ? `, ${i.kind}` : ''}`,
    documentation: doc(c, i.sym, [
      i.addressWidth !== undefined ? `Address width ${i.addressWidth} bits.` : undefined,
      ...c.a.domains.map((x) => x.ide?.iommuNote?.(i)),
    ]),
  };
}
