/**
 * The Xen engine (RULES §8): builds every domain's IOMMU map (xenMaps.ts), checks the
 * settings against what Xen does with them, takes each domain's RMRR identity mappings
 * through the reference-counted table, and replays the `balloon` / `free` steps of every
 * timeline against the maps: a P2M change on a map Xen does not maintain leaves stale
 * BFN -> MFN entries behind.
 */
import type { Finding, Fix, Location, Related } from '../../../model/findings';
import { finding } from '../codes';
import { finding as coreFinding } from '../../../model/codes';
import { formatInterval, formatSize, hex, intervalSize, type Interval } from '../../../model/interval';
import { replace } from '../../../model/scope';
import type * as A from '@iommu-lens/grammar';
import { formatBdf } from '../../../model/numbers';
import { atLeast, hasChange, releaseName, since, XEN } from '../../../model/versions';
import type { Device, Model, Platform, ReservedRegion, ResolvedStep } from '../../../model/types';
import type { RdmPolicy, Xen, XenDomain } from '../model/types';
import type { Resv } from '../../../sim/regions';
import { firstNames } from '../../../sim/explain';
import type { PlatformRegions } from '../../../sim/platformRegions';
import { RangeSet } from '../../../sim/rangeset';
import { buildMaps, describeMap, dom0Options, rdmRegion, rmrrScope, type DomainMap } from './domainMaps';

/** One `balloon` / `free` step on a Xen domain, as the engine replayed it. */
export interface P2mChange {
  step: ResolvedStep;
  map: DomainMap;
  /** What the domain gave back. */
  released: Interval[];
  /** Of that, what its IOMMU map still maps afterwards (empty when Xen maintains the map). */
  stale: Interval[];
}

export interface XenRun {
  xen: Xen;
  maps: Map<XenDomain, DomainMap>;
}

export interface XenSimulation {
  runs: Map<Xen, XenRun>;
  p2m: Map<ResolvedStep, P2mChange>;
}

export function runXen(model: Model, regionsOf: (p: Platform) => PlatformRegions, out: Finding[]): XenSimulation {
  const runs = new Map<Xen, XenRun>();
  const mapOf = new Map<XenDomain, DomainMap>();
  for (const x of model.xens.values()) {
    const regions = x.platform ? regionsOf(x.platform) : undefined;
    const maps = buildMaps(x, regions);
    runs.set(x, { xen: x, maps });
    for (const [d, m] of maps) mapOf.set(d, m);
    passedTwice(x, out);
    quarantineRelease(x, out);
    for (const m of maps.values()) checkSettings(m, out);
    if (x.platform && regions) identityMappings(regions, maps, out);
    if (x.platform) for (const m of maps.values()) hostRdms(m, x.platform, out);
  }
  const p2m = new Map<ResolvedStep, P2mChange>();
  for (const t of model.timelines.values()) {
    // What each domain owns and has given back so far in this timeline.
    const given = new Map<XenDomain, Given>();
    for (const s of t.steps) {
      if (!s.domain || (s.step.kind !== 'balloon' && s.step.kind !== 'free')) continue;
      const m = mapOf.get(s.domain);
      if (m) p2m.set(s, p2mChange(s, m, given, out));
    }
  }
  return { runs, p2m };
}

const at = (d: XenDomain, node: { span: { start: number; end: number } } | undefined): Location => ({
  uri: d.sym.uri,
  span: node?.span ?? d.sym.nameSpan,
});

function domainLabel(d: XenDomain): string {
  return d.isDom0 ? `dom0 of ${d.xen.sym.name}` : `domain ${d.sym.name}`;
}

function passedTwice(x: Xen, out: Finding[]): void {
  const first = new Map<Device, { d: XenDomain; loc: Location }>();
  for (const d of x.domains.values()) {
    for (const p of d.passed) {
      const loc = { uri: d.sym.uri, span: p.ref.span };
      const prior = first.get(p.device);
      if (!prior) {
        first.set(p.device, { d, loc });
        continue;
      }
      out.push(
        coreFinding(
          'device-assigned-twice',
          loc,
          `${p.device.sym.name} is already passed through to ${domainLabel(prior.d)}: Xen assigns a PCI ` +
            'function to one domain at a time (the second assignment fails with -EBUSY)',
          { related: [{ ...prior.loc, message: `${p.device.sym.name} passed to ${domainLabel(prior.d)}` }] },
        ),
      );
    }
  }
}

