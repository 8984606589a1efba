/**
 * One-line documentation of the language's words, drawn from docs/language.md and
 * docs/diagnostics.md: every keyword in its usual sense and in the places where it means
 * something else, the names of the enumerations, and device classes. The domains' own
 * vocabulary (config-space bits, SMMU operand fields, boot services) is in their folders.
 * Completion shows these; hover can use the same table.
 */
import type { RegionType } from '../model';
import type { DomainParts } from './analysis';
import type { KeywordDocs } from './contribution';

/** `enum iommu_resv_type` in `include/linux/iommu.h`, and what VFIO does with each. */
export const REGION_MEANING: Readonly<Record<RegionType, { enumName: string; meaning: string }>> = {
  direct: {
    enumName: 'IOMMU_RESV_DIRECT',
    meaning:
      'must stay identity-mapped (IOVA = PA) at all times, e.g. an RMRR or unity map; a device with one cannot be assigned (RULES §1.6)',
  },
  'direct-relaxable': {
    enumName: 'IOMMU_RESV_DIRECT_RELAXABLE',
    meaning:
      'identity-mapped, but the mapping may be dropped for device assignment (USB and graphics RMRRs); not cut from the usable IOVA list',
  },
  reserved: { enumName: 'IOMMU_RESV_RESERVED', meaning: 'never mapped, never given to a device; cut from the usable IOVA list' },
  msi: { enumName: 'IOMMU_RESV_MSI', meaning: 'a hardware MSI doorbell, not translated by the IOMMU; cut from the usable IOVA list' },
  'sw-msi': {
    enumName: 'IOMMU_RESV_SW_MSI',
    meaning: 'a software-managed MSI window, translated to the doorbell by the IOMMU; sysfs prints it as `msi`',
  },
};

const region = (t: RegionType) => `Reserved-region type \`${t}\` (\`${REGION_MEANING[t].enumName}\`): ${REGION_MEANING[t].meaning}.`;

