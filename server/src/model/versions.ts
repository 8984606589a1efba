/**
 * Releases of the real systems the engines model, and the table of behaviour that changed
 * between them (RULES §0.2). A description may say which release it runs (`kernel 6.6` on a
 * platform); without one the newest behaviour the tool knows applies, so `atLeast(undefined,
 * ...)` is true. Engines ask `atLeast(platform.kernel, '6.6')` and name the change in their
 * message with `since()`, so a verdict that differs between releases says so.
 */

/** The systems whose releases a description can name. */
export type Component = 'linux' | 'qemu' | 'xen' | 'edk2';

export const COMPONENT_NAMES: Readonly<Record<Component, string>> = { linux: 'Linux', qemu: 'QEMU', xen: 'Xen', edk2: 'EDK II' };

/** A release of each, as messages show the form a description writes. */
export const RELEASE_EXAMPLES: Readonly<Record<Component, string>> = { linux: '6.6', qemu: '8.2', xen: '4.13', edk2: 'edk2-stable202411' };

/**
 * A release: `6.6` is [6, 6], `4.13` [4, 13], `6.6.12` [6, 6, 12]; an EDK II stable tag
 * `edk2-stable202411` is compared by its date, [2024, 11]. `text` is what was written.
 */
export interface Release {
  parts: readonly number[];
  text: string;
}

const NUMBERED = /^\d{1,4}(\.\d{1,4}){1,2}$/;
const EDK2_TAG = /^edk2-stable(\d{4})(\d{2})$/;

/** A release from its text; undefined when it is not `MAJOR.MINOR[.PATCH]` or `edk2-stableYYYYMM`. */
export function parseRelease(text: string): Release | undefined {
  if (NUMBERED.test(text)) return { parts: text.split('.').map(Number), text };
  const tag = EDK2_TAG.exec(text);
  return tag ? { parts: [Number(tag[1]), Number(tag[2])], text } : undefined;
}

function release(r: Release | string): Release {
  if (typeof r !== 'string') return r;
  const parsed = parseRelease(r);
  if (!parsed) throw new Error(`not a release: ${r}`);
  return parsed;
}