const RELATED_PASSED = 4;

/** docs/misc/xen-command-line.pandoc, `dom0-iommu`: what Xen does with each option for a PVH dom0. */
const PVH_HARDWIRED = {
  strict: 'strict is "hardwired to true for x86 PVH dom0\'s"',
  passthrough: 'passthrough is "hardwired to false for x86 PVH dom0\'s"',
};

function checkSettings(m: DomainMap, out: Finding[]): void {
  const d = m.domain;
  if (d.isDom0) {
    if (d.mode === 'hvm') {
      out.push(
        finding('xen-invalid-setting', at(d, d.modeStmt), 'dom0 is a PV or a PVH domain; Xen has no HVM hardware domain', {
          fixes: d.modeStmt?.value ? [replace('Make dom0 PVH', d.sym.uri, d.modeStmt.value.span, 'pvh')] : [],
        }),
      );
    }
    const opts = dom0Options(d);
    if (m.translated && d.dom0IommuStmt && (!opts.strict || opts.passthrough)) pvhDom0NotStrict(m, opts.passthrough, out);
    if (d.iommuMap && d.iommuMap !== 'pv-iommu') {
      out.push(
        finding(
          'xen-invalid-setting',
          at(d, d.iommuMapStmt),
          `dom0's map follows its \`iommu\` option (strict: a maintained identity map; ` +
            `relaxed: a host map); \`iommu-map\` in dom0 can only be pv-iommu`,
        ),
      );
    }
  } else if (d.iommuMap === 'virtual-vtd' && !m.translated) {
    out.push(
      finding(
        'xen-invalid-setting',
        at(d, d.iommuMapStmt),
        `virtual VT-d is emulated for HVM domains; ${d.sym.name} is a PV domain (use pv-iommu)`,
        { fixes: d.iommuMapStmt?.value ? [replace('Use pv-iommu', d.sym.uri, d.iommuMapStmt.value.span, 'pv-iommu')] : [] },
      ),
    );
  }
  if (d.quarantineStmt) {
    out.push(
      finding(
        'xen-invalid-setting',
        at(d, d.quarantineStmt),
        `\`iommu=quarantine=\` is a global Xen option (parse_iommu_param), not a per-domain one: write ` +
          `\`quarantine ${d.quarantine}\` in the xen block. It applies to devices de-assigned from a domain ` +
          '(deassign_device parks them in dom_io), not to DMA from a device still assigned',
        { severity: 'warning' },
      ),
    );
  }
  if (!d.isDom0 && d.iommuMap === 'host-identity') {
    out.push(
      finding(
        'xen-not-upstream',
        at(d, d.iommuMapStmt),
        `\`iommu-map host-identity\` is not an upstream Xen mode: Xen keeps every domU's IOMMU map in ` +
          'sync with its P2M (iommu_domain_init sets need_sync, or the IOMMU shares the ' +
          `P2M). ${d.sym.name}'s map is modelled as asked: programmed once, not maintained`,
      ),
    );
  }
  if (d.iommuMap === 'pv-iommu' && m.maintained) {
    const why = d.isDom0
      ? m.translated
        ? 'a PVH dom0 is always strict: Xen maintains its identity GFN map'
        : "dom0-iommu=strict: Xen maintains dom0's identity MFN map"
      : `${d.sym.name} is ${m.mode.toUpperCase()} with a device passed through: Xen maintains its identity GFN map in sync with the P2M`;
    out.push(
      finding(
        'xen-pv-iommu-on-maintained-map',
        at(d, d.iommuMapStmt),
        `${PV_IOMMU_PROPOSAL}. ${why}, so under that proposal the domain must not also drive it: the two ` +
          "writers would undo each other's mappings (RULES §8.4). The proposal allowed PV-IOMMU only on a map " +
          "Xen just initialised (a non-strict dom0's host map, a PV domain's map)",
        {
          related: d.isDom0 && d.dom0IommuStmt ? [{ ...at(d, d.dom0IommuStmt), message: 'strict: the map is maintained' }] : passRelated(d),
          fixes:
            d.isDom0 || !d.iommuMapStmt?.value
              ? []
              : [replace('Let Xen maintain the map (iommu-map maintained)', d.sym.uri, d.iommuMapStmt.value.span, 'maintained')],
        },
      ),
    );
  }
  if (!d.isDom0 && m.drivenByDomain && !m.maintained && m.devices.length && !(d.iommuMap === 'virtual-vtd' && !m.translated)) {
    proposalStrayDma(m, out);
  }
}

