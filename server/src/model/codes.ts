/**
 * The core's finding codes (syntax, numbers, names, VFIO and guest RAM), with their default
 * severities and one-line summaries. Each domain keeps its own codes beside the code that
 * raises them (server/src/domains/<domain>/codes.ts); the registry (server/src/domains/index.ts)
 * assembles the whole list with `codeTable`. Codes are stable: tests, settings and
 * docs/diagnostics.md refer to them (a test checks that every code has its entry there).
 */
import { findingBuilder, type CodeInfo, type CodeTable, type Finding } from './findings';

export type { CodeInfo, CodeTable } from './findings';

// Sources shared by several codes (RULES §0.3). Linux paths are in the kernel tree, QEMU's in qemu.
export const TYPE1_MAP_CHECK = {
  where: 'Linux drivers/vfio/vfio_iommu_type1.c, vfio_dma_do_map (vfio_iommu_iova_dma_valid against the usable IOVA list)',
  versions: 'since Linux 5.4, which added the usable IOVA list; before, the map succeeded',
};
export const TYPE1_ATTACH = {
  where: 'Linux drivers/vfio/vfio_iommu_type1.c, vfio_iommu_type1_attach_group (vfio_iommu_resv_conflict, vfio_iommu_aper_conflict)',
};
export const IOMMUFD_CHECK = { where: 'Linux drivers/iommu/iommufd/io_pagetable.c, iopt_check_iova and iopt_reserve_iova' };
export const QEMU_MAP_FAILURE = {
  where: 'QEMU hw/vfio/common.c (listener.c in newer trees), vfio_listener_region_add: "memory listener initialization failed"',
};
export const QEMU_CONTAINER_FALLBACK = {
  where:
    'QEMU hw/vfio/container.c, vfio_connect_container, and hw/vfio/iommufd.c, iommufd_cdev_attach: an attach to an ' +
    'existing container / IOAS that fails is retried in a new one, so the reported failure is the DMA map there',
};
export const IOMMUFD_PER_DEVICE = {
  where: 'Linux drivers/iommu/iommufd/io_pagetable.c, iopt_table_enforce_dev_resv_regions (called from device.c at each device attach)',
  versions: "since Linux 6.6 (34f327a985ff) per device; 6.2-6.5 the group's whole list (iopt_table_enforce_group_resv_regions)",
};
export const RESV_REGIONS = { where: "Linux drivers/iommu/iommu.c, iommu_get_group_resv_regions (and each driver's get_resv_regions)" };
export const QEMU_PC_MEMORY = { where: 'QEMU hw/i386/pc.c, pc_memory_init (and hw/i386/pc_q35.c, pc_piix.c for the split)' };
export const SEED_002_PROPOSAL = {
  where: 'seed 002 (2016), "KVM PCIe/MSI passthrough on ARM/ARM64 - Alt II": a proposal, not merged upstream',
};
export const POOL_RULE = { where: 'RULES §4: the guest map is fixed at start; a later hot-add maps it on the new host' };