/** Negative, zero or positive as `a` is older than, the same as or newer than `b`; missing parts count as 0. */
export function compareReleases(a: Release | string, b: Release | string): number {
  const x = release(a).parts;
  const y = release(b).parts;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** Whether `r` has the behaviour introduced in `since`; a release not given is the newest, so it has. */
export function atLeast(r: Release | undefined, since: Release | string): boolean {
  return r === undefined || compareReleases(r, since) >= 0;
}

/** `Linux 6.6`: a component's release as a message names it. */
export function releaseName(component: Component, r: Release | string): string {
  return `${COMPONENT_NAMES[component]} ${typeof r === 'string' ? r : r.text}`;
}

/** What a description runs, for a message: `Linux 6.5 (kernel 6.5)` or `the newest Linux (no kernel line)`. */
export function runningName(component: Component, r: Release | undefined): string {
  return r ? releaseName(component, r) : `the newest ${COMPONENT_NAMES[component]} this tool knows`;
}

/** A behaviour that changed in a release: the engines key their rules by these. */
export interface VersionChange {
  component: Component;
  /** The first release with the new behaviour. */
  release: string;
  /** What changed, old and new. */
  change: string;
  /** Where: file and function, commit, or specification section. */
  source: string;
  /** Older stable branches that got it in a point release (`4.15.1`): a fix backported. */
  backports?: readonly string[];
}

/**
 * Whether `r` has a change: newer than `release`, or on a stable branch at or after its
 * backport (`4.15.1` has what 4.16 brought, `4.15.0` has not).
 */
export function hasChange(r: Release | undefined, change: Pick<VersionChange, 'release' | 'backports'>): boolean {
  if (atLeast(r, change.release)) return true;
  const [major, minor] = r!.parts;
  const branch = change.backports?.find((b) => {
    const p = release(b).parts;
    return p[0] === major && p[1] === minor;
  });
  return branch !== undefined && atLeast(r, branch);
}

/** The Xen release boundaries the Xen engine checks. */
export const XEN = {
  pvhPassthrough: {
    component: 'xen',
    release: '4.12',
    change:
      'a PVH dom0 with dom0-iommu passthrough boots (passthrough is cleared, "hardwired to false"); 4.10 and 4.11 panic ' +
      '"Dom0 uses paging translated mode, dom0-passthrough must not be enabled". ' +
      '`dom0-iommu=` replaces `iommu=dom0-strict,dom0-passthrough`',
    source: 'xen/drivers/passthrough/iommu.c, check_hwdom_reqs; 391266f012',
  },
  quarantine: {
    component: 'xen',
    release: '4.13',
    change:
      'a device de-assigned from a domain is quarantined in dom_io (`iommu=quarantine`, XSA-302) with a scratch page; ' +
      'before, it went straight back to dom0',
    source: 'xen/drivers/passthrough/pci.c, deassign_device; ba2ab00bbb, ea38867831',
  },
  identityOverlap: {
    component: 'xen',
    release: '4.16',
    backports: ['4.15.1', '4.14.3', '4.13.4'],
    change:
      'an identity (RMRR / IVMD) mapping overlapping another of the same domain fails with -EADDRINUSE (XSA-378, also in 4.15.1, ' +
      '4.14.3 and 4.13.4); before, VT-d mapped overlapping RMRRs silently',
    source: 'xen/drivers/passthrough/x86/iommu.c, iommu_identity_mapping; c0e19d7c6c',
  },
  quarantineBasic: {
    component: 'xen',
    release: '4.16',
    change:
      "`iommu=quarantine` defaults to basic (a de-assigned device's in-flight DMA faults) and the scratch page needs " +
      '`quarantine=scratch-page`; 4.13 to 4.15 always use the scratch page',
    source: 'xen/drivers/passthrough/iommu.c, parse_iommu_param; 980d6acf15',
  },
} as const satisfies Record<string, VersionChange>;

/** The Linux release boundaries the VFIO engine checks. */
export const LINUX = {
  dmaEntryLimit: {
    component: 'linux',
    release: '5.1',
    change:
      'a VFIO type1 container holds at most `dma_entry_limit` mappings (module parameter, default 65535) and ' +
      'VFIO_IOMMU_MAP_DMA answers -ENOSPC past it (CVE-2019-3882); before, there was no limit',
    source: 'drivers/vfio/vfio_iommu_type1.c, vfio_dma_do_map; 492855939bdb',
  },
  iommufdPerDevice: {
    component: 'linux',
    release: '6.6',
    change:
      "iommufd reserves each device's own regions when that device attaches (iopt_table_enforce_dev_resv_regions); " +
      "6.2 to 6.5 reserved the whole group's list (iopt_table_enforce_group_resv_regions), as type1 still does",
    source: 'drivers/iommu/iommufd/io_pagetable.c, iopt_table_enforce_dev_resv_regions; 34f327a985ff',
  },
  htRangeIgnore: {
    component: 'linux',
    release: '6.16',
    change:
      'the AMD-Vi driver leaves out the HyperTransport hole 0xfd00000000..0xffffffffff on IOMMUs that report ' +
      'HTRangeIgnore in EFR2 (amd_iommu_ht_range_ignore); before, it reserved the hole on every AMD IOMMU',
    source: 'drivers/iommu/amd/iommu.c, amd_iommu_get_resv_regions; 94a9921e2c25',
  },
} as const satisfies Record<string, VersionChange>;

/**
 * Every release boundary an engine checks, one row each; docs/language.md ("Versions") shows
 * the same table. A row is added with the rule that checks it.
 */
export const VERSION_CHANGES: readonly VersionChange[] = [
  ...Object.values(LINUX),
  {
    component: 'qemu',
    release: '7.1',
    change:
      "machine types after 7.0 move an AMD guest's RAM above 4 GiB to 1 TiB when it would reach the HyperTransport hole " +
      '(enforce_amd_1tb_hole); `machine ... version 7.0` and older keep it at 4 GiB',
    source: 'hw/i386/pc.c, pc_memory_init',
  },
  ...Object.values(XEN),
  {
    component: 'edk2',
    release: 'edk2-stable202302',
    change:
      'CoreExitBootServices signals EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES before locking the memory map; before, ' +
      '`on before-exit-boot-services` handlers never run (fw-before-ebs-unsupported)',
    source: 'MdeModulePkg/Core/Dxe/DxeMain/DxeMain.c, CoreExitBootServices (9d70d8f20d)',
  },
  {
    component: 'edk2',
    release: 'edk2-stable202502',
    change:
      'CoreExitBootServices signals EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES only on the first call; before, every retry after a ' +
      'failed call (a stale MapKey) ran those handlers again (fw-before-ebs-resignal)',
    source: 'MdeModulePkg/Core/Dxe/DxeMain/DxeMain.c, CoreExitBootServices (e8668d2dee)',
  },
];

/** The rows of one component, oldest first. */
export function versionChanges(component: Component): VersionChange[] {
  return VERSION_CHANGES.filter((c) => c.component === component).sort((a, b) => compareReleases(a.release, b.release));
}

/** `since Linux 6.6`: how a message names a row. */
export function since(component: Component, rel: string): string {
  return `since ${releaseName(component, rel)}`;
}
