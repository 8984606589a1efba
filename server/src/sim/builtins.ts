/**
 * The reserved regions each IOMMU driver adds by itself (RULES §1.5), whatever the
 * firmware says: the x86 interrupt range, AMD's HyperTransport hole, and the software
 * MSI window Arm SMMU and virtio-iommu drivers reserve at MSI_IOVA_BASE.
 */
import type { Interval } from '../model/interval';
import type { Iommu, RegionType } from '../model/types';
import { hasChange, LINUX, type Release } from '../model/versions';
import type { Resv } from './regions';

/** Used when an IOMMU gives no `address-width`: the 4-level page-table width VT-d, AMD-Vi and SMMUv3 hosts commonly report. */
export const DEFAULT_ADDRESS_WIDTH = 48;

/** x86 interrupt address range: `IOAPIC_RANGE_START`/`END` (VT-d), `MSI_RANGE_START`/`END` (AMD-Vi). */
export const X86_MSI_RANGE: Interval = { start: 0xfee0_0000n, end: 0xfeef_ffffn };
/** AMD HyperTransport reserved range: `HT_RANGE_START`/`END` in `drivers/iommu/amd/iommu.c`. */
export const AMD_HT_HOLE: Interval = { start: 0xfd_0000_0000n, end: 0xff_ffff_ffffn };
/** `MSI_IOVA_BASE` / `MSI_IOVA_LENGTH` in `arm-smmu-v3.c` and `virtio-iommu.c`. */
export const MSI_IOVA_WINDOW: Interval = { start: 0x800_0000n, end: 0x80f_ffffn };

/** An IOMMU's address width, as given or assumed. */
export function addressWidthOf(iommu: Iommu): number {
  return iommu.addressWidth ?? DEFAULT_ADDRESS_WIDTH;
}

/** The last IOVA of an IOMMU's aperture `0 .. 2^width - 1`. */
export function apertureEnd(iommu: Iommu): bigint {
  return (1n << BigInt(addressWidthOf(iommu))) - 1n;
}

function builtin(iommu: Iommu, type: RegionType, range: Interval, label: string, why: string): Resv {
  return { type, range, source: { kind: 'builtin', iommu, label, why } };
}

/**
 * Whether the AMD-Vi driver leaves the HyperTransport hole out for this IOMMU: it reports
 * HTRangeIgnore and the kernel reads it (Linux 6.16+, `amd_iommu_ht_range_ignore()`).
 */
export function htHoleIgnored(iommu: Iommu, kernel: Release | undefined): boolean {
  return !!iommu.htRangeIgnore && hasChange(kernel, LINUX.htRangeIgnore);
}

/** Regions an IOMMU adds for every device behind it, on a host running `kernel`. */
export function builtinRegions(iommu: Iommu, kernel?: Release): Resv[] {
  switch (iommu.kind) {
    case 'vt-d':
      return [
        builtin(
          iommu,
          'msi',
          X86_MSI_RANGE,
          'the x86 interrupt range',
          'the VT-d driver reserves the x86 interrupt range for every device (IOAPIC_RANGE_START)',
        ),
      ];
    case 'amd-vi':
      return [
        builtin(
          iommu,
          'msi',
          X86_MSI_RANGE,
          'the x86 interrupt range',
          'the AMD-Vi driver reserves the x86 interrupt range for every device (MSI_RANGE_START)',
        ),
        ...(htHoleIgnored(iommu, kernel)
          ? []
          : [
              builtin(
                iommu,
                'reserved',
                AMD_HT_HOLE,
                'the HyperTransport hole',
                iommu.htRangeIgnore
                  ? 'the AMD-Vi driver reserves the HyperTransport hole for every device (HT_RANGE_START): ' +
                      'this IOMMU reports HTRangeIgnore, but only Linux 6.16 and later read it'
                  : 'the AMD-Vi driver reserves the HyperTransport hole for every device (HT_RANGE_START)',
              ),
            ]),
      ];
    default:
      return [];
  }
}

/**
 * The software MSI window the SMMUv3 driver (always) and the virtio-iommu driver (when
 * the device reported no MSI region) add, unless the description gives the device its
 * own: a declared `sw-msi` region moves the window.
 */
export function defaultMsiWindow(iommu: Iommu, declared: (t: RegionType) => boolean): Resv | undefined {
  if (iommu.kind === 'smmuv3' && !declared('sw-msi')) {
    return builtin(
      iommu,
      'sw-msi',
      MSI_IOVA_WINDOW,
      'the sw-msi window',
      'the SMMUv3 driver reserves a software MSI window at MSI_IOVA_BASE for every device',
    );
  }
  if (iommu.kind === 'virtio-iommu' && !declared('sw-msi') && !declared('msi')) {
    return builtin(
      iommu,
      'sw-msi',
      MSI_IOVA_WINDOW,
      'the sw-msi window',
      'the virtio-iommu driver reserves a software MSI window at MSI_IOVA_BASE when the device reports no MSI region',
    );
  }
  return undefined;
}
