/**
 * Builds the Model from parsed files: declares every name in its scope, evaluates
 * numbers, and resolves every reference with LANGUAGE.md's scoping. Pure: files in,
 * model and findings out.
 */
import * as A from '@iommu-lens/grammar';
import { didYouMean } from '@iommu-lens/grammar';
import type { Code } from './codes';
import { finding, type Finding, type Fix } from './findings';
import type { Interval } from './interval';
import { evaluateBdf, evaluateCount, evaluateNumber, evaluateRange, formatBdf, type Evaluated } from './numbers';
import {
  KIND_NOUN,
  type AssignMode, type CommandsBlock, type Device, type Firmware, type Guest, type Iommu, type IommuKind,
  type Member, type Model, type Platform, type Pool, type RegionTarget, type RegionType, type ResolvedStep,
  type Sym, type SymbolKind, type Timeline, type Vintf, type Xen,
} from './types';

export interface ParsedFile { uri: string; ast: A.SourceFile }

export interface ModelResult { model: Model; findings: Finding[] }

type GlobalEntity = Platform | Guest | Timeline | Pool | Firmware | Xen | Vintf;

export function buildModel(files: readonly ParsedFile[]): ModelResult {
  return new Resolver([...files].sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0))).run();
}

class Resolver {
  private readonly findings: Finding[] = [];
  private readonly model: Model = {
    platforms: new Map(), guests: new Map(), pools: new Map(), timelines: new Map(), firmwares: new Map(),
    xens: new Map(), vintfs: new Map(), commands: [], symbols: [], references: [],
  };
  /** The one global namespace. */
  private readonly globals = new Map<string, { sym: Sym; entity: GlobalEntity }>();
  /** Every platform declaration, duplicates included (their members are checked too). */
  private readonly allPlatforms: Platform[] = [];
  private readonly allVintfs: Vintf[] = [];
  /** Device name → the platforms that have one, for "epyc-b has a nic0" hints. */
  private readonly deviceIndex = new Map<string, Platform[]>();

  constructor(private readonly files: ParsedFile[]) {}

  run(): ModelResult {
    const decls = this.files.flatMap((f) => f.ast.decls.map((d) => ({ uri: f.uri, d })));
    // Platforms first (their members are what everything else refers to), then guests
    // (timelines and firmware follow guests to their platforms), then the rest.
    for (const { uri, d } of decls) if (d.kind === 'platform') this.declarePlatform(uri, d);
    for (const p of this.allPlatforms) this.resolvePlatform(p);
    for (const { uri, d } of decls) if (d.kind === 'vintf') this.declareVintf(uri, d);
    for (const { uri, d } of decls) if (d.kind === 'guest') this.declareGuest(uri, d);
    for (const { uri, d } of decls) {
      switch (d.kind) {
        case 'pool': this.pool(uri, d); break;
        case 'firmware': this.firmware(uri, d); break;
        case 'xen': this.xen(uri, d); break;
        default: break;
      }
    }
    for (const v of this.allVintfs) this.resolveVintf(v);
    for (const { uri, d } of decls) {
      if (d.kind === 'timeline') this.timeline(uri, d);
      else if (d.kind === 'commands') this.commands(uri, d);
    }
    return { model: this.model, findings: this.findings };
  }

  // ----- reporting -------------------------------------------------------------------

  private report(code: Code, uri: string, span: A.Span, message: string, extra: Parameters<typeof finding>[3] = {}): void {
    this.findings.push(finding(code, { uri, span }, message, extra));
  }

  private value<T>(uri: string, r: Evaluated<T>): T | undefined {
    if (r.ok) return r.value;
    this.report(r.problem.code, uri, r.problem.span, r.problem.message);
    return undefined;
  }

  private num(uri: string, lit: A.NumLit | undefined): bigint | undefined {
    return lit ? this.value(uri, evaluateNumber(lit)) : undefined;
  }

  private count(uri: string, lit: A.NumLit | undefined, min: bigint, max: bigint, what: string): bigint | undefined {
    return lit ? this.value(uri, evaluateCount(lit, min, max, what)) : undefined;
  }

  private range(uri: string, r: A.RangeLit | undefined): Interval | undefined {
    // A range missing its END or SIZE is a syntax error the parser already reported.
    return r && (r.end || r.size) ? this.value(uri, evaluateRange(r)) : undefined;
  }

  // ----- declaring -------------------------------------------------------------------

  private sym(kind: SymbolKind, uri: string, name: A.Word, span: A.Span, container?: string): Sym {
    const s: Sym = { kind, name: name.text, uri, nameSpan: name.span, span, container };
    this.model.symbols.push(s);
    return s;
  }

  private refer(uri: string, span: A.Span, target: Sym): void {
    this.model.references.push({ uri, span, target });
  }

