/**
 * Starting every guest (RULES §2–3): QEMU realizes the assigned devices in order, each
 * device's IOMMU group joins the guest's container (VFIO type1 or iommufd), and once the
 * first group is in, every guest RAM range is mapped for DMA. Each refusal becomes a
 * finding on the guest line that fails, with the region and the device as related
 * locations and the kernel's decision and QEMU's error line in the message.
 */
import type * as A from '@iommu-lens/grammar';
import type { Finding, Fix } from '../model/findings';
import { finding } from '../model/codes';
import { formatInterval, hex } from '../model/interval';
import type { Assignment, Device, Guest, Machine, Model, Platform } from '../model/types';
import { hasChange, LINUX } from '../model/versions';
import { Container, DMA_ENTRY_LIMIT_DEFAULT } from './container';
import { removalSpan } from './edits';
import { deviceRelated, firstNames, someOf } from './explain';
import { groupLabel, groupNumberText, type GroupRegions, type PlatformRegions } from './platformRegions';
import {
  bitsFor,
  guestRam,
  highmemError,
  machineLayout,
  physBitsError,
  physBitsOf,
  qemuDevice,
  VIRT_RAM_BASE,
  type GuestRamRange,
  type MachineLayout,
} from './qemu';
import { claim, newClaims, realize, type Claim, type Claims, type Site } from './realize';

export interface GuestState {
  guest: Guest;
  ram: GuestRamRange[];
  container: Container<GuestRamRange>;
  /** Every group the guest's assignments name, attached or refused. */
  groups: GroupRegions[];
}

/**
 * A check a domain adds to VFIO's start of each guest (SEV's rules for `assign ... as
 * private`): its findings are VFIO's, so it runs when VFIO does and is left out with it.
 */
export type GuestCheck = (g: Guest, out: Finding[]) => void;

/** `checks`: what domains check of each guest's assignments as VFIO binds them (engine.ts, GuestCheck). */
export function simulateGuests(
  model: Model,
  regionsOf: (p: Platform) => PlatformRegions,
  out: Finding[],
  checks: readonly GuestCheck[] = [],
): Map<Guest, GuestState> {
  const states = new Map<Guest, GuestState>();
  const claims = newClaims();
  for (const g of model.guests.values()) {
    if (!g.platform) continue;
    states.set(g, startGuest(g, regionsOf(g.platform), claims, out));
    for (const check of checks) check(g, out);
    msiWindowIgnored(model, g, out);
  }
  const named = new Set([...model.guests.values()].flatMap((g) => g.assigns.flatMap((a) => (a.device ? [a.device] : []))));
  partlyAssigned(claims, named, out);
  return states;
}

/**
 * A fresh container for the guest, of its flavour, on platform `p` (where it runs): type1's
 * dma_entry_limit is the host's module parameter, and kernels before 5.1 have none.
 */
export function newContainer(g: Guest, p: Platform | undefined = g.platform): Container<GuestRamRange> {
  const limit = hasChange(p?.kernel, LINUX.dmaEntryLimit) ? (p?.dmaEntryLimit?.value ?? DMA_ENTRY_LIMIT_DEFAULT) : Number.POSITIVE_INFINITY;
  return new Container<GuestRamRange>(g.container, limit);
}

export function isArmGuest(g: Guest, p: Platform | undefined): boolean {
  return p?.arch === 'arm64' || g.machine?.type === 'virt';
}

/** The site of an `assign` line: findings about RAM go on the RAM lines. */
export function assignSite(a: Assignment): Site {
  return { uri: a.uri, span: a.stmt.span, verb: 'is assigned here', onStep: false, context: [], prefix: '' };
}

/**
 * Starts a guest on a platform: its assignments in order.
 * `claims` holds what other guests took; `out` receives the findings.
 */
