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
import { formatBdf, type Device, type Firmware, type Guest, type Iommu, type Platform, type Sym } from '../model';
import { DEVICE_QUIRKS } from '../domains/tdisp/model/pciRegisters';
import { GUEST_VCMDQ_COMMANDS, SMMU_OPCODES } from '../domains/cmdqv/model/smmuCommands';
import type { Analysis } from './analysis';
import { BOOT_SERVICE_DOCS, CONFIG_BIT_DOCS, DEVICE_CLASS_DOCS, ENUM_TITLES, keywordDoc, SMMU_FIELD_DOCS } from './keywordDocs';

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

type Candidate = Omit<CompletionItem, 'replace' | 'sortText'>;

interface Ctx {
  a: Analysis;
  uri: string;
  offset: number;
  assist: Assist;
  slot: WordSlot;
}

/** Completions at `offset` of `text` (the current text of `uri`); `a` may be from a slightly older text. */
export function completion(a: Analysis, uri: string, text: string, offset: number): CompletionItem[] {
  const assist = assistAt(text, offset);
  if (!assist) return [];
  const candidates: Candidate[] = assist.keywords.map((k) => keywordItem(k, assist));
  for (const slot of assist.slots) candidates.push(...fill({ a, uri, offset, assist, slot }));
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
function matches(label: string, prefix: string): boolean {
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

function keywordItem(k: AssistKeyword, assist: Assist): Candidate {
  const doc = keywordDoc(k.text, { enumName: k.enumName, rule: k.rule, block: assist.block });
  const base = { label: k.text, ...(doc ? { documentation: doc } : {}) };
  if (k.enumName) return { ...base, kind: 'value', detail: ENUM_TITLES[k.enumName] };
  return { ...base, kind: 'keyword', detail: assist.statement.length ? (RULE_NOUNS[k.rule] ?? 'keyword') : statementNoun(assist) };
}

/** Keywords of these rules say what they are. */
const RULE_NOUNS: Readonly<Record<string, string>> = { machineOption: 'machine option', mapOption: 'map option', action: 'handler action' };

/** What a word starting a statement is, by the block it is in. */
function statementNoun(assist: Assist): string {
  const opener = assist.blocks[assist.blocks.length - 1]?.words[0];
  if (!opener) return 'declaration';
  if (opener === 'timeline') return 'timeline step';
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

function fill(c: Ctx): Candidate[] {
  return SLOT_FILLERS[slotKey(c.slot)]?.(c) ?? [];
}

const platforms = (c: Ctx) => globals(c, c.a.model.platforms.values(), (p) => platformItem(c, p));
const guests = (c: Ctx) => globals(c, c.a.model.guests.values(), (g) => guestItem(c, g));
const vintfs = (c: Ctx) =>
  globals(c, c.a.model.vintfs.values(), (v) => ({
    label: v.sym.name,
    kind: 'vintf' as const,
    detail: `VINTF${v.iommu ? ` on ${v.iommu.sym.name}` : ''}${v.guest ? ` for guest ${v.guest.sym.name}` : ''}`,
    documentation: doc(c, v.sym, [v.owner ? `Owned by the ${v.owner}.` : undefined, v.vmid !== undefined ? `VMID ${v.vmid}.` : undefined]),
  }));
const timelineDevices = (c: Ctx) => devices(c, platformsInTimeline(c));

/**
 * What fills each place a word goes, for every `ref` of the grammar (a test checks that
 * none is missing) and the other words a statement takes. Declared names get nothing.
 */
export const SLOT_FILLERS: Readonly<Record<string, (c: Ctx) => Candidate[]>> = {
  // platform
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
  // guest, pool, xen, vintf, commands headers
  'guestDecl/ref0': platforms,
  'poolDecl/ref0': (c) => platforms(c).filter((p) => !c.assist.statement.includes(p.label)),
  'xenDecl/ref0': platforms,
  'firmwareDecl/ref0': guests,
  'vintfDecl/ref0': (c) => smmus(c),
  'vintfDecl/ref2': guests,
  'commandsDecl/ref0': vintfs,
  // guest
  'assignStmt/ref0': (c) => {
    const p = guestPlatform(c);
    return p ? devices(c, [p], assignedIn(c)) : [];
  },
  'viommuStmt/ref0': vintfs,
  // timeline
  'startStep/ref0': guests,
  'stopStep/ref0': guests,
  'launchUpdateStep/ref0': guests,
  'migrateStep/ref0': guests,
  'migrateStep/ref2': platforms,
  'hotplugStep/ref0': timelineDevices,
  'hotplugStep/ref2': guests,
  'unplugStep/ref0': timelineDevices,
  'unplugStep/ref2': guests,
  'tdispStep/ref0': (c) => {
    const ps = platformsInTimeline(c);
    return devices(c, ps, new Set(ps.flatMap((p) => [...p.devices.values()].filter((d) => d.tdisp).map((d) => d.sym.name))));
  },
  'configStep/ref0': timelineDevices,
  'powerStep/ref0': timelineDevices,
  'linkStep/ref0': timelineDevices,
  'convertStep/ref0': timelineDevices,
  'balloonStep/ref0': (c) => balloonTargets(c),
  'freeStep/ref0': (c) => balloonTargets(c),
  // firmware
  'driverDecl/ref0': (c) => {
    const g = guestNamed(c, wordAfter(blockOf(c, 'firmwareBody')?.words, 'for'));
    const assigned = new Set(g?.assigns.flatMap((x) => (x.device ? [x.device.sym.name] : [])));
    return g?.platform ? devices(c, [g.platform], assigned) : [];
  },
  'action/ref0': (c) => mappings(c),
  'action/ref2': (c) => mappings(c),
  'action/name0': (c) => events(c),
  'handlerStmt/name0': (c) => events(c),
  'action/service': () =>
    Object.entries(BOOT_SERVICE_DOCS).map(([label, documentation]) => ({
      label,
      kind: 'service' as const,
      detail: 'UEFI boot service',
      documentation,
    })),
  // xen
  'passStmt/ref0': (c) => xenDevices(c),
  'passStmt/ref2': (c) => xenDevices(c),
  // vintf
  'streamStmt/ref0': (c) => {
    const words = blockOf(c, 'vintfBody')?.words;
    const g = guestNamed(c, wordAfter(words, 'for'));
    if (!g?.platform) return [];
    const smmu = wordAfter(words, 'on');
    const behind = new Set([...g.platform.devices.values()].filter((d) => d.iommu?.sym.name === smmu).map((d) => d.sym.name));
    return devices(c, [g.platform], behind);
  },
  // device, config steps, SMMU commands
  'quirkStmt/word': (c) =>
    Object.entries(DEVICE_QUIRKS)
      .filter(([q]) => !c.assist.statement.includes(q))
      .map(([label, what]) => ({ label, kind: 'quirk' as const, detail: 'device quirk', documentation: `${what}.` })),
  'classStmt/word': () =>
    Object.entries(DEVICE_CLASS_DOCS).map(([label, documentation]) => ({
      label,
      kind: 'class' as const,
      detail: 'device class',
      documentation,
    })),
  'configStep/bits': (c) => configBits(c),
  'smmuCommand/opcode': () =>
    Object.entries(SMMU_OPCODES).map(([label, op]) => ({
      label,
      kind: 'opcode' as const,
      detail: `SMMUv3 command 0x${op.code.toString(16).padStart(2, '0')}${op.fields.length ? `: ${op.fields.join(' ')}` : ''}`,
      documentation: `${op.what[0]!.toUpperCase()}${op.what.slice(1)}.\n\n${
        GUEST_VCMDQ_COMMANDS.has(label)
          ? "A guest-owned VINTF's queues accept it."
          : "A guest-owned VINTF's queues do not accept it: it belongs on the emulated main queue (RULES §9.2)."
      }`,
    })),
  'smmuCommand/operand': (c) => smmuOperands(c),
};

/**
 * Global names are never qualified: after `x.` there is nothing of theirs to offer. Only
 * names the typed prefix matches become items (a fleet has tens of thousands).
 */
function globals<T extends { sym: Sym }>(c: Ctx, all: Iterable<T>, item: (x: T) => Candidate): Candidate[] {
  if (c.slot.qualifier) return [];
  return [...all]
    .filter((x) => matches(x.sym.name, c.assist.prefix))
    .sort((x, y) => x.sym.name.localeCompare(y.sym.name))
    .map(item);
}

function blockOf(c: Ctx, rule: string) {
  for (let i = c.assist.blocks.length - 1; i >= 0; i--) if (c.assist.blocks[i]!.rule === rule) return c.assist.blocks[i];
  return undefined;
}

/** The word after `keyword` in a declaration's opening words, past its own keyword and name. */
function wordAfter(words: string[] | undefined, keyword: string): string | undefined {
  const i = words ? words.indexOf(keyword, 2) : -1;
  return i >= 0 ? words![i + 1] : undefined;
}

const platformNamed = (c: Ctx, name: string | undefined) => (name === undefined ? undefined : c.a.model.platforms.get(name));
const guestNamed = (c: Ctx, name: string | undefined) => (name === undefined ? undefined : c.a.model.guests.get(name));
const firmwareNamed = (c: Ctx, name: string | undefined) => (name === undefined ? undefined : c.a.model.firmwares.get(name));

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
 * Where a device named in a timeline step may be: the platforms the timeline's guests are on
 * at the cursor (each guest where its last `start` or `migrate` put it), or every platform
 * before the timeline uses a guest, as name resolution does.
 */
function platformsInTimeline(c: Ctx): Platform[] {
  const t = c.a.model.timelines.get(blockOf(c, 'timelineBody')?.words[1] ?? '');
  const at = new Map<Guest, Platform>();
  if (t && t.sym.uri === c.uri) {
    for (const s of t.steps) {
      if (s.step.span.end > c.offset) break;
      const where = s.target ?? s.platform ?? s.guest?.platform;
      if (s.guest && where) at.set(s.guest, where);
    }
  }
  return at.size ? [...new Set(at.values())] : [...c.a.model.platforms.values()];
}

/**
 * The devices of `ps`, `preferred` names first. A name that several of the platforms have is
 * offered qualified (`epyc-b.nic0`), as a step that names no guest needs it; after `epyc-b.`
 * only that platform's devices come.
 */
function devices(c: Ctx, ps: Platform[], preferred: ReadonlySet<string> = new Set()): Candidate[] {
  return members(
    c,
    ps,
    (p) => [...p.devices.values()],
    preferred,
    (d, label) => deviceItem(c, d, label),
  );
}

function iommus(c: Ctx, ps: Platform[]): Candidate[] {
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

/** `vintf V on I`: the SMMUv3s of every platform (the guest comes later on the line), those with a CMDQV first. */
function smmus(c: Ctx): Candidate[] {
  if (c.slot.qualifier) return iommus(c, []);
  const all = [...c.a.model.platforms.values()].flatMap((p) => [...p.iommus.values()]).filter((i) => i.kind === 'smmuv3');
  return all
    .sort((x, y) => Number(y.cmdqv !== undefined) - Number(x.cmdqv !== undefined) || x.sym.name.localeCompare(y.sym.name))
    .map((i) => iommuItem(c, i, i.sym.name));
}

function xenDevices(c: Ctx): Candidate[] {
  const words = blockOf(c, 'xenBody')?.words;
  const p = platformNamed(c, wordAfter(words, 'on')) ?? c.a.model.xens.get(words?.[1] ?? '')?.platform;
  return p ? devices(c, [p]) : [];
}

/** `balloon`/`free`: guests, and Xen domains as `XEN.DOMAIN` (after `XEN.`, that host's domains). */
function balloonTargets(c: Ctx): Candidate[] {
  const q = c.slot.qualifier;
  const xens = q === undefined ? [...c.a.model.xens.values()] : [c.a.model.xens.get(q)].filter((x) => x !== undefined);
  const domains = xens
    .flatMap((x) => [...x.domains.values()])
    .map(
      (d): Candidate => ({
        label: q === undefined ? `${d.xen.sym.name}.${d.sym.name}` : d.sym.name,
        kind: 'domain',
        detail: `${d.isDom0 ? 'dom0' : 'Xen domain'} of ${d.xen.sym.name}${d.mode ? `, ${d.mode}` : ''}`,
        documentation: doc(c, d.sym, [d.iommuMap ? `IOMMU map: ${d.iommuMap}.` : undefined]),
      }),
    )
    .sort((x, y) => x.label.localeCompare(y.label));
  return q === undefined ? [...guests(c), ...domains] : domains;
}

function firmwareAround(c: Ctx): Firmware | undefined {
  return firmwareNamed(c, blockOf(c, 'firmwareBody')?.words[1]);
}

/** `unmap`/`free`: the maps of the driver around the cursor; in `iommu-protocol`, of every driver. */
function mappings(c: Ctx): Candidate[] {
  const fw = firmwareAround(c);
  if (!fw || c.slot.qualifier) return [];
  const driverName = blockOf(c, 'driverBody')?.words[1];
  const drivers = blockOf(c, 'iommuProtocolBody') ? fw.drivers : fw.drivers.filter((d) => d.sym.name === driverName);
  return drivers
    .flatMap((d) => [...d.maps.values()])
    .map((m) => ({
      label: m.sym.name,
      kind: 'mapping' as const,
      detail: `DMA mapping of driver ${m.driver.sym.name}${m.operation ? `, ${m.operation}` : ''}`,
      documentation: doc(c, m.sym, [`State at ExitBootServices: ${m.state}.`]),
    }));
}

function events(c: Ctx): Candidate[] {
  const fw = firmwareAround(c);
  if (!fw) return [];
  return [...fw.events.values()].map((e) => ({
    label: e.name,
    kind: 'event' as const,
    detail: `event of firmware ${fw.sym.name}`,
    documentation: doc(c, e, []),
  }));
}

/** `config D command|devctl BITS`: the register's bits not written yet on the line. */
function configBits(c: Ctx): Candidate[] {
  const words = c.assist.statement;
  const register = words.slice(2).find((w): w is 'command' | 'devctl' => w === 'command' || w === 'devctl');
  if (!register) return [];
  const written = new Set(words.map((w) => w.toUpperCase()));
  return Object.entries(CONFIG_BIT_DOCS[register])
    .filter(([b]) => !written.has(b))
    .map(([label, documentation]) => ({
      label,
      kind: 'bit' as const,
      detail: register === 'command' ? 'Command register bit' : 'Device Control register bit',
      documentation,
    }));
}

/** After an opcode: its fields not given yet; none right after a field that wants its value. */
function smmuOperands(c: Ctx): Candidate[] {
  const [opcode, ...operands] = c.assist.statement;
  const op = opcode !== undefined && Object.hasOwn(SMMU_OPCODES, opcode) ? SMMU_OPCODES[opcode] : undefined;
  if (!op) return [];
  const flags = new Set(op.flags ?? []);
  const last = operands[operands.length - 1];
  if (last !== undefined && op.fields.includes(last) && !flags.has(last)) return [];
  const used = new Set(operands);
  // A bare number first is the first field (`CFGI_STE 0x8` is the stream).
  if (operands[0] !== undefined && /^[0-9]/.test(operands[0]) && op.fields[0]) used.add(op.fields[0]);
  return op.fields
    .filter((f) => !used.has(f))
    .map((f) => ({
      label: f,
      kind: 'operand' as const,
      detail: flags.has(f) ? `${opcode} flag` : `${opcode} field: ${f} VALUE`,
      ...(SMMU_FIELD_DOCS[f] ? { documentation: SMMU_FIELD_DOCS[f] } : {}),
    }));
}

// ----- what each name is -----------------------------------------------------------

/** Markdown: the facts given, then where the name is declared. */
function doc(c: Ctx, sym: Sym, facts: (string | undefined)[]): string {
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
        ? `IOMMU ${d.iommu.sym.name}${d.stream !== undefined ? `, stream 0x${d.stream.toString(16)}` : ''}${d.group !== undefined ? `, group ${d.group}` : ''}.`
        : 'Behind no IOMMU.',
      d.tdisp ? 'TDISP-capable.' : undefined,
      d.pf ? `A VF of ${d.pf.sym.name}.` : undefined,
      d.deviceClass ? `Class ${d.deviceClass}.` : undefined,
    ]),
  };
}

function iommuItem(c: Ctx, i: Iommu, label: string): Candidate {
  return {
    label,
    kind: 'iommu',
    detail: `IOMMU on platform ${i.sym.container ?? '?'}${i.kind ? `, ${i.kind}` : ''}`,
    documentation: doc(c, i.sym, [
      i.addressWidth !== undefined ? `Address width ${i.addressWidth} bits.` : undefined,
      i.cmdqv ? `CMDQV${i.cmdqv.vintfs !== undefined ? ` with ${i.cmdqv.vintfs} VINTFs` : ''}.` : undefined,
    ]),
  };
}