/** `quarantine` on a release that has no `iommu=quarantine` (XSA-302 brought it in 4.13). */
function quarantineRelease(x: Xen, out: Finding[]): void {
  if (!x.quarantine || atLeast(x.release, XEN.quarantine.release)) return;
  out.push(
    finding(
      'xen-invalid-setting',
      { uri: x.sym.uri, span: x.quarantine.stmt.span },
      `${releaseName('xen', x.release!)} has no \`iommu=quarantine\`: ${since('xen', XEN.quarantine.release)} ` +
        '(XSA-302) a de-assigned device is quarantined in dom_io; before, it goes straight back to dom0',
      { severity: 'warning' },
    ),
  );
}

/** What every finding about a domain-driven map says first: upstream Xen has no such thing. */
const PV_IOMMU_PROPOSAL = 'PV-IOMMU is the 2018 proposal behind seed 003 and was never merged (upstream Xen has no __HYPERVISOR_iommu_op)';
const VIRTUAL_VTD_PROPOSAL = 'a virtual VT-d for HVM guests was proposed (2017) and never merged (has_viommu() has no user upstream)';

/**
 * A PVH dom0 asked for relaxed or passthrough: check_hwdom_reqs() (xen/drivers/passthrough/iommu.c)
 * forces strict and clears passthrough before arch_iommu_check_autotranslated_hwdom() could
 * panic, so the option is ignored; iommu_setup() has already logged it as asked.
 */
function pvhDom0NotStrict(m: DomainMap, passthrough: boolean, out: Finding[]): void {
  const d = m.domain;
  const stmt = d.dom0IommuStmt!;
  const release = d.xen.release;
  if (passthrough && !atLeast(release, XEN.pvhPassthrough.release)) {
    out.push(
      finding(
        'xen-pvh-dom0-passthrough-panic',
        at(d, stmt),
        `${releaseName('xen', release!)} panics at boot: "(XEN) Dom0 uses paging translated mode, ` +
          'dom0-passthrough must not be enabled" (check_hwdom_reqs); ' +
          `${since('xen', XEN.pvhPassthrough.release)} a PVH dom0 ignores passthrough and boots strict (391266f012)`,
        {
          related: d.modeStmt ? [{ ...at(d, d.modeStmt), message: 'dom0 is PVH' }] : [],
          fixes: [replace('Use iommu strict', d.sym.uri, stmt.span, 'iommu strict')],
        },
      ),
    );
    return;
  }
  const ignored = passthrough ? `dom0-iommu=passthrough (${PVH_HARDWIRED.passthrough})` : `dom0-iommu=strict=0 (${PVH_HARDWIRED.strict})`;
  const log = passthrough ? '" - Dom0 mode: Passthrough"' : '" - Dom0 mode: Relaxed"';
  out.push(
    finding(
      'xen-pvh-dom0-not-strict',
      at(d, stmt),
      `dom0 is PVH: Xen ignores ${ignored}. check_hwdom_reqs() forces strict before dom0 is built, so dom0 ` +
        `gets an identity GFN map Xen maintains, not the ${passthrough ? 'untranslated DMA' : 'host map'} ` +
        `\`iommu ${d.dom0Iommu.join(' ')}\` asks for; the boot log still says ${log}`,
      {
        related: d.modeStmt ? [{ ...at(d, d.modeStmt), message: 'dom0 is PVH' }] : [],
        fixes: [replace('Write what Xen does (iommu strict)', d.sym.uri, stmt.span, 'iommu strict')],
      },
    ),
  );
}

/** The first devices passed to the domain, as related locations (a finding per step names a few, not thousands). */
function passRelated(d: XenDomain): Related[] {
  return d.passed
    .slice(0, RELATED_PASSED)
    .map((p) => ({ uri: d.sym.uri, span: p.ref.span, message: `${p.device.sym.name} is passed through` }));
}