  /** Declares a global name; false (and a finding) when it is taken. */
  private declareGlobal(sym: Sym, entity: GlobalEntity): boolean {
    const prior = this.globals.get(sym.name);
    if (prior) {
      const same = prior.sym.kind === sym.kind;
      this.report('duplicate-name', sym.uri, sym.nameSpan,
        `'${sym.name}' is already declared as ${same ? 'a' : 'the'} ${KIND_NOUN[prior.sym.kind]}${same ? '' : ` '${sym.name}'`}; platforms, guests, timelines, pools, firmware, Xen hosts and VINTFs share one namespace`,
        { related: [{ uri: prior.sym.uri, span: prior.sym.nameSpan, message: `first declared here` }] });
      return false;
    }
    this.globals.set(sym.name, { sym, entity });
    return true;
  }

  /** Declares a name in a local table (per platform, guest, driver, ...). */
  private declareLocal<T extends { sym: Sym }>(table: Map<string, T>, entry: T, scope: string): boolean {
    const prior = table.get(entry.sym.name);
    if (prior) {
      this.report('duplicate-name', entry.sym.uri, entry.sym.nameSpan,
        `'${entry.sym.name}' is already declared in ${scope} as ${article(KIND_NOUN[prior.sym.kind])}`,
        { related: [{ uri: prior.sym.uri, span: prior.sym.nameSpan, message: 'first declared here' }] });
      return false;
    }
    table.set(entry.sym.name, entry);
    return true;
  }

  /** Warns about a setting given twice in one block. */
  private singletons(uri: string, items: readonly { kind: string; span: A.Span }[], kinds: readonly string[], block: string): void {
    const seen = new Map<string, A.Span>();
    for (const item of items) {
      if (!kinds.includes(item.kind)) continue;
      const first = seen.get(item.kind);
      if (first) {
        this.report('duplicate-setting', uri, item.span, `${block} already has a '${settingWord(item.kind)}' setting; this one overrides it`,
          { related: [{ uri, span: first, message: 'earlier setting' }] });
      } else {
        seen.set(item.kind, item.span);
      }
    }
  }

  // ----- lookup ----------------------------------------------------------------------

  /** Resolves a reference to a global name of one of `kinds`. */
  private global<K extends SymbolKind>(uri: string, ref: A.Ref | undefined, kinds: readonly K[]): GlobalEntity | undefined {
    if (!ref) return undefined;
    const want = kinds.map((k) => KIND_NOUN[k]).join(' or ');
    if (ref.qualifier) {
      this.report('unknown-name', uri, ref.span, `a ${want} is named on its own, not qualified ('${ref.qualifier.text}.${ref.name.text}')`,
        { fixes: [replace(`Write '${ref.name.text}'`, uri, ref.span, ref.name.text)] });
      return undefined;
    }
    const entry = this.globals.get(ref.name.text);
    if (!entry) {
      const candidates = [...this.globals.values()].filter((e) => (kinds as readonly SymbolKind[]).includes(e.sym.kind)).map((e) => e.sym.name);
      this.unknown(uri, ref.name, `unknown ${want} '${ref.name.text}'`, candidates);
      return undefined;
    }
    if (!(kinds as readonly SymbolKind[]).includes(entry.sym.kind)) {
      this.report('wrong-kind', uri, ref.name.span, `'${ref.name.text}' is ${article(KIND_NOUN[entry.sym.kind])}, not ${article(want)}`,
        { related: [{ uri: entry.sym.uri, span: entry.sym.nameSpan, message: `'${ref.name.text}' is declared here` }] });
      return undefined;
    }
    this.refer(uri, ref.name.span, entry.sym);
    return entry.entity;
  }

  private unknown(uri: string, name: A.Word, message: string, candidates: Iterable<string>, hint = ''): void {
    const guess = didYouMean(name.text, candidates);
    this.report('unknown-name', uri, name.span, `${message}${guess ? ` (did you mean '${guess}'?)` : ''}${hint}`,
      { fixes: guess ? [replace(`Change to '${guess}'`, uri, name.span, guess)] : [] });
  }

