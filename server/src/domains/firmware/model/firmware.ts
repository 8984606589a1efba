/** Firmware: drivers bound to devices, their DMA mappings, handlers and events. */
import type * as A from '@iommu-lens/grammar';
import type { Scope } from '../../../model/scope';
import { finding } from '../codes';
import type { Guest } from '../../../model/types';
import type { DmaOperation, Firmware, FwAction, FwDriver, FwHandler, FwMapping, FwVerb } from './types';

export function firmware(ctx: Scope, uri: string, d: A.FirmwareDecl): void {
  if (!d.name) return;
  const fw: Firmware = { sym: ctx.sym('firmware', uri, d.name, d.span), decl: d, drivers: [], handlers: [], events: new Map() };
  if (ctx.declareGlobal(fw.sym, fw)) ctx.model.firmwares.set(fw.sym.name, fw);
  fw.guest = ctx.global(uri, d.guest, ['guest']) as Guest | undefined;
  const platform = fw.guest?.platform;
  const driverNames = new Map<string, { sym: FwDriver['sym'] }>();
  const heads: { stmt: A.HandlerStmt; driver?: FwDriver }[] = [];
  for (const item of d.items) {
    if (item.kind === 'edk2') {
      fw.edk2 = ctx.release(uri, item.release, 'edk2');
      fw.edk2Stmt = item;
    } else if (item.kind === 'driver') {
      if (!item.name) continue;
      const drv: FwDriver = {
        sym: ctx.sym('driver', uri, item.name, item.span, fw.sym.name),
        decl: item,
        device: ctx.device(uri, item.device, platform),
        maps: new Map(),
      };
      if (!ctx.declareLocal(driverNames, drv, `firmware ${fw.sym.name}`)) continue;
      fw.drivers.push(drv);
      for (const s of item.items) {
        if (s.kind === 'map' && s.name) declareMapping(ctx, uri, drv, s, s.name);
        else if (s.kind === 'handler') heads.push({ stmt: s, driver: drv });
      }
    } else if (item.kind === 'iommu-protocol') {
      for (const h of item.handlers) if (h.kind === 'handler') heads.push({ stmt: h });
    }
  }
  ctx.singletons(uri, d.items, ['edk2'], `firmware ${fw.sym.name}`);
  // Events are declared by the handlers waiting on them (several may share one).
  for (const { stmt: h } of heads) {
    if (h.eventName && !fw.events.has(h.eventName.text)) {
      fw.events.set(h.eventName.text, ctx.sym('event', uri, h.eventName, h.span, fw.sym.name));
    }
  }
  // The IOMMU protocol names mappings of any driver: the first driver's that has the name.
  const anyDriver = new Map<string, FwMapping>();
  for (const drv of fw.drivers) for (const [name, m] of drv.maps) if (!anyDriver.has(name)) anyDriver.set(name, m);
  for (const { stmt, driver } of heads) {
    const h = handler(ctx, uri, fw, stmt, driver, anyDriver);
    if (h) fw.handlers.push(h);
  }
}

function declareMapping(ctx: Scope, uri: string, driver: FwDriver, s: A.MapStmt, name: A.Word): void {
  const m: FwMapping = {
    sym: ctx.sym('mapping', uri, name, s.span, driver.sym.name),
    stmt: s,
    driver,
    operation: s.operation?.text as DmaOperation | undefined,
    state: 'idle',
  };
  const existing = driver.maps.get(m.sym.name);
  if (existing) {
    ctx.report('duplicate-name', uri, m.sym.nameSpan, `driver ${driver.sym.name} already has a mapping '${m.sym.name}'`, {
      related: [{ uri, span: existing.sym.nameSpan, message: 'first declared here' }],
    });
  } else {
    driver.maps.set(m.sym.name, m);
  }
  // `pending` and `completed` are one setting: the state of the DMA when the call returns.
  const setting = (o: A.OptionLit) => (o.key.text === 'completed' || o.key.text === 'pending' ? 'state' : o.key.text);
  ctx.singletons(
    uri,
    s.options.map((o) => ({ kind: setting(o), span: o.span })),
    ['at', 'size', 'state', 'from'],
    `mapping ${m.sym.name}`,
    { state: 'pending/completed' },
  );
  for (const o of s.options) {
    switch (o.key.text) {
      case 'at':
        m.at = ctx.num(uri, o.value as A.NumLit | undefined);
        break;
      case 'size': {
        m.size = ctx.num(uri, o.value as A.NumLit | undefined);
        if (m.size === 0n) ctx.report('zero-size', uri, o.value!.span, 'a DMA mapping cannot have size 0');
        break;
      }
      case 'pending':
      case 'completed':
        m.state = o.key.text;
        break;
      case 'from':
        m.source = o.value?.text as FwMapping['source'];
        break;
      default:
        break;
    }
  }
}

