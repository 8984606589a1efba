/** Xen hosts: dom0 and domains, and the devices passed through to them. */
import type * as A from '@iommu-lens/grammar';
import type { Scope } from './scope';
import type { Device, Platform, Xen } from './types';

export function xen(ctx: Scope, uri: string, d: A.XenDecl): void {
  if (!d.name) return;
  const x: Xen = { sym: ctx.sym('xen', uri, d.name, d.span), decl: d, domains: new Map() };
  if (ctx.declareGlobal(x.sym, x)) ctx.model.xens.set(x.sym.name, x);
  x.platform = ctx.global(uri, d.platform, ['platform']) as Platform | undefined;
  for (const item of d.items) {
    if (item.kind === 'unknown') continue;
    const nameWord = item.kind === 'dom0' ? { text: 'dom0', span: item.span } : item.name;
    if (!nameWord) continue;
    const dom = { sym: ctx.sym('domain', uri, nameWord, item.span, x.sym.name), decl: item, passed: [] as Device[] };
    if (item.kind === 'dom0') dom.sym.nameSpan = { start: item.span.start, end: item.span.start + 4 };
    if (!ctx.declareLocal(x.domains, dom, `Xen host ${x.sym.name}`)) continue;
    for (const s of item.items) {
      if (s.kind === 'pass') {
        for (const ref of s.devices) {
          const dev = ctx.device(uri, ref, x.platform);
          if (dev) dom.passed.push(dev);
        }
      } else if (s.kind === 'ram') {
        ctx.range(uri, s.range);
      }
    }
    ctx.singletons(uri, item.items, ['mode', 'map-reserved', 'iommu-map', 'quarantine', 'dom0-iommu'], item.kind === 'dom0' ? 'dom0' : `domain ${nameWord.text}`);
  }
}
