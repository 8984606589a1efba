/** Xen hosts: dom0 and domains, their IOMMU settings and the devices passed through to them. */
import type * as A from '@iommu-lens/grammar';
import type { Scope } from '../../../model/scope';
import type { Platform, Sym } from '../../../model/types';
import type { Dom0IommuOption, RdmPolicy, Xen, XenDomain, XenDomainMode, XenMapMode, XenQuarantine } from './types';

export function xen(ctx: Scope, uri: string, d: A.XenDecl): void {
  if (!d.name) return;
  const x: Xen = { sym: ctx.sym('xen', uri, d.name, d.span), decl: d, domains: new Map(), ranges: [] };
  if (ctx.declareGlobal(x.sym, x)) ctx.model.xens.set(x.sym.name, x);
  x.platform = ctx.global(uri, d.platform, ['platform']) as Platform | undefined;
  ctx.singletons(uri, d.items, ['quarantine', 'xen-version'], `Xen host ${d.name.text}`);
  for (const item of d.items) {
    if (item.kind === 'unknown') continue;
    if (item.kind === 'xen-range') {
      const range = ctx.range(uri, item.range);
      if (range) x.ranges.push({ range, stmt: item });
      continue;
    }
    if (item.kind === 'xen-version') {
      x.release = ctx.release(uri, item.release, 'xen');
      continue;
    }
    if (item.kind === 'quarantine') {
      if (item.value) x.quarantine = { mode: item.value.text as XenQuarantine, stmt: item };
      continue;
    }
    const nameWord = item.kind === 'dom0' ? { text: 'dom0', span: item.span } : item.name;
    if (!nameWord) continue;
    const dom: XenDomain = {
      sym: ctx.sym('domain', uri, nameWord, item.span, x.sym.name),
      decl: item,
      xen: x,
      isDom0: item.kind === 'dom0',
      dom0Iommu: [],
      passed: [],
      ram: [],
    };
    if (item.kind === 'dom0') Object.assign(dom.sym, { nameSpan: { start: item.span.start, end: item.span.start + 4 }, fixed: true });
    if (!ctx.declareLocal(x.domains, dom, `Xen host ${x.sym.name}`)) continue;
    domainSettings(ctx, uri, dom, item.items);
    ctx.singletons(
      uri,
      item.items,
      ['mode', 'map-reserved', 'iommu-map', 'quarantine', 'dom0-iommu', 'rdm'],
      item.kind === 'dom0' ? 'dom0' : `domain ${nameWord.text}`,
      { 'dom0-iommu': 'iommu' },
    );
  }
}

function domainSettings(ctx: Scope, uri: string, dom: XenDomain, items: A.XenItem[]): void {
  const platform = dom.xen.platform;
  const locals = new Map<string, { sym: Sym }>();
  for (const s of items) {
    switch (s.kind) {
      case 'mode':
        if (s.value) {
          dom.mode = s.value.text as XenDomainMode;
          dom.modeStmt = s;
        }
        break;
      case 'dom0-iommu':
        dom.dom0Iommu = s.values.map((v) => v.text as Dom0IommuOption);
        dom.dom0IommuStmt = s;
        break;
      case 'map-reserved':
        if (s.value) dom.mapReserved = s.value.text === 'on';
        break;
      case 'iommu-map':
        if (s.value) {
          dom.iommuMap = s.value.text as XenMapMode;
          dom.iommuMapStmt = s;
        }
        break;
      case 'quarantine':
        if (s.value) {
          dom.quarantine = s.value.text as XenQuarantine;
          dom.quarantineStmt = s;
        }
        break;
      case 'pass': {
        const policy = s.policy?.text as RdmPolicy | undefined;
        for (const ref of s.devices) {
          const device = ctx.device(uri, ref, platform);
          if (device) dom.passed.push({ device, ref, policy });
        }
        break;
      }
      case 'rdm':
        dom.rdm = { strategyHost: !!s.strategy, policy: s.policy?.text as RdmPolicy | undefined, stmt: s };
        break;
      case 'ram': {
        if (!s.name) break;
        const r = { sym: ctx.sym('guest-ram', uri, s.name, s.span, dom.sym.name), decl: s, range: ctx.range(uri, s.range) };
        if (ctx.declareLocal(locals, r, `domain ${dom.sym.name}`)) dom.ram.push(r);
        break;
      }
      default:
        break;
    }
  }
}