  /**
   * Resolves a platform member: in `platform` (the platform the statement is about),
   * or in the platform a qualified name names.
   */
  private member(uri: string, ref: A.Ref | undefined, platform: Platform | undefined, kinds: readonly SymbolKind[]): Member | undefined {
    if (!ref) return undefined;
    let where = platform;
    if (ref.qualifier) {
      const q = this.globals.get(ref.qualifier.text);
      if (!q || q.sym.kind !== 'platform') {
        if (q) {
          this.report('wrong-kind', uri, ref.qualifier.span, `'${ref.qualifier.text}' is ${article(KIND_NOUN[q.sym.kind])}, not a platform`);
        } else {
          this.unknown(uri, ref.qualifier, `unknown platform '${ref.qualifier.text}'`, this.model.platforms.keys());
        }
        return undefined;
      }
      this.refer(uri, ref.qualifier.span, q.sym);
      const named = q.entity as Platform;
      if (platform && named !== platform) {
        this.report('wrong-platform', uri, ref.span,
          `'${ref.qualifier.text}.${ref.name.text}' is on platform ${named.sym.name}, but this statement is about platform ${platform.sym.name}`,
          { related: [{ uri: platform.sym.uri, span: platform.sym.nameSpan, message: `platform ${platform.sym.name}` }] });
        return undefined;
      }
      where = named;
    }
    if (!where) return undefined; // the platform itself did not resolve: already reported
    return this.memberIn(uri, ref.name, where, kinds);
  }

  private memberIn(uri: string, name: A.Word, where: Platform, kinds: readonly SymbolKind[]): Member | undefined {
    const want = kinds.map((k) => KIND_NOUN[k]).join(' or ');
    const m = where.members.get(name.text);
    if (!m) {
      const candidates = [...where.members.values()].filter((x) => kinds.includes(x.sym.kind)).map((x) => x.sym.name);
      const elsewhere = kinds.includes('device') ? (this.deviceIndex.get(name.text) ?? []).filter((p) => p !== where) : [];
      const hint = elsewhere.length ? `; ${elsewhere.map((p) => p.sym.name).join(' and ')} ${elsewhere.length > 1 ? 'have' : 'has'} one` : '';
      // When another platform has exactly this name, that is the likelier mistake than a typo.
      this.unknown(uri, name, `no ${want} '${name.text}' on platform ${where.sym.name}`, elsewhere.length ? [] : candidates, hint);
      return undefined;
    }
    if (!kinds.includes(m.sym.kind)) {
      this.report('wrong-kind', uri, name.span, `'${name.text}' is ${article(KIND_NOUN[m.sym.kind])} of platform ${where.sym.name}, not ${article(want)}`,
        { related: [{ uri: m.sym.uri, span: m.sym.nameSpan, message: `'${name.text}' is declared here` }] });
      return undefined;
    }
    this.refer(uri, name.span, m.sym);
    return m;
  }

  private device(uri: string, ref: A.Ref | undefined, platform: Platform | undefined): Device | undefined {
    return this.member(uri, ref, platform, ['device']) as Device | undefined;
  }

  // ----- platforms -------------------------------------------------------------------

  private declarePlatform(uri: string, d: A.PlatformDecl): void {
    if (!d.name) return;
    const p: Platform = {
      sym: this.sym('platform', uri, d.name, d.span), decl: d,
      iommus: new Map(), devices: new Map(), ram: [], reserved: [], members: new Map(),
    };
    // A duplicate is not entered in the model, but its contents are still checked.
    if (this.declareGlobal(p.sym, p)) this.model.platforms.set(p.sym.name, p);
    this.allPlatforms.push(p);
    const scope = `platform ${p.sym.name}`;
    for (const item of d.items) {
      switch (item.kind) {
        case 'arch': if (item.value) p.arch = item.value.text as Platform['arch']; break;
        case 'iommu': {
          if (!item.name) break;
          const iommu: Iommu = { sym: this.sym('iommu', uri, item.name, item.span, p.sym.name), decl: item, kind: item.iommuKind?.text as IommuKind | undefined, pageSizes: [] };
          if (this.declareLocal(p.members, iommu, scope)) p.iommus.set(iommu.sym.name, iommu);
          this.iommuSettings(uri, iommu);
          break;
        }
        case 'device': {
          if (!item.name) break;
          const dev: Device = { sym: this.sym('device', uri, item.name, item.span, p.sym.name), decl: item, tdisp: false, quirks: [] };
          if (this.declareLocal(p.members, dev, scope)) {
            p.devices.set(dev.sym.name, dev);
            const list = this.deviceIndex.get(dev.sym.name) ?? [];
            list.push(p);
            this.deviceIndex.set(dev.sym.name, list);
          }
          break;
        }
        case 'ram': {
          if (!item.name) break;
          const r = { sym: this.sym('ram', uri, item.name, item.span, p.sym.name), decl: item, range: this.range(uri, item.range) };
          if (this.declareLocal(p.members, r, scope)) p.ram.push(r);
          break;
        }
        case 'reserved': {
          if (!item.name) break;
          const r = {
            sym: this.sym('reserved', uri, item.name, item.span, p.sym.name), decl: item,
            type: item.regionType?.text as RegionType | undefined, range: this.range(uri, item.range), targets: [] as RegionTarget[],
          };
          if (this.declareLocal(p.members, r, scope)) p.reserved.push(r);
          break;
        }
        default: break;
      }
    }
    this.singletons(uri, d.items, ['arch'], `platform ${p.sym.name}`);
  }