/**
 * RULES §8.4: under the proposals, once the domain drives its map Xen can no longer make every
 * BFN point at something valid. Quarantine does not help: it acts only on de-assignment.
 */
function proposalStrayDma(m: DomainMap, out: Finding[]): void {
  const d = m.domain;
  const proposal = d.iommuMap === 'virtual-vtd' ? VIRTUAL_VTD_PROPOSAL : PV_IOMMU_PROPOSAL;
  out.push(
    finding(
      'xen-stray-dma-faults',
      at(d, d.iommuMapStmt),
      `${proposal}. Under that proposal ${d.sym.name} would drive its own IOMMU map, so Xen would no longer guarantee that every ` +
        `BFN maps something valid: a DMA from ${firstNames(m.devices, 8)} to a BFN the domain did not map faults in the IOMMU. ` +
        `Quarantine would not change that: \`iommu=quarantine\` acts only on a device de-assigned from a domain (deassign_device)`,
    ),
  );
}

/**
 * Every device's RMRRs through its domain's reference-counted table. dom0 gets every
 * device at boot and keeps those mappings (Xen does not unmap them from the hardware
 * domain when a device moves on); a domain gets those of the devices passed to it.
 * Only the regions Xen knows are taken: ACPI RMRRs and IVMDs, not Linux's own (RULES §8.8).
 *
 * Devices share lists of regions (platform-wide, per IOMMU, per group number): each list
 * is mapped once per domain, with every device of the domain it applies to as a holder, in
 * the order the devices first need it. Mapping them device by device cost devices × RMRRs,
 * and repeated a failed mapping's finding once per device at the same place.
 */
function identityMappings(regions: PlatformRegions, maps: Map<XenDomain, DomainMap>, out: Finding[]): void {
  const scopes = new Map<Resv, readonly Device[]>();
  const scopeOf = (r: Resv) => {
    let scope = scopes.get(r);
    if (!scope) scopes.set(r, (scope = rmrrScope(r, regions)));
    return scope;
  };
  // Each list split once into the RMRRs other devices share and the device's own: a
  // device costs its lists, not their regions (a platform-wide list is every device's).
  const splits = new Map<Resv[], { all: Resv[]; shared: Resv[]; own: Resv[] }>();
  const split = (list: Resv[]) => {
    let x = splits.get(list);
    if (!x) {
      const all = list.filter(knownToXen);
      splits.set(list, (x = { all, shared: all.filter((r) => scopeOf(r).length > 1), own: all.filter((r) => scopeOf(r).length <= 1) }));
    }
    return x;
  };
  for (const m of maps.values()) {
    if (m.term === 'no translation') continue;
    const passed = new Map<Device, XenDomain['passed'][number]>();
    for (const p of m.domain.passed) if (!passed.has(p.device)) passed.set(p.device, p);
    const holders = new Map<Resv[], Device[]>();
    for (const dev of m.domain.isDom0 ? regions.devicesFor({ kind: 'all' }) : m.devices) {
      const pass = m.domain.isDom0 ? undefined : passed.get(dev);
      const lists = regions.directRegionLists(dev);
      if (pass) {
        passedDevice(m, dev, pass, lists.map(split), scopeOf, out);
        continue;
      }
      for (const list of lists) {
        const known = split(list).all;
        if (!known.length) continue;
        const devices = holders.get(known);
        if (devices) devices.push(dev);
        else holders.set(known, [dev]);
      }
    }
    for (const [list, devices] of holders) for (const r of list) identityMap(m, r, devices, undefined, out);
  }
}

/** Xen reads the ACPI RMRRs (VT-d) and IVMDs (AMD-Vi); a Linux quirk or an IORT RMR is not one. */
function knownToXen(r: Resv): boolean {
  return r.source.kind !== 'declared' || rdmRegion(r.source.region);
}

/** The device's rdm_policy: its own, else the domain's `rdm policy`, else strict (libxl__device_pci_setdefault). */
function rdmPolicy(m: DomainMap, pass: XenDomain['passed'][number]): RdmPolicy {
  return pass.policy ?? m.domain.rdm?.policy ?? 'strict';
}

