/** Platforms: their IOMMUs, devices and regions, and the references among them. */
import type * as A from '@iommu-lens/grammar';
import { evaluateBdf, formatBdf } from './numbers';
import { DEVICE_QUIRKS } from './quirks';
import { U64_MAX } from './interval';
import type { Scope } from './scope';
import type { Device, Iommu, IommuKind, Platform, RegionTarget, RegionType } from './types';

/** An IO-APIC's register window: one 4 KiB page. */
const IOAPIC_PAGE = 0x1000n;

export function declarePlatform(ctx: Scope, uri: string, d: A.PlatformDecl): void {
  if (!d.name) return;
  const p: Platform = {
    sym: ctx.sym('platform', uri, d.name, d.span),
    decl: d,
    iommus: new Map(),
    devices: new Map(),
    ram: [],
    reserved: [],
    ioapics: [],
    mmcfg: [],
    members: new Map(),
  };
  // A duplicate is not entered in the model, but its contents are still checked.
  if (ctx.declareGlobal(p.sym, p)) ctx.model.platforms.set(p.sym.name, p);
  ctx.allPlatforms.push(p);
  for (const item of d.items) {
    switch (item.kind) {
      case 'arch':
        if (item.value) p.arch = item.value.text as Platform['arch'];
        break;
      case 'kernel':
        p.kernel = ctx.release(uri, item.release, 'linux');
        break;
      case 'iommu':
      case 'device':
      case 'ram':
      case 'reserved':
        declareMember(ctx, uri, p, item);
        break;
      case 'ioapic':
        ioapic(ctx, uri, p, item);
        break;
      case 'mmcfg': {
        const range = ctx.range(uri, item.range);
        if (range) p.mmcfg.push({ range, stmt: item });
        break;
      }
      case 'dma-entry-limit': {
        // The module parameter is an unsigned int.
        const v = ctx.count(uri, item.value, 1n, 0xffff_ffffn, 'dma-entry-limit');
        if (v !== undefined) p.dmaEntryLimit = { value: Number(v), span: item.span };
        break;
      }
      default:
        break;
    }
  }
  ctx.singletons(uri, d.items, ['arch', 'kernel', 'dma-entry-limit'], `platform ${p.sym.name}`);
}

/** A device, IOMMU or region: one namespace per platform (its members refer to each other by name). */
function declareMember(
  ctx: Scope,
  uri: string,
  p: Platform,
  item: Extract<A.PlatformItem, { kind: 'iommu' | 'device' | 'ram' | 'reserved' }>,
): void {
  if (!item.name) return;
  const scope = `platform ${p.sym.name}`;
  const sym = ctx.sym(item.kind, uri, item.name, item.span, p.sym.name);
  switch (item.kind) {
    case 'iommu': {
      const iommu: Iommu = { sym, decl: item, kind: item.iommuKind?.text as IommuKind | undefined, pageSizes: [] };
      if (ctx.declareLocal(p.members, iommu, scope)) p.iommus.set(sym.name, iommu);
      iommuSettings(ctx, uri, iommu);
      break;
    }
    case 'device': {
      const dev: Device = { sym, decl: item, quirks: [] };
      if (ctx.declareLocal(p.members, dev, scope)) p.devices.set(sym.name, dev);
      break;
    }
    case 'ram': {
      const r = { sym, decl: item, range: ctx.range(uri, item.range) };
      if (ctx.declareLocal(p.members, r, scope)) p.ram.push(r);
      break;
    }
    case 'reserved': {
      const type = item.regionType?.text as RegionType | undefined;
      const r = { sym, decl: item, type, range: ctx.range(uri, item.range), targets: [] as RegionTarget[] };
      if (ctx.declareLocal(p.members, r, scope)) p.reserved.push(r);
      break;
    }
  }
}

/** An IO-APIC's register page: page-aligned, inside the 64-bit space. */
function ioapic(ctx: Scope, uri: string, p: Platform, item: A.IoapicStmt): void {
  const at = ctx.num(uri, item.address);
  if (at === undefined) return;
  if (at % IOAPIC_PAGE !== 0n)
    ctx.report(
      'value-out-of-range',
      uri,
      item.address!.span,
      `an IO-APIC's registers start on a 4 KiB page boundary; ${item.address!.text} is not one`,
    );
  else if (at > U64_MAX - IOAPIC_PAGE + 1n)
    ctx.report('range-wraps', uri, item.address!.span, `the IO-APIC page at ${item.address!.text} runs past 0xffff_ffff_ffff_ffff`);
  else p.ioapics.push({ range: { start: at, end: at + IOAPIC_PAGE - 1n }, stmt: item });
}