/** The core's keywords in their most common sense (the domains document theirs: `keywordDocs`). */
export const KEYWORD_DOCS: Readonly<Record<string, string>> = {
  platform:
    'A physical host as its kernel sees it: architecture, IOMMUs, memory, reserved regions and PCI devices. `platform NAME { ... }`',
  guest: 'A virtual machine (QEMU) on a platform and the devices assigned to it. `guest NAME on PLATFORM { ... }`',
  arch: 'The host CPU architecture: `x86_64` (VT-d or AMD-Vi, the 0xfee00000 MSI window) or `arm64` (SMMUv3, MSIs through the GIC ITS).',
  kernel:
    "The host's Linux release, e.g. `kernel 6.6`: rules that changed between releases follow it (RULES " +
    '§0.2); without it the newest behaviour the tool knows applies. `kernel RELEASE`',
  iommu: 'One IOMMU unit of the host and its kind. `iommu NAME vt-d | amd-vi | smmuv3 | virtio-iommu [ { ... } ]`',
  ram: "A named memory range: host memory in a platform, guest-physical RAM in a guest, a domain's memory in Xen. `ram NAME RANGE`",
  reserved:
    'An IOMMU reserved region as /sys/kernel/iommu_groups/N/reserved_regions lists it. `reserved NAME TYPE RANGE [for TARGET, ...]`',
  device: 'One PCI function of the host: its BDF, IOMMU, group, TDISP capability. `device NAME { ... }`',
  'address-width': 'Input address bits of the IOMMU (1 to 64): the IOVA aperture is 0 .. 2^BITS-1; 48 when not given (RULES §2.1–2.2).',
  msi:
    'How MSIs reach the interrupt controller: `msi remapped` (translated by the IOMMU, ' +
    'needs a sw-msi window) or `msi bypass` (a hardware msi region).',
  'page-sizes': 'The page sizes the IOMMU supports; a VFIO MAP_DMA must be aligned to the smallest, or it fails with -EINVAL (RULES §2.5).',
  ioapic: "An IO-APIC's 4 KiB register page (x86): Xen keeps it out of dom0's IOMMU map (RULES §8.2). `ioapic ADDRESS`",
  mmcfg: "A PCIe ECAM (MMCONFIG) window: Xen keeps it out of dom0's IOMMU map (RULES §8.2). `mmcfg RANGE`",
  bdf: 'The PCI address of the function, as `lspci -D` prints it: `SSSS:BB:DD.F` (the segment may be left out).',
  group:
    'The IOMMU group (/sys/kernel/iommu_groups/N). Devices with the same number are ' +
    'assigned together; without it a device is alone in its group.',
  'vf-of':
    'The function is an SR-IOV virtual function of that physical function: a PF ' +
    'reset reaches its VFs, and VFs have no INTx (RULES §5.3, §5.5).',
  class:
    'The device class (`usb`, `graphics`, `bridge`, ...): USB and graphics RMRRs are ' +
    'direct-relaxable; a bridge may stay in a partly assigned group.',
  assign:
    'Assign a device to the guest with VFIO when it starts: its whole group is attached and guest ' +
    'RAM mapped (RULES §2, §3.5). `assign DEVICE [as MODE] [dma-window RANGE]`',
  machine: "Let IOMMU Lens compute QEMU's guest RAM map: `machine q35 | i440fx | virt [memory SIZE] [cpu amd|intel] ...` (RULES §3).",
  'msi-window':
    'Has no effect (kept so older files parse): MSI windows are where the IOMMU drivers put them, the SMMU sw-msi at the fixed ' +
    'MSI_IOVA_BASE 0x8000000 (RULES §1.5, §4). Seed 002 proposed a movable doorbell; it was not merged. `msi-window RANGE`',
  viommu: 'A virtual IOMMU shown to the guest: `viommu NAME KIND [via VINTF] [stage2]` (RULES §9.4–9.5).',
  container: 'The host interface QEMU uses: the VFIO `type1` container (the default) or `iommufd`.',
  balloon: 'A guest or Xen domain gives memory back (all of it, or the range given) (RULES §8.5). `balloon TARGET [RANGE]`',
  free:
    'A guest or Xen domain frees that memory; an IOMMU map Xen does not ' +
    'maintain keeps stale mappings (RULES §8.5). `free TARGET RANGE`',
  size: 'The size form of a range: `START size SIZE` is SIZE bytes from START.',
  for: "Says what the statement is for: a region's devices, a firmware's guest, a driver's device, a VINTF's guest.",
  to: 'The destination: `migrate GUEST to PLATFORM`, `convert DEVICE to MODE`.',
  into: 'The guest a device is hot-added to: `hotplug DEVICE into GUEST`.',
  from: 'The guest a device is removed from: `unplug DEVICE from GUEST`.',
  as: 'The DMA mode of an assigned or hot-added device: `as shared | private | bind-capable` (RULES §6.2).',
  via: 'The CMDQV VINTF accelerating the vIOMMU; its SMMU must be the one behind the assigned devices (RULES §9.5).',
  at: 'Where the mapped buffer is: `at ADDRESS`.',
  x86_64: 'x86-64 host: Intel VT-d or AMD-Vi IOMMUs, MSIs through the 0xfee00000 interrupt range.',
  arm64: 'Arm64 host: SMMUv3 IOMMUs, MSIs through the GIC ITS.',
  'vt-d':
    'An Intel VT-d DMAR unit; its driver reserves the x86 interrupt range 0xfee00000..0xfeefffff (msi) for every device (RULES §1.5).',
  'amd-vi':
    'An AMD IOMMU; its driver reserves the interrupt range (msi) and the ' +
    'HyperTransport hole 0xfd00000000..0xffffffffff (reserved) (RULES §1.5).',
  smmuv3:
    'An Arm SMMUv3; its driver reserves the software MSI window 0x8000000..0x80fffff ' +
    '(sw-msi, MSI_IOVA_BASE) unless a sw-msi region moves it (RULES §1.5).',
  'virtio-iommu':
    'A paravirtual virtio-iommu; it reserves the sw-msi window 0x8000000..0x80fffff when the device has no msi region (RULES §1.5).',
  remapped:
    'MSIs are DMA writes the IOMMU translates (Arm: the ITS doorbell behind the SMMU); ' +
    'devices need a sw-msi window mapped to the doorbell (RULES §1.5, §2.3).',
  bypass: "MSIs bypass translation: the doorbell is a hardware msi region, like x86's 0xfee00000..0xfeefffff (RULES §1.5).",
  direct: region('direct'),
  'direct-relaxable': region('direct-relaxable'),
  'sw-msi': region('sw-msi'),
  q35: 'QEMU q35 machine: RAM split below and above 4 GiB, a 32 GiB 64-bit PCI hole above RAM (hw/i386/pc_q35.c; RULES §3.1–3.2).',
  i440fx: 'QEMU i440fx (pc) machine: RAM split below and above 4 GiB, a 2 GiB 64-bit PCI hole (hw/i386/pc_piix.c; RULES §3.1–3.2).',
  virt: 'QEMU Arm virt machine: RAM from 0x40000000, the ITS at 0x08080000 (RULES §3.4).',
  memory: 'Guest RAM size: `memory SIZE`.',
  cpu: 'CPU vendor: with `cpu amd` QEMU moves above-4G RAM to 1 TiB when it would reach the HyperTransport hole (RULES §3.3).',
  amd: 'AMD CPU: above-4G RAM moves to 1 TiB when RAM and the PCI hole would reach the HyperTransport hole (RULES §3.3).',
  intel: 'Intel CPU: no HyperTransport hole, RAM is not relocated.',
  'phys-bits': 'Guest physical address bits (32 to 64); they must reach the highest address used, or QEMU exits.',
  'max-ram-below-4g': 'Caps the RAM QEMU places below 4 GiB (RULES §3.1).',
  'pci-hole64-size': "The size of QEMU's 64-bit PCI hole above RAM (the PCI host's `pci-hole64-size` property).",
  version: 'The machine type version: `version 7.0` is pc-q35-7.0; up to 7.0 QEMU does not move RAM to 1 TiB.',
  'cpu-model':
    "QEMU's `-cpu` model: a named model (EPYC-Genoa, Skylake-Server, qemu64 the default) has 40 " +
    "phys-bits unless set; `host` and `max` under KVM take the host's (RULES §3.7).",
  accel: 'The accelerator, `kvm` (the default here) or `tcg`; under TCG every model has 40 phys-bits unless set (RULES §3.7).',
  kvm: 'KVM: `-cpu host` / `max` take the host phys-bits.',
  tcg: 'TCG (emulation): 40 phys-bits unless set.',
  maxmem:
    '`-m ...,maxmem=SIZE`: the device-memory region for hot-plugged DIMMs above RAM; it moves ' +
    'the 64-bit PCI hole and the top of the address space (pc_max_used_gpa).',
  slots: '`-m ...,slots=N`: memory slots; QEMU sizes the device-memory region with 1 GiB more per slot.',
  'host-phys-bits':
    "`host-phys-bits on` (`-cpu MODEL,host-phys-bits=on`, libvirt `<maxphysaddr mode='passthrough'/>`): under KVM the " +
    "vCPU takes the host's phys-bits whatever its model, so the default of 40 does not apply (RULES §3.7).",
  highmem: 'virt `highmem=off`: the machine is limited to 32-bit addresses; RAM and device memory must end at 4 GiB (RULES §3.8).',
  'dma-entry-limit':
    "vfio_iommu_type1's `dma_entry_limit` module parameter (default 65535): the mappings one type1 " +
    'container may hold; past it VFIO_IOMMU_MAP_DMA fails with -ENOSPC (Linux 5.1+, RULES §2.7).',
  'ht-range-ignore':
    'The AMD IOMMU reports HTRangeIgnore (EFR2): Linux 6.16 and later do not reserve the ' +
    'HyperTransport hole 0xfd00000000..0xffffffffff for its devices (RULES §1.5).',
  type1: 'The VFIO type1 container (the default).',
  iommufd:
    'iommufd: reserves regions per device since Linux 6.6 (the whole group list in 6.2-6.5) and rejects a ' +
    'sw-msi together with a hardware msi (RULES §2). In a guest, `iommufd NAME` declares an instance (QEMU ' +
    '`-object iommufd,id=NAME`) and `assign DEVICE ... iommufd NAME` puts a device on it (`iommufd=NAME`); ' +
    'each instance of an SEV-TIO guest is all private or all shared (RULES §6.6).',
  stage2: 'The vIOMMU advertises stage 2 (SMMU IDR0.S2P); without it stage-2 invalidations from the guest are errors (RULES §9.4).',
  D0: 'Power state D0: fully on.',
  D1: 'Power state D1: light sleep; the function keeps its state.',
  D2: 'Power state D2: deeper sleep; the function keeps its state.',
  D3hot: "Power state D3hot: with No_Soft_Reset clear the function loses its state; a locked TDI goes to ERROR, a PF's VFs are reset.",
  D3cold: 'Power state D3cold: power removed; the function loses its state and a locked TDI goes to ERROR.',
  off: 'Turns the setting off (`map-reserved off`, `hyp-own off`).',
};