export const CORE_CODES = {
  // ----- syntax (grammar/) -----
  'syntax-error': { severity: 'error', summary: 'The text does not follow the grammar.' },
  'unknown-statement': { severity: 'error', summary: 'A line starts with a word the enclosing block does not accept.' },
  'missing-separator': { severity: 'error', summary: "Two statements on one line without ';' between them." },
  'unclosed-block': { severity: 'error', summary: "A '{' is never closed." },
  'invalid-character': { severity: 'error', summary: 'A character that is not part of the language.' },
  'invalid-utf8': {
    severity: 'error',
    summary: 'Bytes that are not UTF-8 (read as U+FFFD); reported by the CLI, which reads files as bytes.',
  },
  'unterminated-comment': { severity: 'error', summary: "A '/*' comment is never closed." },
  'file-too-large': { severity: 'error', summary: 'The file is larger than the configured limit and was not analysed.' },
  'workspace-too-large': {
    severity: 'warning',
    summary: 'The language server read the workspace up to its limit and left the rest unread; unknown-name is not reported.',
  },
  'internal-error': { severity: 'error', summary: 'A check failed inside IOMMU Lens (a bug); the other checks still ran.' },
  // ----- numbers and ranges (model/numbers.ts) -----
  'invalid-number': { severity: 'error', summary: 'A number with a bad digit, misplaced `_` or unknown unit.' },
  'number-too-large': { severity: 'error', summary: 'A value above 0xffff_ffff_ffff_ffff.' },
  'unit-not-allowed': { severity: 'error', summary: 'A size unit on a value that is a count, not a size.' },
  'value-out-of-range': { severity: 'error', summary: 'A value outside what the real system accepts (address width, phys-bits, ...).' },
  'zero-size': { severity: 'error', summary: 'A range of size 0.' },
  'range-reversed': { severity: 'error', summary: 'A range whose END is below its START.' },
  'range-wraps': { severity: 'error', summary: 'A range that runs past 0xffff_ffff_ffff_ffff.' },
  'invalid-bdf': { severity: 'error', summary: 'A PCI address outside segment 0-ffff, bus 0-ff, device 0-1f, function 0-7.' },
  // ----- names (model/resolve.ts) -----
  'unknown-name': { severity: 'error', summary: 'A reference to a name that is not declared where it is looked up.' },
  'duplicate-name': { severity: 'error', summary: 'A name declared twice in one scope.' },
  'wrong-kind': { severity: 'error', summary: 'A name of the wrong kind, e.g. an IOMMU where a device is expected.' },
  'wrong-platform': { severity: 'error', summary: 'A qualified name from another platform than the one the statement is about.' },
  'ambiguous-name': { severity: 'error', summary: 'A device name several platforms in play have; qualify it.' },
  'duplicate-setting': { severity: 'warning', summary: 'A setting given twice in one block; the last one wins.' },
  'duplicate-bdf': { severity: 'error', summary: 'Two devices of one platform at the same PCI address.' },
  'unknown-value': { severity: 'error', summary: 'A register bit, device quirk, SMMU command or operand the simulator does not know.' },
  // ----- VFIO containers and guest RAM (sim/vfio.ts, sim/realize.ts) -----
  'ram-over-doorbell': {
    severity: 'error',
    summary: 'Guest RAM over an MSI doorbell window (a hardware msi region or a sw-msi window) of an assigned group.',
    sources: [
      RESV_REGIONS,
      { where: 'Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c, arm_smmu_get_resv_regions (sw-msi at MSI_IOVA_BASE 0x8000000)' },
      TYPE1_MAP_CHECK,
      IOMMUFD_CHECK,
      QEMU_MAP_FAILURE,
    ],
  },
  'ram-over-reserved': {
    severity: 'error',
    summary: 'Guest RAM over a reserved or direct region of an assigned group.',
    sources: [RESV_REGIONS, TYPE1_MAP_CHECK, TYPE1_ATTACH, IOMMUFD_CHECK, IOMMUFD_PER_DEVICE, QEMU_CONTAINER_FALLBACK, QEMU_MAP_FAILURE],
  },
  'ram-beyond-aperture': {
    severity: 'error',
    summary: "Guest RAM beyond the IOMMU's address width (the aperture).",
    sources: [TYPE1_MAP_CHECK, TYPE1_ATTACH, QEMU_MAP_FAILURE],
  },
  'ram-overlap': {
    severity: 'error',
    summary: 'Two guest RAM ranges overlap; the second DMA map is -EEXIST.',
    sources: [{ where: 'Linux drivers/vfio/vfio_iommu_type1.c, vfio_dma_do_map (vfio_find_dma: -EEXIST)' }],
  },
  'ram-misaligned': {
    severity: 'error',
    summary: "Guest RAM not aligned to the IOMMU's smallest page.",
    sources: [
      { where: 'Linux drivers/vfio/vfio_iommu_type1.c, vfio_dma_do_map (size, iova and vaddr aligned to the smallest page: -EINVAL)' },
    ],
  },
  'identity-map-required': {
    severity: 'error',
    summary: 'An assigned device with a direct region: it needs a 1:1 mapping and VFIO refuses it.',
    sources: [
      {
        where:
          'Linux drivers/iommu/iommu.c, __iommu_device_set_domain (require_direct: ' +
          '"Firmware has requested this device have a 1:1 IOMMU mapping")',
        versions: 'since Linux 6.6 (a48ce36e2786), every IOMMU driver, -EINVAL',
      },
      {
        where:
          'Linux drivers/iommu/intel/iommu.c, intel_iommu_attach_device ("Device is ' +
          'ineligible for IOMMU domain attach due to platform RMRR requirement")',
        versions: 'Linux 3.17 to 6.5, VT-d only, -EPERM',
      },
    ],
  },
  'empty-iova-list': {
    severity: 'error',
    summary: "A group's regions cover its whole aperture: no usable IOVA.",
    sources: [
      {
        where:
          'Linux drivers/vfio/vfio_iommu_type1.c, vfio_iommu_type1_attach_group (vfio_iommu_resv_exclude leaves the list empty: -EINVAL)',
      },
    ],
  },
  'iommufd-msi-conflict': {
    severity: 'error',
    summary: 'iommufd: a device with a sw-msi window and a hardware msi, or two sw-msi windows.',
    sources: [
      { where: 'Linux drivers/iommu/iommufd/io_pagetable.c, iopt_table_enforce_dev_resv_regions (WARN_ON(num_sw_msi && num_hw_msi))' },
    ],
  },
  'no-iommu': {
    severity: 'error',
    summary: 'An assigned device that is behind no IOMMU.',
    sources: [{ where: 'QEMU hw/vfio, vfio_device_get_groupid: "no iommu_group found"' }],
  },
  'device-assigned-twice': {
    severity: 'error',
    summary: 'A device assigned twice, to one guest or to two.',
    sources: [{ where: 'QEMU hw/vfio, attaching a host device twice: "device is already attached"' }],
  },
  'group-split': {
    severity: 'error',
    summary: 'Devices of one IOMMU group assigned to different guests.',
    sources: [{ where: 'Linux drivers/vfio/group.c, vfio_group_fops_open (one opener of /dev/vfio/N: -EBUSY)' }],
  },
  'group-partly-assigned': {
    severity: 'warning',
    summary: 'Only some devices of an IOMMU group are assigned; the group may not be viable.',
    sources: [{ where: 'QEMU hw/vfio/container.c, vfio_group_get: "group %d is not viable" (VFIO_GROUP_FLAGS_VIABLE)' }],
  },
  'msi-window-ignored': {
    severity: 'information',
    summary: 'A guest msi-window line: MSI windows are where the IOMMU drivers put them, so it has no effect.',
    sources: [
      {
        where:
          'Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c, ' +
          'arm_smmu_get_resv_regions (MSI_IOVA_BASE 0x8000000, MSI_IOVA_LENGTH 0x100000)',
      },
      SEED_002_PROPOSAL,
    ],
  },
  'msi-window-missing': {
    severity: 'information',
    summary: "No longer reported (issue 24): it offered seed 002's movable doorbell window, which upstream never merged.",
    sources: [SEED_002_PROPOSAL],
  },
  'msi-window-conflict': {
    severity: 'error',
    summary: 'No longer reported (issue 24): it checked a guest msi-window, a window no kernel lets a guest place.',
    sources: [SEED_002_PROPOSAL],
  },
  'phys-bits-too-low': {
    severity: 'error',
    summary: "A PC guest's RAM, device memory and 64-bit PCI hole reach beyond its phys-bits (given, or QEMU's default); QEMU exits.",
    sources: [
      { where: 'QEMU hw/i386/pc.c, pc_memory_init and pc_max_used_gpa ("Address space limit ... phys-bits too low")' },
      { where: 'QEMU hw/i386/pc.c, pc_get_device_memory_range and pc_pci_hole64_start (maxmem, 1 GiB per slot)' },
      { where: 'QEMU target/i386/cpu.c, x86_cpu_realizefn (phys_bits 0 becomes TCG_PHYS_ADDR_BITS, 40, for named models and TCG)' },
      {
        where:
          'QEMU target/i386/host-cpu.c, host_cpu_max_instance_init and host_cpu_adjust_phys_bits (-cpu host/max under KVM: host-phys-bits)',
      },
    ],
  },
  'highmem-off-too-much-memory': {
    severity: 'error',
    summary: 'A virt guest with highmem off whose RAM and device memory reach past 4 GiB; QEMU exits.',
    sources: [{ where: 'QEMU hw/arm/virt.c, virt_set_memmap (highmem=off: pa_bits = 32; "Addressing limited to 32 bits")' }],
  },
  'dma-entry-limit': {
    severity: 'error',
    summary: "A type1 container past vfio_iommu_type1's dma_entry_limit: VFIO_IOMMU_MAP_DMA fails with -ENOSPC.",
    sources: [
      {
        where: 'Linux drivers/vfio/vfio_iommu_type1.c, vfio_dma_do_map (dma_avail, -ENOSPC) and the dma_entry_limit module parameter',
        versions: 'since Linux 5.1 (492855939bdb); iommufd has no such limit',
      },
      QEMU_MAP_FAILURE,
    ],
  },
} as const satisfies Record<string, CodeInfo>;