  private iommuSettings(uri: string, iommu: Iommu): void {
    for (const s of iommu.decl.items) {
      switch (s.kind) {
        case 'address-width': {
          const v = this.count(uri, s.value, 1n, 64n, 'address width');
          if (v !== undefined) iommu.addressWidth = Number(v);
          break;
        }
        case 'msi-mode': if (s.value) iommu.msiMode = s.value.text as Iommu['msiMode']; break;
        case 'page-sizes':
          for (const lit of s.sizes) {
            const v = this.num(uri, lit);
            if (v === undefined) continue;
            if (v === 0n || (v & (v - 1n)) !== 0n) this.report('value-out-of-range', uri, lit.span, `page size ${lit.text} is not a power of two`);
            else iommu.pageSizes.push(v);
          }
          break;
        case 'cmdqv':
          iommu.cmdqv = {
            vintfs: this.count(uri, s.vintfs, 1n, 64n, 'VINTF count'),
            sidsPerVintf: this.count(uri, s.sidsPerVintf, 1n, 16n, 'SID pairs per VINTF'),
          };
          break;
        default: break;
      }
    }
    this.singletons(uri, iommu.decl.items, ['address-width', 'msi-mode', 'cmdqv', 'page-sizes'], `IOMMU ${iommu.sym.name}`);
  }

  /** Second pass over a platform: references between its members, BDFs. */
  private resolvePlatform(p: Platform): void {
    const uri = p.sym.uri;
    const byBdf = new Map<string, Device>();
    for (const dev of p.devices.values()) {
      for (const s of dev.decl.items) {
        switch (s.kind) {
          case 'bdf': {
            const b = s.value ? this.value(uri, evaluateBdf(s.value)) : undefined;
            if (!b) break;
            dev.bdf = b;
            const key = formatBdf(b);
            const other = byBdf.get(key);
            if (other && other !== dev) {
              this.report('duplicate-bdf', uri, s.value!.span, `device ${dev.sym.name} is at ${key}, where device ${other.sym.name} already is`,
                { related: [{ uri, span: other.sym.nameSpan, message: `device ${other.sym.name}` }] });
            } else {
              byBdf.set(key, dev);
            }
            break;
          }
          case 'device-iommu':
            dev.iommu = this.member(uri, s.iommu, p, ['iommu']) as Iommu | undefined;
            dev.stream = this.count(uri, s.stream, 0n, 0xffff_ffffn, 'stream ID');
            break;
          case 'group': dev.group = this.count(uri, s.value, 0n, 0xffff_ffffn, 'IOMMU group'); break;
          case 'tdisp-capable': dev.tdisp = true; break;
          case 'quirk': dev.quirks.push(...s.quirks.map((q) => q.text)); break;
          case 'vf-of': dev.pf = this.device(uri, s.pf, p); break;
          case 'class': dev.deviceClass = s.value?.text; break;
          default: break;
        }
      }
      this.singletons(uri, dev.decl.items, ['bdf', 'device-iommu', 'group', 'vf-of', 'class', 'tdisp-capable'], `device ${dev.sym.name}`);
    }
    for (const r of p.reserved) {
      for (const t of r.decl.targets) {
        if (t.kind === 'group') {
          const g = this.count(uri, t.group, 0n, 0xffff_ffffn, 'IOMMU group');
          if (g !== undefined) r.targets.push({ kind: 'group', group: g });
        } else {
          const m = this.member(uri, t.ref, p, ['device', 'iommu']);
          if (m?.sym.kind === 'device') r.targets.push({ kind: 'device', device: m as Device });
          else if (m?.sym.kind === 'iommu') r.targets.push({ kind: 'iommu', iommu: m as Iommu });
        }
      }
    }
  }

  // ----- guests ----------------------------------------------------------------------