/** libxl's `rdm_mem_boundary` default (LIBXL_RDM_MEM_BOUNDARY_MEMKB_DEFAULT, 2048 MiB). */
const RDM_MEM_BOUNDARY = 2n << 30n;
const FOUR_GIB = 4n << 30n;

/**
 * One device passed to a domain: its shared RMRRs (VT-d refuses them unless relaxed), its
 * RMRRs inside the domain's RAM (libxl and p2m_add_identity_entry), then the identity maps
 * of what is left.
 */
function passedDevice(
  m: DomainMap,
  dev: Device,
  pass: XenDomain['passed'][number],
  parts: readonly { shared: Resv[]; own: Resv[] }[],
  scopeOf: (r: Resv) => readonly Device[],
  out: Finding[],
): void {
  const policy = rdmPolicy(m, pass);
  // Only VT-d checks sharing (intel_iommu_assign_device); AMD-Vi takes every IVMD.
  const refusesShared = dev.iommu?.kind === 'vt-d';
  const shared = parts.map((x) => x.shared);
  if (refusesShared && shared.some((x) => x.length)) sharedRmrr(m, dev, pass.ref, policy, shared, scopeOf, out);
  const take = (r: Resv) => {
    if (m.translated && m.memory && inGuestRam(m, dev, pass.ref, policy, r, out)) return;
    identityMap(m, r, [dev], pass.ref, out);
  };
  for (const x of parts) {
    if (!refusesShared || policy === 'relaxed') for (const r of x.shared) take(r);
    for (const r of x.own) take(r);
  }
}

/**
 * RULES §8.8: an RMRR over the translated domain's RAM. libxl moves lowmem out of the way of
 * an RDM between rdm_mem_boundary and 4 GiB; elsewhere it is a conflict. True when the
 * identity map is not installed.
 */
function inGuestRam(m: DomainMap, dev: Device, passRef: A.Ref, policy: RdmPolicy, r: Resv, out: Finding[]): boolean {
  const region = r.source.kind === 'declared' ? r.source.region : undefined;
  const place = { uri: m.domain.sym.uri, span: passRef.span };
  if (!rdmConflict(m, r.range, region, `${dev.sym.name}'s RMRR`, place, policy, out)) return false;
  if (region) m.rdmConflicts.add(region);
  return true;
}

/**
 * libxl__domain_device_construct_rdm() and p2m_add_identity_entry() on one RDM: false when it
 * misses the domain's RAM or lies where libxl moves lowmem out of its way.
 */
function rdmConflict(
  m: DomainMap,
  range: Interval,
  region: ReservedRegion | undefined,
  what: string,
  place: Location,
  policy: RdmPolicy,
  out: Finding[],
): boolean {
  const ram = m.memory!.overlapping(range);
  if (!ram.length) return false;
  if (range.start >= RDM_MEM_BOUNDARY && range.start < FOUR_GIB) return false;
  const at = hex(range.start);
  const gfn = hex(range.start >> 12n);
  const ramLine = m.domain.ram.find((x) => x.range && x.range.start <= range.end && range.start <= x.range.end);
  const related: Related[] = [
    ...(region ? [{ uri: region.sym.uri, span: region.sym.nameSpan, message: `RMRR ${region.sym.name}` }] : []),
    ...(ramLine ? [{ uri: ramLine.sym.uri, span: ramLine.decl.span, message: `${m.domain.sym.name}'s RAM ${ramLine.sym.name}` }] : []),
  ];
  const xenLine = `"Cannot setup identity map dN:${gfn}, gfn already mapped to ..." (p2m_add_identity_entry)`;
  const lies = `${what} ${formatInterval(range)} lies in ${m.domain.sym.name}'s RAM ${formatInterval(ram[0]!)}`;
  out.push(
    finding(
      'xen-rmrr-in-guest-ram',
      place,
      policy === 'strict'
        ? `${lies}: libxl refuses to create the domain ("RDM conflict at ${at}.", rdm_policy=strict); ` +
            `assigned later, Xen fails with -EBUSY, ${xenLine}. Keep the RAM clear of the RMRR, or let ` +
            'libxl do it (it moves lowmem below an RMRR between 2 GiB and 4 GiB)'
        : `${lies}: with rdm_policy=relaxed libxl logs "Ignoring RDM conflict at ${at}." and Xen ${xenLine} leaves the guest's RAM ` +
            'there, without the identity map. xl.cfg(5): relaxed "may cause the VM to crash if a pass-through device accesses RDM"',
      { severity: policy === 'strict' ? 'error' : 'warning', related },
    ),
  );
  return true;
}

