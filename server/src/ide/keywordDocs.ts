/**
 * One-line documentation of the language's words, drawn from docs/language.md and
 * docs/diagnostics.md: every keyword in its usual sense and in the places where it means
 * something else, the names of the enumerations, and device classes. The domains' own
 * vocabulary (config-space bits, SMMU operand fields, boot services) is in their folders.
 * Completion shows these; hover can use the same table.
 */
import type { EnumName } from '@iommu-lens/grammar';
import type { RegionType } from '../model';

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

/** Every keyword in its most common sense (a test keeps this in step with ALL_KEYWORDS). */
export const KEYWORD_DOCS: Readonly<Record<string, string>> = {
  // declarations
  platform:
    'A physical host as its kernel sees it: architecture, IOMMUs, memory, reserved regions and PCI devices. `platform NAME { ... }`',
  guest: 'A virtual machine (QEMU) on a platform and the devices assigned to it. `guest NAME on PLATFORM { ... }`',
  timeline:
    'Steps applied in order from a world where no guest runs: start, migrate, hot-plug, config writes, TDISP messages, ... `timeline NAME { ... }`',
  pool: 'Hosts a guest may be migrated between; every host must accept its memory map (RULES §4). `pool NAME { PLATFORM, ... }`',
  firmware:
    "The UEFI firmware (OVMF / EDK II) of a guest: drivers' DMA mappings and what runs at ExitBootServices (RULES §7). `firmware NAME for GUEST { ... }`",
  xen: 'A Xen hypervisor on a host, with dom0 and guest domains (RULES §8). `xen NAME on PLATFORM { ... }`',
  vintf:
    "An SMMUv3 CMDQV virtual interface (RULES §9): given to a guest as an iommufd vIOMMU, or without `for` the host kernel's VINTF0. `vintf NAME on IOMMU [for GUEST] { ... }`",
  commands: 'The SMMU command batches a guest issues through a VINTF. `commands VINTF { batch { ... } }`',
  // platform and iommu
  arch: 'The host CPU architecture: `x86_64` (VT-d or AMD-Vi, the 0xfee00000 MSI window) or `arm64` (SMMUv3, MSIs through the GIC ITS).',
  kernel:
    "The host's Linux release, e.g. `kernel 6.6`: rules that changed between releases follow it (RULES §0.2); without it the newest behaviour the tool knows applies. `kernel RELEASE`",
  iommu: 'One IOMMU unit of the host and its kind. `iommu NAME vt-d | amd-vi | smmuv3 | virtio-iommu [ { ... } ]`',
  ram: "A named memory range: host memory in a platform, guest-physical RAM in a guest, a domain's memory in Xen. `ram NAME RANGE`",
  reserved:
    'An IOMMU reserved region as /sys/kernel/iommu_groups/N/reserved_regions lists it. `reserved NAME TYPE RANGE [for TARGET, ...]`',
  device: 'One PCI function of the host: its BDF, IOMMU, group, TDISP capability. `device NAME { ... }`',
  'address-width': 'Input address bits of the IOMMU (1 to 64): the IOVA aperture is 0 .. 2^BITS-1; 48 when not given (RULES §2.1–2.2).',
  msi: 'How MSIs reach the interrupt controller: `msi remapped` (translated by the IOMMU, needs a sw-msi window) or `msi bypass` (a hardware msi region).',
  cmdqv:
    'The SMMU has an NVIDIA Tegra241 CMDQV: `cmdqv [vintfs COUNT] [sids-per-vintf COUNT] [vcmdqs COUNT]`, powers of two (RULES §9.3, §9.7).',
  'page-sizes': 'The page sizes the IOMMU supports; a VFIO MAP_DMA must be aligned to the smallest, or it fails with -EINVAL (RULES §2.5).',
  ioapic: "An IO-APIC's 4 KiB register page (x86): Xen keeps it out of dom0's IOMMU map (RULES §8.2). `ioapic ADDRESS`",
  mmcfg: "A PCIe ECAM (MMCONFIG) window: Xen keeps it out of dom0's IOMMU map (RULES §8.2). `mmcfg RANGE`",
  // device
  bdf: 'The PCI address of the function, as `lspci -D` prints it: `SSSS:BB:DD.F` (the segment may be left out).',
  group:
    'The IOMMU group (/sys/kernel/iommu_groups/N). Devices with the same number are assigned together; without it a device is alone in its group.',
  tdisp: 'The function supports PCIe TDISP: a TDI the TSM can lock and start for a confidential VM (RULES §5).',
  quirk: 'Known device misbehaviours the simulator models, e.g. `bme-zero-write-clears` (RULES §5.5).',
  'vf-of':
    'The function is an SR-IOV virtual function of that physical function: a PF reset reaches its VFs, and VFs have no INTx (RULES §5.3, §5.5).',
  class:
    'The device class (`usb`, `graphics`, `bridge`, ...): USB and graphics RMRRs are direct-relaxable; a bridge may stay in a partly assigned group.',
  // guest
  assign:
    'Assign a device to the guest with VFIO when it starts: its whole group is attached and guest RAM mapped (RULES §2, §3.5). `assign DEVICE [as MODE] [dma-window RANGE]`',
  machine: "Let IOMMU Lens compute QEMU's guest RAM map: `machine q35 | i440fx | virt [memory SIZE] [cpu amd|intel] ...` (RULES §3).",
  'msi-window':
    'Has no effect (kept so older files parse): MSI windows are where the IOMMU drivers put them, the SMMU sw-msi at the fixed MSI_IOVA_BASE 0x8000000 (RULES §1.5, §4). Seed 002 proposed a movable doorbell; it was not merged. `msi-window RANGE`',
  confidential: 'An AMD SEV-SNP or Intel TDX guest: `confidential sev-snp | tdx [ { vtom ADDRESS } ]` (RULES §6).',
  viommu: 'A virtual IOMMU shown to the guest: `viommu NAME KIND [via VINTF] [stage2]` (RULES §9.4–9.5).',
  container: 'The host interface QEMU uses: the VFIO `type1` container (the default) or `iommufd`.',
  vtom: 'The virtual top of memory for device DMA: guest addresses below it are private, at or above it shared (AMD APM vol. 2 §15.36.8; RULES §6.1).',
  // timeline steps
  start: 'Start the guest on its platform: its memory map is fixed, its assigned devices realized (RULES §2, §3.5). `start GUEST`',
  stop: 'Stop the guest; its devices are released. `stop GUEST`',
  migrate:
    'Live-migrate the guest to another platform: the memory map stays, the devices move by name (RULES §4). `migrate GUEST to PLATFORM`',
  hotplug:
    "Hot-add a device to a running guest (device_add); fails when its group's regions overlap guest RAM (RULES §3.5). `hotplug DEVICE into GUEST [as MODE]`",
  unplug: 'Hot-remove a device from its guest. `unplug DEVICE [from GUEST]`',
  config:
    'One write to the configuration space of a device: `config DEVICE command BITS | devctl BITS | bar N [VALUE] | flr | ...` (RULES §5.3).',
  'launch-update':
    'SNP_LAUNCH_UPDATE of the guest: fails with -EEXIST when a device realized `private` pinned its memory first (RULES §6.3). `launch-update GUEST`',
  convert:
    "The guest switches a device's DMA between private and shared memory; only a `bind-capable` device can (RULES §6.4). `convert DEVICE to private | shared`",
  power:
    'A power-state change of a device; D3hot and D3cold lose its state and take a locked TDI to ERROR. `power DEVICE D0 | D1 | D2 | D3hot | D3cold`',
  link: 'The PCIe link of a device goes up or down; down tears down the IDE stream of every function behind it. `link DEVICE up | down`',
  balloon: 'A guest or Xen domain gives memory back (all of it, or the range given) (RULES §8.5). `balloon TARGET [RANGE]`',
  free: 'A guest or Xen domain frees that memory; an IOMMU map Xen does not maintain keeps stale mappings (RULES §8.5). `free TARGET RANGE`',
  // firmware
  driver: 'A UEFI driver bound to a device of the guest, with its PciIo.Map() calls and notify functions. `driver NAME for DEVICE { ... }`',
  map: 'One PciIo.Map() call of the driver: `map NAME OPERATION [at ADDRESS] [size SIZE] [pending | completed] [from SOURCE]` (RULES §7.1–7.4).',
  on: 'Names what the declaration is placed on: the platform of a guest or Xen host, the IOMMU of a VINTF.',
  'iommu-protocol': 'The handlers of the IOMMU driver itself (IoMmuDxe), outside any device driver.',
  'stop-dma': "The driver stops the device's DMA; it must do so by the end of its ExitBootServices handler (RULES §7.6).",
  unmap: 'PciIo.Unmap() of a `map` of this driver.',
  'unmap-all':
    'The IOMMU driver unmaps (re-encrypts) every mapping still present; `unmap-all deferred` does it from a later event, after the other handlers (RULES §7.5).',
  signal: 'Signals the `on event NAME` handler of this firmware, so it runs after the handlers already queued at its TPL.',
  call: 'Calls another boot service (e.g. `call AllocatePool`), which the UEFI specification does not permit from an ExitBootServices handler (RULES §7.5).',
  // xen
  dom0: "Xen's hardware domain: its type, `dom0-iommu=` options and IOMMU map (RULES §8.2).",
  domain: 'A Xen guest domain: its type, passed-through devices, IOMMU map and memory. `domain NAME { ... }`',
  mode: 'The domain type: `pv`, `pvh` or `hvm`.',
  pass: "Devices passed through to the domain, from the `xen` block's platform. `pass DEVICE, ...`",
  'iommu-map':
    "Who keeps the domain's IOMMU map: `host-identity`, `maintained` by Xen, or driven by the domain (`pv-iommu`, `virtual-vtd`) (RULES §8.4).",
  quarantine:
    "`iommu=quarantine=` (global): what a de-assigned device's in-flight DMA hits: `off`, `basic` or `scratch-page` (RULES §8.5).",
  'map-reserved': '`dom0-iommu=map-reserved` (on by default): identity-map reserved regions for dom0.',
  'xen-range': 'Memory Xen keeps for itself (image, heap, stubs): never mapped for dom0. `xen-range RANGE`',
  rdm: "xl's `rdm=`: `rdm [strategy host] [policy strict | relaxed]`, the domain's reserved-device-memory handling (RULES §8.7, §8.8).",
  // cmdqv
  owner:
    'Who uses the VINTF, for the reader: what its queues accept follows HYP_OWN, which the kernel clears for every VINTF of user space (RULES §9.1).',
  stream: "The device's SMMU stream IDs (Arm), the first one first. `iommu IOMMU stream NUMBER, ...`",
  vmid: 'The VMID programmed into the VINTF (0 to 0xffff); it replaces the VMID of every guest command (RULES §9.3).',
  'hyp-own':
    "The VINTF's HYP_OWN bit (on for the host's VINTF0, off for a guest's): it decides what the queues accept; the kernel never sets it for a guest (RULES §9.1).",
  queue: 'An LVCMDQ the VMM allocates (IOMMU_HW_QUEUE_ALLOC), in ascending order. `queue INDEX size BYTES [at ADDRESS]`',
  batch: 'The SMMU commands a guest submits at once; it must end with CMD_SYNC (RULES §9.2, §9.4).',
  // connectives
  size: 'The size form of a range: `START size SIZE` is SIZE bytes from START.',
  for: "Says what the statement is for: a region's devices, a firmware's guest, a driver's device, a VINTF's guest.",
  to: 'The destination: `migrate GUEST to PLATFORM`, `convert DEVICE to MODE`.',
  into: 'The guest a device is hot-added to: `hotplug DEVICE into GUEST`.',
  from: 'The guest a device is removed from: `unplug DEVICE from GUEST`.',
  as: 'The DMA mode of an assigned or hot-added device: `as shared | private | bind-capable` (RULES §6.2).',
  via: 'The CMDQV VINTF accelerating the vIOMMU; its SMMU must be the one behind the assigned devices (RULES §9.5).',
  at: 'Where the mapped buffer is: `at ADDRESS`.',
  tpl: 'The task priority level of the notify function: `notify` runs before `callback` (RULES §7.5).',
  event: 'A handler of a custom event, run when an action `signal NAME` signals it. `on event NAME tpl LEVEL`',
  // arch
  x86_64: 'x86-64 host: Intel VT-d or AMD-Vi IOMMUs, MSIs through the 0xfee00000 interrupt range.',
  arm64: 'Arm64 host: SMMUv3 IOMMUs, MSIs through the GIC ITS.',
  // iommu kinds
  'vt-d':
    'An Intel VT-d DMAR unit; its driver reserves the x86 interrupt range 0xfee00000..0xfeefffff (msi) for every device (RULES §1.5).',
  'amd-vi':
    'An AMD IOMMU; its driver reserves the interrupt range (msi) and the HyperTransport hole 0xfd00000000..0xffffffffff (reserved) (RULES §1.5).',
  smmuv3:
    'An Arm SMMUv3; its driver reserves the software MSI window 0x8000000..0x80fffff (sw-msi, MSI_IOVA_BASE) unless a sw-msi region moves it (RULES §1.5).',
  'virtio-iommu':
    'A paravirtual virtio-iommu; it reserves the sw-msi window 0x8000000..0x80fffff when the device has no msi region (RULES §1.5).',
  // msi handling, cmdqv
  remapped:
    'MSIs are DMA writes the IOMMU translates (Arm: the ITS doorbell behind the SMMU); devices need a sw-msi window mapped to the doorbell (RULES §1.5, §2.3).',
  bypass: "MSIs bypass translation: the doorbell is a hardware msi region, like x86's 0xfee00000..0xfeefffff (RULES §1.5).",
  vintfs: "How many VINTFs (virtual interfaces) the CMDQV has, a power of two; VINTF0 is the host kernel's (RULES §9.7).",
  vcmdqs: 'How many VCMDQs the CMDQV has, a power of two; each VINTF can map `vcmdqs / vintfs` of them as LVCMDQs.',
  'sids-per-vintf': 'How many stream-ID match/replace pairs each VINTF can use, at most 16 (RULES §9.3).',
  // region types
  direct: region('direct'),
  'direct-relaxable': region('direct-relaxable'),
  'sw-msi': region('sw-msi'),
  // assignment modes
  shared: 'The device does DMA to shared memory (the default).',
  private: 'The device does DMA to private memory through a locked TDI; decided when QEMU realizes it (RULES §6.2).',
  'bind-capable': 'The device runs shared until the guest asks to convert it to private (RULES §6.4).',
  'dma-window':
    "Where the device's DMA lands, guest-physical: below vTOM for a private device, at or above for a shared one (RULES §6.1). `dma-window RANGE`",
  // machines
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
    "QEMU's `-cpu` model: a named model (EPYC-Genoa, Skylake-Server, qemu64 the default) has 40 phys-bits unless set; `host` and `max` under KVM take the host's (RULES §3.7).",
  accel: 'The accelerator, `kvm` (the default here) or `tcg`; under TCG every model has 40 phys-bits unless set (RULES §3.7).',
  kvm: 'KVM: `-cpu host` / `max` take the host phys-bits.',
  tcg: 'TCG (emulation): 40 phys-bits unless set.',
  maxmem:
    '`-m ...,maxmem=SIZE`: the device-memory region for hot-plugged DIMMs above RAM; it moves the 64-bit PCI hole and the top of the address space (pc_max_used_gpa).',
  slots: '`-m ...,slots=N`: memory slots; QEMU sizes the device-memory region with 1 GiB more per slot.',
  'host-phys-bits':
    "`host-phys-bits on` (`-cpu MODEL,host-phys-bits=on`, libvirt `<maxphysaddr mode='passthrough'/>`): under KVM the vCPU takes the host's phys-bits whatever its model, so the default of 40 does not apply (RULES §3.7).",
  highmem: 'virt `highmem=off`: the machine is limited to 32-bit addresses; RAM and device memory must end at 4 GiB (RULES §3.8).',
  'dma-entry-limit':
    "vfio_iommu_type1's `dma_entry_limit` module parameter (default 65535): the mappings one type1 container may hold; past it VFIO_IOMMU_MAP_DMA fails with -ENOSPC (Linux 5.1+, RULES §2.7).",
  'ht-range-ignore':
    'The AMD IOMMU reports HTRangeIgnore (EFR2): Linux 6.16 and later do not reserve the HyperTransport hole 0xfd00000000..0xffffffffff for its devices (RULES §1.5).',
  // confidential computing, containers, vIOMMU
  'sev-snp': 'AMD SEV-SNP guest: private memory, vTOM split of device DMA, SEV-TIO for private devices (RULES §6).',
  tdx: 'Intel TDX guest.',
  type1: 'The VFIO type1 container (the default).',
  iommufd:
    'iommufd: reserves regions per device since Linux 6.6 (the whole group list in 6.2-6.5) and rejects a sw-msi together with a hardware msi (RULES §2). In a guest, `iommufd NAME` declares an instance (QEMU `-object iommufd,id=NAME`) and `assign DEVICE ... iommufd NAME` puts a device on it (`iommufd=NAME`); each instance of an SEV-TIO guest is all private or all shared (RULES §6.6).',
  stage2: 'The vIOMMU advertises stage 2 (SMMU IDR0.S2P); without it stage-2 invalidations from the guest are errors (RULES §9.4).',
  // TDISP messages
  lock: 'LOCK_INTERFACE_REQUEST (0x83): CONFIG_UNLOCKED → CONFIG_LOCKED; needs the device in a running confidential guest.',
  report: 'GET_DEVICE_INTERFACE_REPORT (0x84): accepted in CONFIG_LOCKED and RUN, state unchanged.',
  'bind-p2p': 'BIND_P2P_STREAM_REQUEST (0x88): accepted in RUN, state unchanged.',
  'unbind-p2p': 'UNBIND_P2P_STREAM_REQUEST (0x89): accepted in RUN, state unchanged.',
  'set-mmio-attr': 'SET_MMIO_ATTRIBUTE_REQUEST (0x8a): accepted in RUN, state unchanged.',
  // config-space writes
  command:
    'One write of the Command register: the bits listed are set, all others written as 0. Clearing MSE or BME of a locked TDI takes it to ERROR (RULES §5.3).',
  bar: 'A write of BAR N (0 to 5), with the value if it matters; a locked TDI goes to ERROR.',
  flr: "A Function Level Reset: a locked TDI goes to ERROR, and a PF's reset reaches its VFs (RULES §5.3).",
  msix: 'A write to the MSI-X table: a locked TDI goes to ERROR (RULES §5.3).',
  devctl:
    'One write of the PCIe Device Control register; changing EXT-TAG, PHANTOM or NO-SNOOP, or setting FLR, takes a locked TDI to ERROR (RULES §5.3).',
  bist: 'A write of the BIST register: a locked TDI goes to ERROR (RULES §5.3).',
  rom: 'A write of the Expansion ROM base: a locked TDI goes to ERROR (RULES §5.3).',
  'resizable-bar': 'A write to the Resizable BAR capability: a locked TDI goes to ERROR (RULES §5.3).',
  ari: 'A write to the ARI capability: a locked TDI goes to ERROR (RULES §5.3).',
  pasid: 'A write to the PASID capability: a locked TDI goes to ERROR (RULES §5.3).',
  sriov:
    "A write to the SR-IOV capability: a locked TDI goes to ERROR (RULES §5.3). `sriov vf-enable off`, `vf-mse off` or `numvfs N` also take the PF's VFs' locked TDIs to ERROR (RULES §5.6).",
  'vf-enable': "`config PF sriov vf-enable off`: clears VF Enable in the PF's SR-IOV capability, which destroys its VFs (RULES §5.6).",
  'vf-mse': "`config PF sriov vf-mse off`: clears VF MSE in the PF's SR-IOV capability, disabling every VF's memory space (RULES §5.6).",
  numvfs:
    "`config PF sriov numvfs N`: changes NumVFs in the PF's SR-IOV capability (only with VF Enable clear): the VFs go away (RULES §5.6).",
  'page-request': 'A write to the Page Request capability: a locked TDI goes to ERROR (RULES §5.3).',
  multicast: 'A write to the Multicast capability: a locked TDI goes to ERROR (RULES §5.3).',
  intx: "Linux's INTx-masking probe (pci_intx_mask_supported()): harmless alone, but on a VF (no INTx) an avoidable access to a locked TDI (RULES §5.5).",
  // power and link
  D0: 'Power state D0: fully on.',
  D1: 'Power state D1: light sleep; the function keeps its state.',
  D2: 'Power state D2: deeper sleep; the function keeps its state.',
  D3hot: "Power state D3hot: with No_Soft_Reset clear the function loses its state; a locked TDI goes to ERROR, a PF's VFs are reset.",
  D3cold: 'Power state D3cold: power removed; the function loses its state and a locked TDI goes to ERROR.',
  up: 'The PCIe link comes up.',
  down: 'The PCIe link goes down: the IDE stream is torn down and every locked TDI behind the link goes to ERROR.',
  // firmware DMA
  'bus-master-read': 'EfiPciIoOperationBusMasterRead: the device reads through a separate bounce buffer that Unmap frees (RULES §7.1).',
  'bus-master-write': 'EfiPciIoOperationBusMasterWrite: the device writes through a separate bounce buffer that Unmap frees (RULES §7.1).',
  'common-buffer':
    'EfiPciIoOperationBusMasterCommonBuffer: decrypted in place, must come from AllocateBuffer; needed for pending DMA (RULES §7.2, §7.4).',
  'bus-master-read64': 'BusMasterRead with 64-bit addressing (bounce buffer, any address).',
  'bus-master-write64': 'BusMasterWrite with 64-bit addressing (bounce buffer, any address).',
  'common-buffer64': 'BusMasterCommonBuffer with 64-bit addressing (decrypted in place, from AllocateBuffer).',
  pending:
    'The device still owns the buffer when the call returns (a ring, a receive buffer): the mapping is live at ExitBootServices (RULES §7.4).',
  completed: 'Map, DMA and Unmap all happen inside the call (a blocking PassThru()): nothing is left at ExitBootServices.',
  'allocate-buffer': 'The buffer came from PciIo.AllocateBuffer(), as CommonBuffer needs (RULES §7.2).',
  'allocate-pool': 'The buffer came from AllocatePool(); not valid for CommonBuffer (RULES §7.2).',
  'allocate-pages': 'The buffer came from AllocatePages(); not valid for CommonBuffer (RULES §7.2).',
  'exit-boot-services': 'A notify function of the ExitBootServices event group.',
  'before-exit-boot-services':
    'A notify function of EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES (UEFI 2.9): it runs, with what it signals, before the memory map is locked and before every ExitBootServices handler, so it may stop DMA and Unmap(). EDK II signals the group since edk2-stable202302.',
  edk2: 'The EDK II release the firmware is built from, e.g. `edk2 edk2-stable202411`: rules that changed between releases follow it (RULES §0.2); without it the newest behaviour the tool knows applies. `edk2 RELEASE`',
  notify: 'TPL_NOTIFY: these handlers all run before the TPL_CALLBACK ones.',
  callback: 'TPL_CALLBACK: these handlers run after all TPL_NOTIFY ones, in an unspecified order.',
  deferred:
    'Unmap everything from a second event signalled by this handler, after the other ExitBootServices handlers: the fix merged in EDK II (RULES §7.5).',
  // xen
  pv: 'A paravirtualised domain.',
  pvh: 'A PVH domain; a PVH dom0 is always strict: Xen ignores `relaxed` and `passthrough` (check_hwdom_reqs).',
  hvm: 'A fully virtualised (HVM) domain.',
  strict: '`dom0-iommu=strict`: dom0 gets only the mappings of its own memory (forced for a PVH dom0; beats `passthrough`).',
  passthrough: "`dom0-iommu=passthrough`: dom0's devices bypass the IOMMU (PV dom0 only).",
  relaxed:
    "The default non-strict dom0 mode: all E820 RAM identity-mapped except the interrupt range, IO-APIC pages, MMCFG and Xen's ranges (RULES §8.2).",
  off: 'Turns the setting off (`map-reserved off`, `hyp-own off`).',
  'host-identity': 'Xen programs an identity map once and leaves it: a host map, not maintained (RULES §8.4).',
  maintained: "Xen keeps the IOMMU map in sync with the domain's P2M (need_sync) (RULES §8.4).",
  'pv-iommu': 'The domain drives its own mappings through PV-IOMMU hypercalls (RULES §8.4).',
  'virtual-vtd': 'An HVM domain drives its mappings through an emulated VT-d (RULES §8.4).',
  basic: '`iommu=quarantine=basic`: a de-assigned device is parked in dom_io without mappings, so its in-flight DMA faults.',
  'scratch-page':
    "`iommu=quarantine=scratch-page`: a de-assigned device's in-flight DMA lands on a scratch page and goes unnoticed (RULES §8.5).",
  'rdm-policy': "xl's per-device `rdm_policy=` (HVM/x86 only): `strict` (the default) or `relaxed` (RULES §8.7, §8.8).",
  strategy:
    "`strategy host`: libxl reserves every host RDM (RMRR) in the guest's memory map, not only those of `pass` devices (for hotplug).",
  policy: "The domain's default `rdm_policy` for its `pass` devices: `strict` or `relaxed`.",
  rmrr: 'An ACPI DMAR RMRR (VT-d firmware): Linux and Xen both honour it.',
  ivmd: 'An ACPI IVRS IVMD (AMD-Vi firmware unity map): Linux and Xen both honour it.',
  'linux-quirk': 'A region only Linux adds (the ISA-bridge 16 MiB floppy quirk): Xen does not know it (RULES §8.8).',
  'iort-rmr': 'An Arm IORT RMR node: Linux honours it, Xen has no IORT RMR support (RULES §8.8).',
  // cmdqv owners
  host: 'The host kernel uses the VINTF (VINTF0, HYP_OWN = 1 by default): its queues accept any command (RULES §9.1).',
};