  private declareGuest(uri: string, d: A.GuestDecl): void {
    if (!d.name) return;
    const g: Guest = { sym: this.sym('guest', uri, d.name, d.span), decl: d, ram: [], assigns: [], viommus: [], container: 'type1' };
    if (this.declareGlobal(g.sym, g)) this.model.guests.set(g.sym.name, g);
    g.platform = this.global(uri, d.platform, ['platform']) as Platform | undefined;
    const locals = new Map<string, { sym: Sym }>();
    const scope = `guest ${g.sym.name}`;
    for (const item of d.items) {
      switch (item.kind) {
        case 'ram': {
          if (!item.name) break;
          const r = { sym: this.sym('guest-ram', uri, item.name, item.span, g.sym.name), decl: item, range: this.range(uri, item.range) };
          if (this.declareLocal(locals, r, scope)) g.ram.push(r);
          break;
        }
        case 'assign':
          g.assigns.push({ uri, stmt: item, device: this.device(uri, item.device, g.platform), mode: (item.mode?.text ?? 'shared') as AssignMode });
          break;
        case 'machine': g.machine = this.machine(uri, item); break;
        case 'msi-window': g.msiWindow = this.range(uri, item.range); break;
        case 'confidential': {
          let vtom: bigint | undefined;
          for (const v of item.items) if (v.kind === 'vtom') vtom = this.num(uri, v.value);
          this.singletons(uri, item.items, ['vtom'], `confidential settings of guest ${g.sym.name}`);
          g.confidential = { stmt: item, technology: item.technology?.text as 'sev-snp' | 'tdx' | undefined, vtom };
          break;
        }
        case 'viommu': {
          if (!item.name) break;
          const v = {
            sym: this.sym('viommu', uri, item.name, item.span, g.sym.name), stmt: item, kind: item.iommuKind?.text as IommuKind | undefined,
            via: this.global(uri, item.via, ['vintf']) as Vintf | undefined, stage2: item.stage2 !== undefined,
          };
          if (this.declareLocal(locals, v, scope)) g.viommus.push(v);
          break;
        }
        case 'container': if (item.value) g.container = item.value.text as Guest['container']; break;
        default: break;
      }
    }
    this.singletons(uri, d.items, ['machine', 'msi-window', 'confidential', 'container'], `guest ${g.sym.name}`);
  }

  private machine(uri: string, m: A.MachineStmt): Guest['machine'] {
    const out: NonNullable<Guest['machine']> = { stmt: m, type: m.machineType?.text as 'q35' | 'i440fx' | 'virt' | undefined };
    const seen = new Map<string, A.Span>();
    for (const o of m.options) {
      const lit = o.value && /^[0-9]/.test(o.value.text) ? (o.value as A.NumLit) : undefined;
      if (seen.has(o.key.text)) {
        this.report('duplicate-setting', uri, o.span, `'${o.key.text}' is given twice; this one overrides the first`,
          { related: [{ uri, span: seen.get(o.key.text)!, message: 'earlier setting' }] });
      }
      seen.set(o.key.text, o.span);
      switch (o.key.text) {
        case 'memory': out.memory = this.num(uri, lit); break;
        case 'max-ram-below-4g': out.maxRamBelow4g = this.num(uri, lit); break;
        case 'phys-bits': { const v = this.count(uri, lit, 32n, 64n, 'phys-bits'); if (v !== undefined) out.physBits = Number(v); break; }
        case 'cpu': out.cpu = o.value?.text as 'amd' | 'intel' | undefined; break;
        default: break;
      }
    }
    return out;
  }

  // ----- pools -----------------------------------------------------------------------

  private pool(uri: string, d: A.PoolDecl): void {
    if (!d.name) return;
    const p: Pool = { sym: this.sym('pool', uri, d.name, d.span), decl: d, hosts: [] };
    if (this.declareGlobal(p.sym, p)) this.model.pools.set(p.sym.name, p);
    const seen = new Map<Platform, A.Span>();
    for (const h of d.hosts) {
      const host = this.global(uri, h, ['platform']) as Platform | undefined;
      if (!host) continue;
      if (seen.has(host)) {
        this.report('duplicate-setting', uri, h.span, `platform ${host.sym.name} is already in pool ${p.sym.name}`,
          { related: [{ uri, span: seen.get(host)!, message: 'listed here first' }] });
        continue;
      }
      seen.set(host, h.span);
      p.hosts.push(host);
    }
  }

  // ----- timelines -------------------------------------------------------------------

