/** Guests: RAM, assignments, machine, vIOMMUs, iommufd instances (and what domains add: `confidential`). */
import type * as A from '@iommu-lens/grammar';
import type { Scope } from './scope';
import type { AssignMode, Guest, IommuKind, Platform, Sym } from './types';

export function declareGuest(ctx: Scope, uri: string, d: A.GuestDecl): void {
  if (!d.name) return;
  const g: Guest = {
    sym: ctx.sym('guest', uri, d.name, d.span),
    decl: d,
    ram: [],
    assigns: [],
    viommus: [],
    container: 'type1',
    iommufds: new Map(),
  };
  if (ctx.declareGlobal(g.sym, g)) ctx.model.guests.set(g.sym.name, g);
  g.platform = ctx.global(uri, d.platform, ['platform']) as Platform | undefined;
  const locals = new Map<string, { sym: Sym }>();
  const scope = `guest ${g.sym.name}`;
  // Instances first: an `assign` may name one declared below it.
  for (const item of d.items) {
    if (item.kind !== 'iommufd' || !item.name) continue;
    const inst = { sym: ctx.sym('iommufd', uri, item.name, item.span, g.sym.name) };
    if (ctx.declareLocal(locals, inst, scope)) g.iommufds.set(inst.sym.name, inst.sym);
  }
  for (const item of d.items) {
    switch (item.kind) {
      case 'ram': {
        if (!item.name) break;
        const r = { sym: ctx.sym('guest-ram', uri, item.name, item.span, g.sym.name), decl: item, range: ctx.range(uri, item.range) };
        if (ctx.declareLocal(locals, r, scope)) g.ram.push(r);
        break;
      }
      case 'assign':
        g.assigns.push({
          uri,
          stmt: item,
          device: ctx.device(uri, item.device, g.platform),
          mode: (item.mode?.text ?? 'shared') as AssignMode,
          dmaWindow: ctx.range(uri, item.dmaWindow),
          iommufd: item.iommufd && iommufdRef(ctx, uri, g, item.iommufd),
        });
        break;
      case 'machine':
        g.machine = machine(ctx, uri, item);
        break;
      case 'msi-window':
        g.msiWindow = ctx.range(uri, item.range);
        break;
      case 'viommu': {
        if (!item.name) break;
        const v = {
          sym: ctx.sym('viommu', uri, item.name, item.span, g.sym.name),
          stmt: item,
          kind: item.iommuKind?.text as IommuKind | undefined,
          stage2: item.stage2 !== undefined,
        };
        if (ctx.declareLocal(locals, v, scope)) g.viommus.push(v);
        break;
      }
      case 'container':
        if (item.value) g.container = item.value.text as Guest['container'];
        break;
      default:
        break;
    }
    // A domain's statements, and what a domain reads of the core's (a vIOMMU's `via`).
    ctx.schema.items.guestBody.get(item.kind)?.(ctx, uri, g, item);
  }
  const once = ctx.schema.singletons.guestBody;
  ctx.singletons(uri, d.items, once.kinds, `guest ${g.sym.name}`, once.words);
}

/**
 * `assign ... iommufd NAME`: an instance the guest declares with `iommufd NAME`. An unknown one
 * is reported and still names an instance, so that no type1 finding follows from the typo.
 */
export function iommufdRef(ctx: Scope, uri: string, g: Guest, name: A.Word): string {
  const sym = g.iommufds.get(name.text);
  if (sym) ctx.refer(uri, name.span, sym);
  else
    ctx.unknown(uri, name, `no iommufd instance '${name.text}' in guest ${g.sym.name}; declare it with 'iommufd ${name.text}'`, () =>
      g.iommufds.keys(),
    );
  return name.text;
}

function machine(ctx: Scope, uri: string, m: A.MachineStmt): Guest['machine'] {
  const out: NonNullable<Guest['machine']> = { stmt: m, type: m.machineType?.text as 'q35' | 'i440fx' | 'virt' | undefined };
  ctx.singletons(
    uri,
    m.options.map((o) => ({ kind: o.key.text, span: o.span })),
    m.options.map((o) => o.key.text),
    'machine',
  );
  for (const o of m.options) {
    const lit = o.value && /^[0-9]/.test(o.value.text) ? (o.value as A.NumLit) : undefined;
    switch (o.key.text) {
      case 'memory':
        out.memory = ctx.num(uri, lit);
        break;
      case 'max-ram-below-4g': {
        const v = ctx.num(uri, lit);
        // x86_machine_set_max_ram_below_4g (hw/i386/x86.c; pc.c before 4.2) refuses more than 4 GiB.
        if (v !== undefined && v > 1n << 32n && lit)
          ctx.report(
            'value-out-of-range',
            uri,
            lit.span,
            `max-ram-below-4g ${lit.text} is more than 4 GiB: QEMU exits with ` +
              `"Machine option 'max-ram-below-4g=${v}' expects size less than or equal to 4G"`,
          );
        else out.maxRamBelow4g = v;
        break;
      }
      case 'phys-bits': {
        const v = ctx.count(uri, lit, 32n, 64n, 'phys-bits');
        if (v !== undefined) out.physBits = Number(v);
        break;
      }
      case 'pci-hole64-size':
        out.pciHole64Size = ctx.num(uri, lit);
        break;
      case 'version': {
        const v = /^(\d+)\.(\d+)$/.exec(o.value?.text ?? '');
        if (v) out.version = { major: Number(v[1]), minor: Number(v[2]) };
        else if (o.value) ctx.report('invalid-number', uri, o.value.span, `'${o.value.text}' is not a machine version such as 7.0`);
        break;
      }
      case 'cpu':
        out.cpu = o.value?.text as 'amd' | 'intel' | undefined;
        break;
      case 'cpu-model':
        out.cpuModel = o.value?.text;
        break;
      case 'accel':
        out.accel = o.value?.text as 'kvm' | 'tcg' | undefined;
        break;
      case 'maxmem':
        out.maxmem = ctx.num(uri, lit);
        break;
      case 'slots':
        // ACPI_MAX_RAM_SLOTS: QEMU refuses more.
        out.slots = ctx.count(uri, lit, 0n, 256n, 'memory slots');
        break;
      case 'highmem':
        if (o.value) out.highmem = o.value.text === 'on';
        break;
      case 'host-phys-bits':
        if (o.value) out.hostPhysBits = o.value.text === 'on';
        break;
      default:
        break;
    }
  }
  return out;
}