/** Keywords that mean something else in one place, keyed `CONTEXT:word` (an enumeration, a rule or a block). */
const SENSES: Readonly<Record<string, string>> = {
  'regionType:reserved': region('reserved'),
  'regionType:msi': region('msi'),
  'tdispMessage:start': 'START_INTERFACE_REQUEST (0x86): CONFIG_LOCKED → RUN.',
  'tdispMessage:stop': 'STOP_INTERFACE_REQUEST (0x87): accepted in every state → CONFIG_UNLOCKED.',
  'deviceIommuStmt:iommu': "The IOMMU that translates the device's DMA; on Arm with its stream ID. `iommu IOMMU [stream NUMBER]`",
  'dom0IommuStmt:iommu': "Xen's `dom0-iommu=` options: `strict`, `passthrough` or `relaxed` (RULES §8.2).",
  'handlerStmt:on': 'A notify function: `on exit-boot-services | event NAME tpl notify | callback [ACTION | { ACTIONS }]` (RULES §7.5).',
  'onOff:on': 'Turns the setting on (`map-reserved on`, `hyp-own on`).',
  'quarantineMode:off': '`iommu=quarantine=false`: a de-assigned device goes straight back to dom0, with no quarantine domain.',
  'xenVersionStmt:xen':
    "The hypervisor's release, e.g. `xen 4.17`: rules that changed between Xen releases follow it (RULES §0.2); without it the newest behaviour the tool knows applies. `xen RELEASE`",
  'xenBody:quarantine':
    "Xen's global `iommu=quarantine=`: what happens to a device de-assigned from a domain, `off`, `basic` or `scratch-page` (RULES §8.5).",
  'domainBody:quarantine':
    'Deprecated here: `iommu=quarantine=` is global; write `quarantine` in the `xen` block. It applies only to de-assigned devices (RULES §8.5).',
  'rdmPolicy:strict': 'rdm_policy=strict (the default): a shared RMRR or an RDM conflict refuses the device or the domain.',
  'rdmPolicy:relaxed':
    'rdm_policy=relaxed: Xen assigns anyway ("It\'s risky to assign ..."); the xl.cfg doc: "may cause the VM to crash if a pass-through device accesses RDM".',
  'rdmStmt:host': 'strategy=host: every host RDM is reserved in the guest map (xl.cfg: "useful when doing hotplug").',
  'reservedDecl:from': 'Where the region comes from: `rmrr`, `ivmd` (firmware tables Xen reads), `linux-quirk` or `iort-rmr` (Linux only).',
  'convertMode:private': 'Convert the device to private DMA: only a bind-capable device whose TDI is in RUN can (RULES §6.4).',
  'convertMode:shared': 'Convert the device back to shared DMA (RULES §6.4).',
  'ownerKind:guest':
    'A guest uses the VINTF (HYP_OWN = 0): its queues accept only TLBI_NH_ASID, TLBI_NH_VA, ATC_INV and CMD_SYNC (RULES §9.2).',
  'action:free': "Frees that map's buffer (FreeBuffer / FreePages); the memory map must not change during ExitBootServices.",
  'tdispStep:tdisp': "The TSM sends a TDISP message to the device's TDI (RULES §5.2). `tdisp DEVICE lock | start | stop | report | ...`",
  'regionTarget:group': 'Every device of IOMMU group N. `group NUMBER`',
  'mapOption:size': 'The size of the mapped buffer: `size SIZE`.',
  'mapOption:from': 'How the buffer was allocated: `from allocate-buffer | allocate-pool | allocate-pages` (RULES §7.2).',
  'reservedDecl:for':
    'The devices the region applies to: devices, every device behind an IOMMU, `group N` (without `for`: every device of the platform).',
  'firmwareDecl:for': 'The guest this firmware boots.',
  'driverDecl:for': 'The device of the guest the driver is bound to.',
  'vintfDecl:for': "The guest the VINTF is given to (as an iommufd vIOMMU); without `for`, the VINTF is the host kernel's VINTF0.",
  'convertStep:to': 'The memory the device should DMA to.',
  'streamStmt:as': 'The virtual stream ID the guest uses for the device.',
  'streamStmt:stream':
    "A SID_MATCH / SID_REPLACE pair: the guest's stream ID stands for the device's physical one (RULES §9.3, §9.5). `stream DEVICE as VIRTUAL-SID`",
  'guestBody:ram': 'A guest-physical RAM range that QEMU maps for DMA (the explicit alternative to `machine`). `ram NAME RANGE`',
  'domainBody:ram': "The domain's memory, which `balloon` and `free` steps change (RULES §8.5). `ram NAME RANGE`",
};