/**
 * `rdm strategy host`: libxl takes every RDM of the host into the guest's memory map, not
 * only those of its `pass` devices (xl.cfg(5): "useful when doing hotplug"), so each one
 * over the guest's RAM is a conflict at creation. Those of passed devices are reported there.
 */
function hostRdms(m: DomainMap, platform: Platform, out: Finding[]): void {
  const rdm = m.domain.rdm;
  if (!rdm?.strategyHost || !m.translated || !m.memory) return;
  for (const region of platform.reserved) {
    if ((region.type !== 'direct' && region.type !== 'direct-relaxable') || !region.range) continue;
    if (!rdmRegion(region) || m.rdmConflicts.has(region)) continue;
    const place = { uri: m.domain.sym.uri, span: rdm.stmt.span };
    rdmConflict(m, region.range, region, `with strategy=host, the host's RMRR ${region.sym.name}`, place, rdm.policy ?? 'strict', out);
  }
}

/**
 * One finding per device passed with RMRRs it shares (in lists, as they come): the first
 * few, and how many, read without joining the lists. intel_iommu_assign_device() refuses
 * with -EPERM whenever the RMRR's device count is above one (group assignment is a TODO),
 * or with XEN_DOMCTL_DEV_RDM_RELAXED warns and goes on.
 */
function sharedRmrr(
  m: DomainMap,
  dev: Device,
  passRef: A.Ref,
  policy: RdmPolicy,
  lists: readonly Resv[][],
  scopeOf: (r: Resv) => readonly Device[],
  out: Finding[],
): void {
  const count = lists.reduce((n, l) => n + l.length, 0);
  const firstFew: Resv[] = [];
  for (const l of lists) for (const r of l.slice(0, RELATED_RMRRS - firstFew.length)) firstFew.push(r);
  const first = firstFew[0]!;
  const more = count > 1 ? ` (and ${count - 1} more RMRR${count > 2 ? 's' : ''} it shares)` : '';
  const related = firstFew.flatMap((r) =>
    r.source.kind === 'declared'
      ? [{ uri: r.source.region.sym.uri, span: r.source.region.sym.nameSpan, message: `RMRR ${r.source.region.sym.name}` }]
      : [],
  );
  const bdf = dev.bdf ? formatBdf(dev.bdf) : dev.sym.name;
  const rmrr = `${bdf} with shared RMRR at ${first.range.start.toString(16)} for dN`;
  const sharers = `${dev.sym.name}'s RMRR ${formatInterval(first.range)} is shared with ${firstNames(scopeOf(first), 4, dev)}${more}`;
  out.push(
    finding(
      'xen-shared-rmrr',
      { uri: m.domain.sym.uri, span: passRef.span },
      policy === 'strict'
        ? `${sharers}: VT-d refuses to assign it to ${m.domain.sym.name} ("It's disallowed to ` +
            `assign ${rmrr}.", -EPERM; xl: "xc_assign_device failed"), even if every sharer went to the same ` +
            'domain, unless the xl config says rdm_policy=relaxed (intel_iommu_assign_device)'
        : `${sharers}: with rdm_policy=relaxed Xen assigns it anyway ("It's risky to assign ${rmrr}.") and maps the RMRR ` +
            `for ${m.domain.sym.name}, while the other devices still use it (intel_iommu_assign_device)`,
      { severity: policy === 'strict' ? 'error' : 'warning', related },
    ),
  );
}

/** RMRRs named as related locations of one finding. */
const RELATED_RMRRS = 4;