  private timeline(uri: string, d: A.TimelineDecl): void {
    if (!d.name) return;
    const t: Timeline = { sym: this.sym('timeline', uri, d.name, d.span), decl: d, steps: [] };
    if (this.declareGlobal(t.sym, t)) this.model.timelines.set(t.sym.name, t);
    /** Where each guest used so far is, step by step. */
    const location = new Map<Guest, Platform | undefined>();
    const guest = (ref: A.Ref | undefined): Guest | undefined => {
      const g = this.global(uri, ref, ['guest']) as Guest | undefined;
      if (g && !location.has(g)) location.set(g, g.platform);
      return g;
    };
    for (const step of d.steps) {
      const r: ResolvedStep = { uri, step };
      switch (step.kind) {
        case 'start': case 'stop': case 'launch-update':
          r.guest = guest(step.guest);
          r.platform = r.guest && location.get(r.guest);
          break;
        case 'migrate':
          r.guest = guest(step.guest);
          r.platform = r.guest && location.get(r.guest);
          r.target = this.global(uri, step.to, ['platform']) as Platform | undefined;
          // An unresolved target leaves the guest nowhere known: later lookups stay silent.
          if (r.guest) location.set(r.guest, r.target);
          break;
        case 'hotplug':
          r.guest = guest(step.guest);
          r.platform = r.guest && location.get(r.guest);
          r.device = this.device(uri, step.device, r.platform);
          break;
        case 'unplug':
          if (step.guest) {
            r.guest = guest(step.guest);
            r.platform = r.guest && location.get(r.guest);
            r.device = this.device(uri, step.device, r.platform);
          } else {
            this.deviceInPlay(uri, step.device, location, r);
          }
          break;
        case 'tdisp': case 'config': case 'power': case 'link': case 'convert':
          this.deviceInPlay(uri, step.device, location, r);
          if (step.kind === 'config' && step.bar) this.count(uri, step.bar, 0n, 5n, 'BAR index');
          if (step.kind === 'config' && step.value) this.num(uri, step.value);
          break;
        case 'balloon': case 'free':
          this.p2mTarget(uri, step.target, r);
          r.range = this.range(uri, step.range);
          break;
        default: break;
      }
      t.steps.push(r);
    }
  }

  /**
   * A device named by a step without a guest: it resolves among the platforms the
   * timeline's guests are on at this step (all platforms if none is in play yet).
   */
  private deviceInPlay(uri: string, ref: A.Ref | undefined, location: Map<Guest, Platform | undefined>, r: ResolvedStep): void {
    if (!ref) return;
    if (ref.qualifier) {
      r.device = this.device(uri, ref, undefined);
      r.platform = r.device ? this.model.platforms.get(r.device.sym.container!) : undefined;
      return;
    }
    const inPlay = [...new Set([...location.values()].filter((p): p is Platform => !!p))];
    const pool = inPlay.length ? inPlay : [...this.model.platforms.values()];
    const having = pool.filter((p) => p.devices.has(ref.name.text));
    if (having.length === 1) {
      r.platform = having[0]!;
      r.device = this.device(uri, ref, r.platform);
    } else if (having.length > 1) {
      const names = having.map((p) => p.sym.name);
      this.report('ambiguous-name', uri, ref.span,
        `'${ref.name.text}' is a device of ${names.join(' and ')}, all in play at this step; write ${names.map((n) => `${n}.${ref.name.text}`).join(' or ')}`,
        {
          related: having.map((p) => ({ uri: p.sym.uri, span: p.devices.get(ref.name.text)!.sym.nameSpan, message: `${p.sym.name}.${ref.name.text}` })),
          fixes: names.map((n) => replace(`Write ${n}.${ref.name.text}`, uri, ref.span, `${n}.${ref.name.text}`)),
        });
    } else {
      const where = inPlay.length ? `on ${inPlay.map((p) => p.sym.name).join(' or ')}, where this timeline's guests are` : 'on any platform';
      const elsewhere = inPlay.length ? (this.deviceIndex.get(ref.name.text) ?? []).map((p) => p.sym.name) : [];
      const candidates = pool.flatMap((p) => [...p.devices.keys()]);
      this.unknown(uri, ref.name, `no device '${ref.name.text}' ${where}`, candidates,
        elsewhere.length ? `; ${elsewhere.join(' and ')} ${elsewhere.length > 1 ? 'have' : 'has'} one` : '');
    }
  }

  /** `balloon T` / `free T`: a guest, or a Xen domain (`XEN.DOMAIN`, or bare if unique). */
  private p2mTarget(uri: string, ref: A.Ref | undefined, r: ResolvedStep): void {
    if (!ref) return;
    if (ref.qualifier) {
      const x = this.global(uri, { name: ref.qualifier, span: ref.qualifier.span }, ['xen']) as Xen | undefined;
      if (!x) return;
      const dom = x.domains.get(ref.name.text);
      if (dom) this.refer(uri, ref.name.span, dom.sym);
      else this.unknown(uri, ref.name, `no domain '${ref.name.text}' on Xen host ${x.sym.name}`, x.domains.keys());
      r.platform = x.platform;
      return;
    }
    const g = this.globals.get(ref.name.text);
    if (g?.sym.kind === 'guest') {
      r.guest = g.entity as Guest;
      r.platform = r.guest.platform;
      this.refer(uri, ref.name.span, g.sym);
      return;
    }
    const domains = [...this.model.xens.values()].flatMap((x) => (x.domains.has(ref.name.text) ? [{ x, d: x.domains.get(ref.name.text)! }] : []));
    if (domains.length === 1) {
      this.refer(uri, ref.name.span, domains[0]!.d.sym);
      r.platform = domains[0]!.x.platform;
    } else if (domains.length > 1) {
      this.report('ambiguous-name', uri, ref.span, `'${ref.name.text}' is a domain of ${domains.map((e) => e.x.sym.name).join(' and ')}; write XEN.${ref.name.text}`,
        { fixes: domains.map((e) => replace(`Write ${e.x.sym.name}.${ref.name.text}`, uri, ref.span, `${e.x.sym.name}.${ref.name.text}`)) });
    } else if (g) {
      this.report('wrong-kind', uri, ref.name.span, `'${ref.name.text}' is ${article(KIND_NOUN[g.sym.kind])}, not a guest or Xen domain`);
    } else {
      const candidates = [...this.model.guests.keys(), ...[...this.model.xens.values()].flatMap((x) => [...x.domains.keys()])];
      this.unknown(uri, ref.name, `unknown guest or Xen domain '${ref.name.text}'`, candidates);
    }
  }