/** Keywords that mean something else in one place, keyed `CONTEXT:word` (an enumeration, a rule or a block). */
const SENSES: Readonly<Record<string, string>> = {
  'regionType:reserved': region('reserved'),
  'regionType:msi': region('msi'),
  'deviceIommuStmt:iommu': "The IOMMU that translates the device's DMA; on Arm with its stream ID. `iommu IOMMU [stream NUMBER]`",
  'onOff:on': 'Turns the setting on (`map-reserved on`, `hyp-own on`).',
  'reservedDecl:from': 'Where the region comes from: `rmrr`, `ivmd` (firmware tables Xen reads), `linux-quirk` or `iort-rmr` (Linux only).',
  'regionTarget:group': 'Every device of IOMMU group N. `group NUMBER`',
  'reservedDecl:for':
    'The devices the region applies to: devices, every device behind an IOMMU, `group N` (without `for`: every device of the platform).',
  'guestBody:ram': 'A guest-physical RAM range that QEMU maps for DMA (the explicit alternative to `machine`). `ram NAME RANGE`',
};

const docsCache = new WeakMap<readonly DomainParts[], Required<KeywordDocs>>();

/** The core's keyword docs and every domain's, as one table (a test keeps it in step with ALL_KEYWORDS). */
export function keywordDocs(domains: readonly DomainParts[]): Required<KeywordDocs> {
  let all = docsCache.get(domains);
  if (!all) {
    const parts = domains.flatMap((d) => (d.ide?.keywords ? [d.ide.keywords] : []));
    all = {
      docs: Object.assign({}, KEYWORD_DOCS, ...parts.map((k) => k.docs)) as Record<string, string>,
      senses: Object.assign({}, SENSES, ...parts.map((k) => k.senses ?? {})) as Record<string, string>,
      enumTitles: Object.assign({}, ENUM_TITLES, ...parts.map((k) => k.enumTitles ?? {})) as Record<string, string>,
      statementNouns: Object.assign({}, ...parts.map((k) => k.statementNouns ?? {})) as Record<string, string>,
    };
    docsCache.set(domains, all);
  }
  return all;
}