/** The documentation of a keyword where it stands: an enumeration value, in a rule, in a block. */
export function keywordDoc(word: string, where: { enumName?: string; rule?: string; block?: string } = {}): string | undefined {
  for (const context of [where.enumName, where.rule, where.block]) {
    const sense = context ? SENSES[`${context}:${word}`] : undefined;
    if (sense) return sense;
  }
  return KEYWORD_DOCS[word];
}

/** What an enumeration's values are, for a completion's detail. */
export const ENUM_TITLES: Readonly<Record<EnumName, string>> = {
  architecture: 'architecture',
  iommuKind: 'IOMMU kind',
  msiMode: 'MSI handling',
  regionType: 'reserved-region type',
  assignMode: 'assignment mode',
  machineType: 'QEMU machine type',
  cpuVendor: 'CPU vendor',
  accelKind: 'QEMU accelerator',
  confidentialKind: 'confidential-computing technology',
  containerKind: 'VFIO interface',
  tdispMessage: 'TDISP message',
  configSimple: 'config-space write',
  powerState: 'PCI power state',
  linkState: 'link state',
  convertMode: 'DMA mode',
  dmaOperation: 'PciIo operation',
  bufferSource: 'buffer allocation',
  tplLevel: 'task priority level',
  xenMode: 'Xen domain type',
  dom0Iommu: 'dom0-iommu option',
  onOff: 'setting',
  xenMap: 'Xen IOMMU map',
  quarantineMode: 'quarantine mode',
  ownerKind: 'VINTF owner',
  rdmPolicy: 'RDM policy',
  regionOrigin: 'region source',
};

/** Device classes the simulator treats differently (`class WORD`). */
export const DEVICE_CLASS_DOCS: Readonly<Record<string, string>> = {
  bridge: 'A PCI bridge: it may stay in a group whose other devices are assigned (no `group-partly-assigned`).',
  usb: 'A USB controller: its VT-d RMRRs are direct-relaxable rather than direct (RULES §1.5).',
  graphics: 'A graphics device: its VT-d RMRRs are direct-relaxable rather than direct (RULES §1.5).',
};
