/** Firmware: drivers bound to devices, their DMA mappings, handlers and events. */
import type * as A from '@iommu-lens/grammar';
import type { Scope } from './scope';
import type { Firmware, Guest, Sym } from './types';

export function firmware(ctx: Scope, uri: string, d: A.FirmwareDecl): void {
  if (!d.name) return;
  const fw: Firmware = { sym: ctx.sym('firmware', uri, d.name, d.span), decl: d, drivers: [], events: new Map() };
  if (ctx.declareGlobal(fw.sym, fw)) ctx.model.firmwares.set(fw.sym.name, fw);
  fw.guest = ctx.global(uri, d.guest, ['guest']) as Guest | undefined;
  const platform = fw.guest?.platform;
  const driverNames = new Map<string, { sym: Sym }>();
  const handlers: A.HandlerStmt[] = [];
  for (const item of d.items) {
    if (item.kind === 'driver') {
      if (!item.name) continue;
      const drv = { sym: ctx.sym('driver', uri, item.name, item.span, fw.sym.name), decl: item, device: ctx.device(uri, item.device, platform), maps: new Map<string, Sym>() };
      if (!ctx.declareLocal(driverNames, drv, `firmware ${fw.sym.name}`)) continue;
      fw.drivers.push(drv);
      for (const s of item.items) {
        if (s.kind === 'map' && s.name) {
          const sym = ctx.sym('mapping', uri, s.name, s.span, drv.sym.name);
          const existing = drv.maps.get(sym.name);
          if (existing) {
            ctx.report('duplicate-name', uri, sym.nameSpan, `driver ${drv.sym.name} already has a mapping '${sym.name}'`,
              { related: [{ uri, span: existing.nameSpan, message: 'first declared here' }] });
          } else {
            drv.maps.set(sym.name, sym);
          }
          mapOptions(ctx, uri, s);
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
      fw.events.set(h.eventName.text, ctx.sym('event', uri, h.eventName, h.span, fw.sym.name));
    }
  }
  for (const item of d.items) {
    if (item.kind === 'driver') {
      const drv = fw.drivers.find((x) => x.decl === item);
      for (const s of item.items) if (s.kind === 'handler') handlerActions(ctx, uri, fw, s, drv ? [drv] : []);
    } else if (item.kind === 'iommu-protocol') {
      for (const h of item.handlers) if (h.kind === 'handler') handlerActions(ctx, uri, fw, h, fw.drivers);
    }
  }
}

function mapOptions(ctx: Scope, uri: string, s: A.MapStmt): void {
  for (const o of s.options) {
    if (o.key.text === 'at' || o.key.text === 'size') {
      const v = ctx.num(uri, o.value as A.NumLit | undefined);
      if (o.key.text === 'size' && v === 0n) ctx.report('zero-size', uri, o.value!.span, 'a DMA mapping cannot have size 0');
    }
  }
}

/** `unmap X` / `free X` name a mapping of the driver (any driver for the IOMMU protocol); `signal E` an event. */
function handlerActions(ctx: Scope, uri: string, fw: Firmware, h: A.HandlerStmt, drivers: Firmware['drivers']): void {
  if (h.event?.text === 'event' && h.eventName) {
    const e = fw.events.get(h.eventName.text);
    if (e) ctx.refer(uri, h.eventName.span, e);
  }
  for (const a of h.actions) {
    if (a.kind !== 'action' || !a.target) continue;
    const name = a.target.name;
    if (a.verb.text === 'signal') {
      const e = fw.events.get(name.text);
      if (e) ctx.refer(uri, name.span, e);
      else ctx.unknown(uri, name, `no handler waits on event '${name.text}' in firmware ${fw.sym.name}; add 'on event ${name.text} tpl callback { ... }'`, fw.events.keys());
    } else if (a.verb.text === 'unmap' || a.verb.text === 'free') {
      if (a.target.qualifier) {
        ctx.report('unknown-name', uri, a.target.span, `a mapping is named on its own ('${name.text}')`);
        continue;
      }
      const hit = drivers.map((dr) => dr.maps.get(name.text)).find((s): s is Sym => !!s);
      if (hit) ctx.refer(uri, name.span, hit);
      else {
        const owner = drivers.length === 1 ? `driver ${drivers[0]!.sym.name}` : `firmware ${fw.sym.name}`;
        ctx.unknown(uri, name, `no mapping '${name.text}' in ${owner}`, drivers.flatMap((dr) => [...dr.maps.keys()]));
      }
    }
  }
}