/** A code of the core's own table. */
export type Code = keyof typeof CORE_CODES;

/** Builds a finding of a core code with the code's default severity. */
export const finding = findingBuilder(CORE_CODES);

/**
 * One table from several, in the order given. A code in two tables is a programming error
 * (two domains claiming one code): it throws when the registry loads, so every test fails.
 */
export function codeTable(...tables: readonly CodeTable[]): CodeTable {
  const all: Record<string, CodeInfo> = {};
  for (const t of tables) {
    for (const [code, info] of Object.entries(t)) {
      if (Object.hasOwn(all, code)) throw new Error(`finding code '${code}' is registered twice`);
      all[code] = info;
    }
  }
  return all;
}

/**
 * What a check that threw leaves behind: one `internal-error` at the top of each file it
 * covered (for an engine, `model.comments.keys()`: every file of its model), so the user
 * learns that findings may be missing there, and the other checks' findings still show.
 */
export function internalErrors(uris: Iterable<string>, check: string, err: unknown): Finding[] {
  return [...uris].map((uri) => internalError(uri, check, err));
}

export function internalError(uri: string, check: string, err: unknown): Finding {
  const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const f = finding(
    'internal-error',
    { uri, span: { start: 0, end: 0 } },
    `${check} failed inside IOMMU Lens (${why}); its findings are missing here, ` +
      'the other checks still ran. Please report this with the file.',
  );
  f.cause = `${check}: ${err instanceof Error ? (err.stack ?? why) : why}`;
  return f;
}