  // ----- firmware --------------------------------------------------------------------

  private firmware(uri: string, d: A.FirmwareDecl): void {
    if (!d.name) return;
    const fw: Firmware = { sym: this.sym('firmware', uri, d.name, d.span), decl: d, drivers: [], events: new Map() };
    if (this.declareGlobal(fw.sym, fw)) this.model.firmwares.set(fw.sym.name, fw);
    fw.guest = this.global(uri, d.guest, ['guest']) as Guest | undefined;
    const platform = fw.guest?.platform;
    const driverNames = new Map<string, { sym: Sym }>();
    const handlers: A.HandlerStmt[] = [];
    for (const item of d.items) {
      if (item.kind === 'driver') {
        if (!item.name) continue;
        const drv = { sym: this.sym('driver', uri, item.name, item.span, fw.sym.name), decl: item, device: this.device(uri, item.device, platform), maps: new Map<string, Sym>() };
        if (!this.declareLocal(driverNames, drv, `firmware ${fw.sym.name}`)) continue;
        fw.drivers.push(drv);
        for (const s of item.items) {
          if (s.kind === 'map' && s.name) {
            const sym = this.sym('mapping', uri, s.name, s.span, drv.sym.name);
            const existing = drv.maps.get(sym.name);
            if (existing) {
              this.report('duplicate-name', uri, sym.nameSpan, `driver ${drv.sym.name} already has a mapping '${sym.name}'`,
                { related: [{ uri, span: existing.nameSpan, message: 'first declared here' }] });
            } else {
              drv.maps.set(sym.name, sym);
            }
            this.mapOptions(uri, s);
          } else if (s.kind === 'handler') {
            handlers.push(s);
          }
        }
      } else if (item.kind === 'iommu-protocol') {
        for (const h of item.handlers) if (h.kind === 'handler') handlers.push(h);
      }
    }
    // Events are declared by the handlers waiting on them (several may share one).
    for (const h of handlers) {
      if (h.eventName && !fw.events.has(h.eventName.text)) {
        fw.events.set(h.eventName.text, this.sym('event', uri, h.eventName, h.span, fw.sym.name));
      }
    }
    for (const item of d.items) {
      if (item.kind === 'driver') {
        const drv = fw.drivers.find((x) => x.decl === item);
        for (const s of item.items) if (s.kind === 'handler') this.handlerActions(uri, fw, s, drv ? [drv] : []);
      } else if (item.kind === 'iommu-protocol') {
        for (const h of item.handlers) if (h.kind === 'handler') this.handlerActions(uri, fw, h, fw.drivers);
      }
    }
  }

  private mapOptions(uri: string, s: A.MapStmt): void {
    for (const o of s.options) {
      if (o.key.text === 'at' || o.key.text === 'size') {
        const v = this.num(uri, o.value as A.NumLit | undefined);
        if (o.key.text === 'size' && v === 0n) this.report('zero-size', uri, o.value!.span, 'a DMA mapping cannot have size 0');
      }
    }
  }

  /** `unmap X` / `free X` name a mapping of the driver (any driver for the IOMMU protocol); `signal E` an event. */
  private handlerActions(uri: string, fw: Firmware, h: A.HandlerStmt, drivers: Firmware['drivers']): void {
    if (h.event?.text === 'event' && h.eventName) {
      const e = fw.events.get(h.eventName.text);
      if (e) this.refer(uri, h.eventName.span, e);
    }
    for (const a of h.actions) {
      if (a.kind !== 'action' || !a.target) continue;
      const name = a.target.name;
      if (a.verb.text === 'signal') {
        const e = fw.events.get(name.text);
        if (e) this.refer(uri, name.span, e);
        else this.unknown(uri, name, `no handler waits on event '${name.text}' in firmware ${fw.sym.name}; add 'on event ${name.text} tpl callback { ... }'`, fw.events.keys());
      } else if (a.verb.text === 'unmap' || a.verb.text === 'free') {
        if (a.target.qualifier) {
          this.report('unknown-name', uri, a.target.span, `a mapping is named on its own ('${name.text}')`);
          continue;
        }
        const hit = drivers.map((dr) => dr.maps.get(name.text)).find((s): s is Sym => !!s);
        if (hit) this.refer(uri, name.span, hit);
        else {
          const owner = drivers.length === 1 ? `driver ${drivers[0]!.sym.name}` : `firmware ${fw.sym.name}`;
          this.unknown(uri, name, `no mapping '${name.text}' in ${owner}`, drivers.flatMap((dr) => [...dr.maps.keys()]));
        }
      }
    }
  }