/** The documentation of a keyword where it stands: an enumeration value, in a rule, in a block. */
export function keywordDoc(
  domains: readonly DomainParts[],
  word: string,
  where: { enumName?: string; rule?: string; block?: string } = {},
): string | undefined {
  const { docs, senses } = keywordDocs(domains);
  for (const context of [where.enumName, where.rule, where.block]) {
    const sense = context ? senses[`${context}:${word}`] : undefined;
    if (sense) return sense;
  }
  return docs[word];
}

/** What the core's enumerations' values are, for a completion's detail (the domains' in their keyword docs). */
const ENUM_TITLES: Readonly<Record<string, string>> = {
  architecture: 'architecture',
  iommuKind: 'IOMMU kind',
  msiMode: 'MSI handling',
  regionType: 'reserved-region type',
  assignMode: 'assignment mode',
  machineType: 'QEMU machine type',
  cpuVendor: 'CPU vendor',
  accelKind: 'QEMU accelerator',
  containerKind: 'VFIO interface',
  onOff: 'setting',
  regionOrigin: 'region source',
};

/** Device classes the simulator treats differently (`class WORD`). */
export const DEVICE_CLASS_DOCS: Readonly<Record<string, string>> = {
  bridge: 'A PCI bridge: it may stay in a group whose other devices are assigned (no `group-partly-assigned`).',
  usb: 'A USB controller: its VT-d RMRRs are direct-relaxable rather than direct (RULES §1.5).',
  graphics: 'A graphics device: its VT-d RMRRs are direct-relaxable rather than direct (RULES §1.5).',
};