export function startGuest(g: Guest, pr: PlatformRegions, claims: Claims, out: Finding[]): GuestState {
  const ram = guestRam(g);
  const container = newContainer(g);
  const state: GuestState = { guest: g, ram, container, groups: [] };
  const overlapping = ramOverlaps(g, ram, out);
  physBits(g, out);

  const named = new Set<GroupRegions>(); // state.groups, for lookups
  for (const a of g.assigns) {
    const dev = a.device;
    if (!dev) continue;
    const site = assignSite(a);
    const group = dev.iommu ? pr.groupOf(dev) : undefined;
    if (group) {
      if (!claim(g, site, dev, group, claims, out)) continue;
      const gr = pr.regions(group);
      if (!named.has(gr)) {
        named.add(gr);
        state.groups.push(gr);
      }
    }
    realize({ guest: g, ram, container, pr, site, skip: overlapping }, dev, out);
  }
  return state;
}

/**
 * QEMU refuses to start a PC machine whose addresses exceed its phys-bits, given or QEMU's
 * default (RULES §3.3, §3.7), and a virt machine with highmem off whose memory passes 4 GiB (§3.8).
 */
function physBits(g: Guest, out: Finding[]): void {
  const m = g.machine;
  const layout = machineLayout(g);
  if (!m || !layout) return;
  highmem(g, m, layout, out);
  const bits = physBitsOf(m);
  if (!bits) return;
  const error = physBitsError(layout, bits.bits);
  if (!error) return;
  const need = bitsFor(layout.maxUsedGpa!);
  const opt = m.stmt.options.find((o) => o.key.text === 'phys-bits');
  const dev = layout.deviceMemory ? `, the device-memory region ${formatInterval(layout.deviceMemory)} (maxmem)` : '';
  const hole = layout.pciHole64 ? ` and the 64-bit PCI hole ${formatInterval(layout.pciHole64)}` : '';
  const edit = opt?.value
    ? { uri: g.sym.uri, span: opt.value.span, newText: String(need) }
    : { uri: g.sym.uri, span: { start: m.stmt.span.end, end: m.stmt.span.end }, newText: ` phys-bits ${need}` };
  out.push(
    finding(
      'phys-bits-too-low',
      { uri: g.sym.uri, span: opt?.span ?? m.stmt.span },
      `guest ${g.sym.name} uses guest-physical addresses up to ${hex(layout.maxUsedGpa!)} (its ` +
        `RAM${dev}${hole}${layout.relocated ? ', above-4G RAM relocated to 1 TiB' : ''}), beyond ` +
        `what ${bits.bits} phys-bits reach${bits.why ? ` (${bits.why})` : ''}: QEMU exits with "${error}"`,
      { fixes: [{ title: `Set phys-bits ${need}`, edits: [edit] }] },
    ),
  );
}

/** virt `highmem off`: RAM and device memory must end at 4 GiB (hw/arm/virt.c, virt_set_memmap). */
function highmem(g: Guest, m: Machine, layout: MachineLayout, out: Finding[]): void {
  if (m.highmem !== false) return;
  const error = highmemError(layout);
  if (!error) return;
  const opt = m.stmt.options.find((o) => o.key.text === 'highmem');
  const dev = layout.deviceMemory ? ` and device memory ${formatInterval(layout.deviceMemory)} (maxmem)` : '';
  out.push(
    finding(
      'highmem-off-too-much-memory',
      { uri: g.sym.uri, span: m.stmt.span },
      `guest ${g.sym.name} has highmem off, which limits the virt machine to 32-bit addresses, but ` +
        `its RAM from ${hex(VIRT_RAM_BASE)}${dev} ends at ${hex(layout.memTop!)}: QEMU exits with ` +
        `"${error}" (older QEMU: "highmem=off, but memory crosses the 4GiB limit")`,
      {
        related: opt ? [{ uri: g.sym.uri, span: opt.span, message: 'highmem off: pa_bits = 32' }] : [],
      },
    ),
  );
}

/** Devices of a group named as related locations. */
const RELATED_DEVICES = 20;