  // ----- xen -------------------------------------------------------------------------

  private xen(uri: string, d: A.XenDecl): void {
    if (!d.name) return;
    const x: Xen = { sym: this.sym('xen', uri, d.name, d.span), decl: d, domains: new Map() };
    if (this.declareGlobal(x.sym, x)) this.model.xens.set(x.sym.name, x);
    x.platform = this.global(uri, d.platform, ['platform']) as Platform | undefined;
    for (const item of d.items) {
      if (item.kind === 'unknown') continue;
      const nameWord = item.kind === 'dom0' ? { text: 'dom0', span: item.span } : item.name;
      if (!nameWord) continue;
      const dom = { sym: this.sym('domain', uri, nameWord, item.span, x.sym.name), decl: item, passed: [] as Device[] };
      if (item.kind === 'dom0') dom.sym.nameSpan = { start: item.span.start, end: item.span.start + 4 };
      if (!this.declareLocal(x.domains, dom, `Xen host ${x.sym.name}`)) continue;
      for (const s of item.items) {
        if (s.kind === 'pass') {
          for (const ref of s.devices) {
            const dev = this.device(uri, ref, x.platform);
            if (dev) dom.passed.push(dev);
          }
        } else if (s.kind === 'ram') {
          this.range(uri, s.range);
        }
      }
      this.singletons(uri, item.items, ['mode', 'map-reserved', 'iommu-map', 'quarantine', 'dom0-iommu'], item.kind === 'dom0' ? 'dom0' : `domain ${nameWord.text}`);
    }
  }

  // ----- cmdqv -----------------------------------------------------------------------

  private declareVintf(uri: string, d: A.VintfDecl): void {
    if (!d.name) return;
    const v: Vintf = { sym: this.sym('vintf', uri, d.name, d.span), decl: d, streams: [] };
    if (this.declareGlobal(v.sym, v)) this.model.vintfs.set(v.sym.name, v);
    this.allVintfs.push(v);
  }

  /** After guests are declared: the VINTF's guest, its IOMMU there and its streams. */
  private resolveVintf(v: Vintf): void {
    const uri = v.sym.uri;
    const d = v.decl;
    v.guest = this.global(uri, d.guest, ['guest']) as Guest | undefined;
    const platform = v.guest?.platform;
    v.iommu = this.member(uri, d.iommu, platform, ['iommu']) as Iommu | undefined;
    for (const item of d.items) {
      if (item.kind === 'stream') {
        v.streams.push({ stmt: item, device: this.device(uri, item.device, platform), virtualSid: this.count(uri, item.virtualSid, 0n, 0xffff_ffffn, 'virtual stream ID') });
      } else if (item.kind === 'vmid') {
        this.count(uri, item.value, 0n, 0xffffn, 'VMID');
      }
    }
    this.singletons(uri, d.items, ['owner', 'vmid', 'hyp-own'], `VINTF ${v.sym.name}`);
  }

  private commands(uri: string, d: A.CommandsDecl): void {
    const block: CommandsBlock = { uri, decl: d, vintf: this.global(uri, d.vintf, ['vintf']) as Vintf | undefined };
    this.model.commands.push(block);
    for (const b of d.batches) {
      if (b.kind !== 'batch') continue;
      for (const c of b.commands) {
        if (c.kind !== 'smmu-command') continue;
        for (const op of c.operands) if (/^[0-9]/.test(op.text)) this.num(uri, op);
      }
    }
  }
}

// ----- helpers ---------------------------------------------------------------------

function replace(title: string, uri: string, span: A.Span, newText: string): Fix {
  return { title, edits: [{ uri, span, newText }] };
}

function article(noun: string): string {
  return `${/^(?:[aeiou]|IOMMU)/.test(noun) ? 'an' : 'a'} ${noun}`;
}

function settingWord(kind: string): string {
  return ({ 'device-iommu': 'iommu', 'tdisp-capable': 'tdisp', 'msi-mode': 'msi', 'dom0-iommu': 'iommu' } as Record<string, string>)[kind] ?? kind;
}