/** One region into the domain's identity maps for `devices`; a conflict is a finding where the device is passed, or at the region. */
function identityMap(m: DomainMap, r: Resv, devices: readonly Device[], passRef: A.Ref | undefined, out: Finding[]): void {
  const res = m.identity.mapFor(r.range, 'rw', devices);
  if (res.ok) return;
  const region = r.source.kind === 'declared' ? r.source.region : undefined;
  const regionLoc = region ? { uri: region.sym.uri, span: region.sym.nameSpan } : undefined;
  const other = res.errno === 'EADDRINUSE' ? res.conflict : undefined;
  const place = passRef ? { uri: m.domain.sym.uri, span: passRef.span } : regionLoc;
  // Before XSA-378 VT-d's rmrr_identity_mapping() matched exact ranges only and mapped overlaps silently.
  if (!place || !other || !hasChange(m.domain.xen.release, XEN.identityOverlap)) return;
  const conflict =
    `cannot map reserved region ${formatInterval(r.range)} of ${firstNames(devices, 4)}: -EADDRINUSE, it overlaps the identity ` +
    `mapping ${formatInterval(other.range)} held by ${firstNames(other.holders, 4)} with a different range ` +
    `(iommu_identity_mapping, ${since('xen', XEN.identityOverlap.release)}, 4.15.1, 4.14.3 and 4.13.4 since XSA-378; older ` +
    'releases map it silently)';
  if (m.domain.isDom0) {
    dom0Conflict(m, r, devices, conflict, regionLoc ? [{ ...regionLoc, message: `region ${region!.sym.name}` }] : [], place, out);
    return;
  }
  const dev = devices[0];
  const log =
    dev?.iommu?.kind === 'amd-vi'
      ? 'the assignment fails (amd_iommu_reserve_domain_unity_map; AMD-Vi logs nothing)'
      : `Xen logs "[VT-D]dN: cannot map reserved region [${r.range.start.toString(16)},` +
        `${r.range.end.toString(16)}]: -98" and the assignment fails (xl: "xc_assign_device failed")`;
  out.push(
    finding('xen-identity-map-conflict', place, `${domainLabel(m.domain)}: ${conflict}; ${log} (RULES §8.3)`, {
      related: regionLoc ? [{ ...regionLoc, message: `region ${region!.sym.name}` }] : [],
    }),
  );
}

/**
 * dom0's RMRR mapping failed at boot: VT-d's setup_hwdom_rmrr() only logs it (a dprintk, so
 * debug builds only), AMD-Vi warns; then arch_iommu_hwdom_init() maps every E820-reserved range
 * when map-reserved is on, so the range is usually mapped anyway.
 */
function dom0Conflict(
  m: DomainMap,
  r: Resv,
  devices: readonly Device[],
  conflict: string,
  related: Related[],
  place: Location,
  out: Finding[],
): void {
  const dev = devices[0];
  const log =
    dev?.iommu?.kind === 'amd-vi'
      ? `Xen logs "AMD-Vi: Warning: d0: unity mapping failed for ${dev.bdf ? formatBdf(dev.bdf) : dev.sym.name}"`
      : 'Xen logs "IOMMU: mapping reserved region failed" in debug builds only (setup_hwdom_rmrr, a dprintk)';
  const covered = m.boot !== undefined && m.boot.mapped.missing(r.range).length === 0;
  out.push(
    finding(
      'xen-identity-map-conflict',
      place,
      `dom0 of ${m.domain.xen.sym.name}: ${conflict}. ${log}. ${
        covered
          ? 'The range stays mapped all the same: map-reserved identity-maps every E820-reserved range ' +
            "for dom0 (arch_iommu_hwdom_init), so the device's RMRR DMA still works"
          : "Nothing else maps the range (map-reserved off), so the device's RMRR DMA faults"
      } (RULES §8.3)`,
      { severity: covered ? 'information' : 'warning', related },
    ),
  );
}

/**
 * A domain's memory in one timeline: what it still owns (its memory, less what it gave
 * back) and what it gave back. Each step looks only at what it releases, so thousands of
 * steps over a domain with thousands of RAM ranges cost their pieces, not steps × ranges.
 */
interface Given {
  owned: RangeSet;
  gone: RangeSet;
}