/**
 * Resolves a handler's actions: `unmap X` / `free X` name a mapping of the driver (of any
 * driver, for the IOMMU protocol), `signal E` an event of the firmware.
 */
function handler(
  ctx: Scope,
  uri: string,
  fw: Firmware,
  h: A.HandlerStmt,
  driver: FwDriver | undefined,
  anyDriver: ReadonlyMap<string, FwMapping>,
): FwHandler | undefined {
  if (h.event?.text === 'event' && h.eventName) {
    const e = fw.events.get(h.eventName.text);
    if (e) ctx.refer(uri, h.eventName.span, e);
  }
  const actions: FwAction[] = [];
  for (const a of h.actions) {
    if (a.kind !== 'action') continue;
    const act: FwAction = { node: a, verb: a.verb.text as FwVerb, deferred: !!a.deferred };
    if (act.verb === 'stop-dma' && !driver) {
      ctx.findings.push(
        finding(
          'fw-misplaced-action',
          { uri, span: a.span },
          "'stop-dma' stops the device of a driver; the IOMMU protocol has no device of its own. Put it in the driver's handler",
        ),
      );
      continue;
    }
    if (a.target) {
      const name = a.target.name;
      if (act.verb === 'signal') {
        const e = fw.events.get(name.text);
        if (e) {
          ctx.refer(uri, name.span, e);
          act.event = name.text;
        } else {
          ctx.unknown(
            uri,
            name,
            `no handler waits on event '${name.text}' in firmware ${fw.sym.name}; add 'on event ${name.text} tpl callback { ... }'`,
            () => fw.events.keys(),
          );
        }
      } else if (act.verb === 'unmap' || act.verb === 'free') {
        act.mapping = mappingRef(ctx, uri, fw, a.target, driver, anyDriver);
        if (!act.mapping) continue;
      }
    }
    actions.push(act);
  }
  const tpl = h.tpl?.text;
  if (tpl !== 'notify' && tpl !== 'callback') return undefined;
  if (h.event?.text === 'event')
    return h.eventName ? { stmt: h, driver, event: { ebs: false, name: h.eventName.text }, tpl, actions } : undefined;
  if (h.event?.text === 'before-exit-boot-services') return { stmt: h, driver, event: { ebs: false, before: true }, tpl, actions };
  return { stmt: h, driver, event: { ebs: true }, tpl, actions };
}

function mappingRef(
  ctx: Scope,
  uri: string,
  fw: Firmware,
  target: A.Ref,
  driver: FwDriver | undefined,
  anyDriver: ReadonlyMap<string, FwMapping>,
): FwMapping | undefined {
  const name = target.name;
  if (target.qualifier) {
    ctx.report('unknown-name', uri, target.span, `a mapping is named on its own ('${name.text}')`);
    return undefined;
  }
  const maps = driver ? driver.maps : anyDriver;
  const hit = maps.get(name.text);
  if (hit) {
    ctx.refer(uri, name.span, hit.sym);
    return hit;
  }
  const owner = driver ? `driver ${driver.sym.name}` : `firmware ${fw.sym.name}`;
  ctx.unknown(uri, name, `no mapping '${name.text}' in ${owner}`, () => maps.keys());
  return undefined;
}