function iommuSettings(ctx: Scope, uri: string, iommu: Iommu): void {
  for (const s of iommu.decl.items) {
    switch (s.kind) {
      case 'address-width': {
        const v = ctx.count(uri, s.value, 1n, 64n, 'address width');
        if (v !== undefined) iommu.addressWidth = Number(v);
        break;
      }
      case 'msi-mode':
        if (s.value) iommu.msiMode = s.value.text as Iommu['msiMode'];
        break;
      case 'page-sizes':
        for (const lit of s.sizes) {
          const v = ctx.num(uri, lit);
          if (v === undefined) continue;
          if (v === 0n || (v & (v - 1n)) !== 0n)
            ctx.report('value-out-of-range', uri, lit.span, `page size ${lit.text} is not a power of two`);
          else iommu.pageSizes.push(v);
        }
        break;
      case 'ht-range-ignore':
        iommu.htRangeIgnore = s;
        break;
      default:
        break;
    }
    ctx.schema.items.iommuBody.get(s.kind)?.(ctx, uri, iommu, s);
  }
  const once = ctx.schema.singletons.iommuBody;
  ctx.singletons(uri, iommu.decl.items, once.kinds, `IOMMU ${iommu.sym.name}`, once.words);
}

/** Second pass over a platform: references between its members, BDFs. */
export function resolvePlatform(ctx: Scope, p: Platform): void {
  const uri = p.sym.uri;
  const byBdf = new Map<string, Device>();
  for (const dev of p.devices.values()) {
    for (const s of dev.decl.items) {
      switch (s.kind) {
        case 'bdf': {
          const b = s.value ? ctx.value(uri, evaluateBdf(s.value)) : undefined;
          if (!b) break;
          dev.bdf = b;
          const key = formatBdf(b);
          const other = byBdf.get(key);
          if (other && other !== dev) {
            ctx.report(
              'duplicate-bdf',
              uri,
              s.value!.span,
              `device ${dev.sym.name} is at ${key}, where device ${other.sym.name} already is`,
              { related: [{ uri, span: other.sym.nameSpan, message: `device ${other.sym.name}` }] },
            );
          } else {
            byBdf.set(key, dev);
          }
          break;
        }
        case 'device-iommu':
          dev.iommu = ctx.member(uri, s.iommu, p, ['iommu']) as Iommu | undefined;
          dev.stream = ctx.count(uri, s.stream, 0n, 0xffff_ffffn, 'stream ID');
          if (s.streams.length > 1) dev.streams = s.streams.flatMap((n) => ctx.count(uri, n, 0n, 0xffff_ffffn, 'stream ID') ?? []);
          break;
        case 'group':
          dev.group = ctx.count(uri, s.value, 0n, 0xffff_ffffn, 'IOMMU group');
          break;
        case 'quirk':
          for (const q of s.quirks) {
            if (Object.hasOwn(DEVICE_QUIRKS, q.text)) dev.quirks.push(q.text);
            else
              ctx.unknownValue(uri, q, `unknown quirk '${q.text}'; known: ${Object.keys(DEVICE_QUIRKS).join(', ')}`, () =>
                Object.keys(DEVICE_QUIRKS),
              );
          }
          break;
        case 'vf-of':
          dev.pf = ctx.device(uri, s.pf, p);
          break;
        case 'class':
          dev.deviceClass = s.value?.text;
          break;
        default:
          break;
      }
      ctx.schema.items.deviceBody.get(s.kind)?.(ctx, uri, dev, s);
    }
    const once = ctx.schema.singletons.deviceBody;
    ctx.singletons(uri, dev.decl.items, once.kinds, `device ${dev.sym.name}`, once.words);
  }
  for (const r of p.reserved) {
    for (const t of r.decl.targets) {
      if (t.kind === 'group') {
        const g = ctx.count(uri, t.group, 0n, 0xffff_ffffn, 'IOMMU group');
        if (g !== undefined) r.targets.push({ kind: 'group', group: g });
      } else {
        const m = ctx.member(uri, t.ref, p, ['device', 'iommu']);
        if (m?.sym.kind === 'device') r.targets.push({ kind: 'device', device: m as Device });
        else if (m?.sym.kind === 'iommu') r.targets.push({ kind: 'iommu', iommu: m as Iommu });
      }
    }
  }
}