/** RULES §8.5: a `balloon` or `free` step on a Xen domain. */
function p2mChange(s: ResolvedStep, m: DomainMap, given: Map<XenDomain, Given>, out: Finding[]): P2mChange {
  const d = m.domain;
  const loc = { uri: s.uri, span: s.step.span };
  const memory = m.memory;
  let g = given.get(d);
  if (!g) given.set(d, (g = { owned: RangeSet.of(memory?.ranges() ?? []), gone: new RangeSet() }));
  // The part that is the domain's memory now: owned, not already given back. Without a
  // range the step gives back all it still owns; with no memory known, what it names.
  let released: Interval[] = s.range ? [s.range] : [...g.owned.ranges()];
  if (memory && !memory.empty && s.range) {
    released = g.owned.overlapping(s.range);
    const outside = RangeSet.of(released).missing(s.range);
    if (outside.length) {
      const already = outside.some((p) => g!.gone.intersects(p));
      out.push(
        finding(
          'xen-p2m-outside-memory',
          loc,
          `${formatInterval(outside[0]!)}${outside.length > 1 ? ` (and ${outside.length - 1} more)` : ''} ` +
            `is not memory ${domainLabel(d)} owns${already ? ': it was already given back earlier in this timeline' : ''}; ` +
            'the hypercall fails for those pages',
          { severity: 'warning' },
        ),
      );
    }
  }
  for (const r of released) {
    g.owned.remove(r);
    g.gone.add(r);
  }
  const reachable =
    m.term === 'no translation'
      ? released
      : m.maintained || m.term === 'no IOMMU map'
        ? []
        : m.boot
          ? released.flatMap((r) => m.boot!.mapped.overlapping(r))
          : released;
  if (reachable.length) out.push(staleFinding(s, m, reachable));
  return { step: s, map: m, released, stale: reachable };
}

function staleFinding(s: ResolvedStep, m: DomainMap, stale: Interval[]): Finding {
  const d = m.domain;
  const what = s.step.kind === 'balloon' ? 'balloons out' : 'frees';
  const total = stale.reduce((n, r) => n + intervalSize(r), 0n);
  const first = stale[0]!;
  const bfns =
    `${formatInterval(first)}${stale.length > 1 ? ` and ${stale.length - 1} more range${stale.length > 2 ? 's' : ''}` : ''} ` +
    `(${formatSize(total)})`;
  const devices = firstNames(m.devices, 4);
  const why =
    m.term === 'no translation'
      ? `dom0's devices bypass the IOMMU (dom0-iommu=passthrough), so the pages ${domainLabel(d)} ${what} stay reachable by DMA`
      : `${domainLabel(d)} has ${describeMap(m).replace(/\*\*/g, '')}; after it ${what} BFNs ${bfns}, those BFNs ` +
        `still map the old MFNs${m.drivenByDomain ? ' unless the domain unmaps them itself first' : ''}`;
  const fixes: Fix[] = [];
  if (d.isDom0 && d.dom0IommuStmt && m.term === 'host map')
    fixes.push(replace('Make dom0 strict (Xen maintains its map)', d.sym.uri, d.dom0IommuStmt.span, 'iommu strict'));
  if (!d.isDom0 && d.iommuMap === 'host-identity' && d.iommuMapStmt?.value)
    fixes.push(replace('Let Xen maintain the map (iommu-map maintained)', d.sym.uri, d.iommuMapStmt.value.span, 'maintained'));
  const mapLine = d.isDom0 ? d.dom0IommuStmt : d.iommuMapStmt;
  // A non-strict dom0 reaches all host RAM by design; a domU map Xen does not maintain is not upstream.
  const basis = d.isDom0
    ? 'by design (dom0-iommu strict=0 "controls whether dom0 can have IOMMU mappings for all domain RAM in the ' +
      'system"): the RAM of every other domain is already reachable, and the pages given back stay so'
    : m.drivenByDomain
      ? `${d.iommuMap === 'virtual-vtd' ? VIRTUAL_VTD_PROPOSAL : PV_IOMMU_PROPOSAL}; under it the domain must unmap them itself`
      : 'upstream Xen keeps every domU map in sync, so this is only what the `iommu-map` asked for would do';
  return finding(
    'xen-stale-iommu-mapping',
    { uri: s.uri, span: s.step.span },
    `${why}: ${devices || "the domain's devices"} can still DMA into pages Xen hands to other domains. This is ${basis} (RULES §8.6)`,
    {
      related: [
        {
          uri: d.sym.uri,
          span: mapLine?.span ?? d.sym.nameSpan,
          message: `${domainLabel(d)}: ${m.term}${m.maintained ? ', maintained' : ', not maintained'}`,
        },
        ...(d.isDom0 ? [] : passRelated(d)),
      ],
      fixes,
    },
  );
}