/** VFIO group viability: every device of a group must be bound to vfio-pci (or no driver). */
function partlyAssigned(claims: Claims, named: Set<Device>, out: Finding[]): void {
  for (const [group, c] of claims.groups) {
    // Devices some guest names (even if refused there) are reported where they are named.
    const left = group.devices.filter((d) => !named.has(d) && d.deviceClass !== 'bridge');
    if (!left.length) continue;
    // A group of thousands names a few (the fix still assigns them all).
    out.push(
      finding(
        'group-partly-assigned',
        c.site,
        `${groupLabel(group)} also holds ${firstNames(left, 8)}, which no guest is assigned; ` +
          `unless ${left.length > 1 ? 'they are' : 'it is'} bound to vfio-pci (or to no driver) the group is not ` +
          `viable and QEMU fails with "vfio ${qemuDevice(c.device)}: group ${groupNumberText(group)} is not ` +
          'viable. Please ensure all devices within the iommu_group are bound to their vfio bus driver."',
        {
          related: left.slice(0, RELATED_DEVICES).map((d) => deviceRelated(d, `also in ${groupLabel(group)}`)),
          fixes: [assignRest(c, left)],
        },
      ),
    );
  }
}

/** The fix that makes the group viable: the guest takes the rest of it, one `assign` line each. */
function assignRest(c: Claim, left: readonly Device[]): Fix {
  const lines = left.map((d) => `\n  assign ${d.sym.name}`).join('');
  return {
    title: `Assign ${someOf(
      left.map((d) => d.sym.name),
      3,
    )} to guest ${c.guest.sym.name} too`,
    edits: [{ uri: c.site.uri, span: { start: c.site.span.end, end: c.site.span.end }, newText: lines }],
  };
}

/** Guest RAM ranges overlapping one another: the second map is `-EEXIST`. Sort and sweep. */
function ramOverlaps(g: Guest, ram: readonly GuestRamRange[], out: Finding[]): Set<GuestRamRange> {
  const bad = new Set<GuestRamRange>();
  const order = new Map(ram.map((r, i) => [r, i]));
  const sorted = [...ram].sort((a, b) => (a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : 0));
  let reach: GuestRamRange | undefined; // the range reaching furthest so far
  for (const r of sorted) {
    if (reach && r.range.start <= reach.range.end) {
      const [earlier, later] = order.get(reach)! < order.get(r)! ? [reach, r] : [r, reach];
      bad.add(later);
      out.push(
        finding(
          'ram-overlap',
          { uri: later.uri, span: later.span },
          `guest RAM ${later.name} ${formatInterval(later.range)} overlaps ${earlier.name} ${formatInterval(earlier.range)} ` +
            `of guest ${g.sym.name}: VFIO_IOMMU_MAP_DMA refuses a range that is already mapped with -EEXIST`,
          { related: [{ uri: earlier.uri, span: earlier.span, message: `guest RAM ${earlier.name}` }] },
        ),
      );
    }
    if (!reach || r.range.end > reach.range.end) reach = r;
  }
  return bad;
}

// ----- the msi-window statement ----------------------------------------------------

export function msiWindowStmt(g: Guest): A.MsiWindowStmt | undefined {
  let last: A.MsiWindowStmt | undefined;
  for (const item of g.decl.items) if (item.kind === 'msi-window') last = item;
  return last;
}

/**
 * RULES §1.5, §4: MSI windows are where the IOMMU drivers put them; nothing a guest says
 * moves one. An `msi-window` line (seed 002's proposal, from files written for it) is
 * explained and offered for removal, never treated as a mapping.
 */
function msiWindowIgnored(model: Model, g: Guest, out: Finding[]): void {
  const items = g.decl.items;
  for (const [i, item] of items.entries()) {
    if (item.kind !== 'msi-window') continue;
    out.push(
      finding(
        'msi-window-ignored',
        { uri: g.sym.uri, span: item.span },
        'this line has no effect: the Arm SMMU drivers reserve their software MSI window at the fixed MSI_IOVA_BASE 0x8000000..0x80fffff ' +
          '(Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c, arm_smmu_get_resv_regions), x86 IOMMUs the interrupt range ' +
          '0xfee00000..0xfeefffff, and no interface lets QEMU or the administrator move either. Seed 002 (2016) proposed placing ' +
          'the doorbell at 0xfee00000 and moving it on conflict; that proposal was not merged',
        {
          fixes: [
            {
              title: 'Remove the msi-window line',
              edits: [{ uri: g.sym.uri, span: removalSpan(model, g.sym.uri, items[i - 1], item), newText: '' }],
            },
          ],
        },
      ),
    );
  }
}
