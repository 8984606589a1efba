/** Firmware DMA at ExitBootServices: the finding codes this domain raises (sim/pciIo.ts and sim/exitBootServices.ts). */
import { findingBuilder, type CodeTable } from '../../model/findings';

export const FIRMWARE_CODES = {
  'fw-misplaced-action': { severity: 'error', summary: "An action the handler's owner cannot take (stop-dma in the IOMMU protocol)." },
  'fw-mapping-left': {
    severity: 'error',
    summary: 'A mapping still present after ExitBootServices: its memory stays shared (decrypted) with the host.',
    sources: [
      { where: 'edk2 OvmfPkg/IoMmuDxe/IoMmuDxe.c, IoMmuDxeEntryPoint: the IOMMU protocol only under SEV or TDX' },
      {
        where: 'edk2 OvmfPkg/IoMmuDxe/CcIoMmu.c, IoMmuUnmapAllMappings (7aee391fa3)',
        versions: 'every release with IoMmuDxe, edk2-stable201808 on',
      },
    ],
  },
  'fw-pending-bus-master': {
    severity: 'warning',
    summary: 'BusMasterRead/Write with DMA pending at ExitBootServices that a driver unmaps there, or that no IOMMU cleanup reaches.',
    sources: [
      { where: 'edk2 OvmfPkg/VirtioNetDxe/SnpSharedHelpers.c, VirtioNetMapTxBuf; Events.c, VirtioNetExitBoot (bd114d9f77)' },
      {
        where: 'edk2 OvmfPkg/IoMmuDxe/CcIoMmu.c, IoMmuUnmapAllMappings (7aee391fa3)',
        versions: 'every release with IoMmuDxe, edk2-stable201808 on',
      },
    ],
  },
  'fw-teardown-before-stop': {
    severity: 'error',
    summary: 'A mapping torn down while its device may still do DMA into it: IOMMU fault.',
    sources: [
      { where: 'UEFI specification, CreateEvent and SignalEvent: TPL order, unspecified within a TPL' },
      { where: 'edk2 MdeModulePkg/Core/Dxe/Event/Event.c, CoreSignalEvent and CoreDispatchEventNotifies' },
      {
        where: 'edk2 OvmfPkg/IoMmuDxe/CcIoMmu.c, InstallIoMmuProtocol and IoMmuExitBoot: the second event at TPL_CALLBACK (7aee391fa3)',
        versions: 'every release with IoMmuDxe, edk2-stable201808 on',
      },
    ],
  },
  'fw-dma-after-handler': {
    severity: 'error',
    summary: "A device still doing DMA when its driver's ExitBootServices handler has returned (warning if a later one stops it).",
    sources: [
      { where: "UEFI Driver Writer's Guide 25.2.1: the EBS handler must disable all further DMA activity (network controllers)" },
      { where: "EDK II Module Writer's Guide 8.7: controllers in a quiescent state" },
    ],
  },
  'fw-before-ebs-unsupported': {
    severity: 'error',
    summary: 'A BeforeExitBootServices handler on an EDK II release that never signals that event group (before edk2-stable202302).',
    sources: [
      {
        where: 'edk2 MdeModulePkg/Core/Dxe/DxeMain/DxeMain.c, CoreExitBootServices (9d70d8f20d)',
        versions: 'since edk2-stable202302; signalled on every ExitBootServices() retry until edk2-stable202502, e8668d2dee',
      },
    ],
  },
  'fw-before-ebs-resignal': {
    severity: 'warning',
    summary:
      'A BeforeExitBootServices handler that changes the memory map, on an EDK II release that ' +
      'signals the group again when the loader retries ExitBootServices().',
    sources: [
      {
        where:
          'edk2 MdeModulePkg/Core/Dxe/DxeMain/DxeMain.c, CoreExitBootServices ' +
          '(e8668d2dee, "Call BeforeExitBootServices event group only once")',
        versions: 'edk2-stable202302 to edk2-stable202411; since edk2-stable202502 the group is signalled once',
      },
      {
        where:
          'UEFI 2.10 errata A, 7.4.6 ExitBootServices: "The events are only signaled ' +
          'once even if ExitBootServices() is called multiple times"',
      },
      {
        where:
          'linux drivers/firmware/efi/libstub, efi_exit_boot_services: on ' +
          'EFI_INVALID_PARAMETER it reads the memory map again and retries once',
      },
    ],
  },
  'fw-double-unmap': {
    severity: 'error',
    summary: 'Unmap() of a mapping that is no longer mapped: a stale Mapping handle.',
    sources: [
      { where: 'edk2 OvmfPkg/IoMmuDxe/CcIoMmu.c, IoMmuUnmapWorker', versions: 'every release with IoMmuDxe, edk2-stable201808 on' },
    ],
  },
  'fw-free-in-handler': {
    severity: 'warning',
    summary: "Memory freed inside an ExitBootServices notify function, a driver's Unmap() included (it frees its MAP_INFO).",
    sources: [
      { where: 'UEFI specification, CreateEvent with EVT_SIGNAL_EXIT_BOOT_SERVICES: not allowed to use the Memory Allocation Services' },
      {
        where: 'edk2 OvmfPkg/IoMmuDxe/CcIoMmu.c, IoMmuUnmap: IoMmuUnmapWorker (MemoryMapLocked = FALSE) frees MAP_INFO (9ed745b967)',
        versions:
          'every release with IoMmuDxe, edk2-stable201808 on; the reserved pool of ' +
          'edk2-stable202302 spares the pages, not FreePool (MapInfo)',
      },
    ],
  },
  'fw-boot-service-in-handler': {
    severity: 'warning',
    summary: 'A Memory Allocation Service (or a service that needs timers) called from an ExitBootServices notify function.',
    sources: [
      { where: 'UEFI specification, CreateEvent with EVT_SIGNAL_EXIT_BOOT_SERVICES: not allowed to use the Memory Allocation Services' },
      { where: 'edk2 MdeModulePkg/Bus/Pci/XhciDxe/Xhci.c, XhcExitBootService: SetTimer and CloseEvent in an EBS handler' },
      { where: 'edk2 MdeModulePkg/Core/Dxe/Event/Event.c, CoreCloseEvent and CoreWaitForEvent' },
    ],
  },
  'fw-common-buffer-source': {
    severity: 'error',
    summary: 'A CommonBuffer mapping of memory that did not come from AllocateBuffer().',
    sources: [
      {
        where: 'edk2 OvmfPkg/IoMmuDxe/CcIoMmu.c, IoMmuMap: ASSERT on COMMON_BUFFER_SIG',
        versions: 'every release with IoMmuDxe, edk2-stable201808 on',
      },
    ],
  },
  'fw-32bit-above-4g': {
    severity: 'error',
    summary: 'A CommonBuffer mapping above 4 GiB (64-bit ones too on OVMF x86, whose root bridges clear 64-bit DMA): EFI_UNSUPPORTED.',
    sources: [
      {
        where: 'edk2 OvmfPkg/IoMmuDxe/CcIoMmu.c, IoMmuMap: CommonBuffer above 4 GiB is EFI_UNSUPPORTED',
        versions: 'every release with IoMmuDxe, edk2-stable201808 on',
      },
      {
        where:
          'edk2 MdeModulePkg/Bus/Pci/PciHostBridgeDxe/PciRootBridgeIo.c, ' +
          'RootBridgeIoMap: Clear 64bit support when DmaAbove4G is FALSE (c15da8eb35)',
      },
    ],
  },
  'fw-orders-truncated': {
    severity: 'information',
    summary: 'Too many handler orders to explore them all; the verdicts cover the orders explored.',
  },
} as const satisfies CodeTable;

/** Builds a finding of one of these codes with the code's default severity. */
export const finding = findingBuilder(FIRMWARE_CODES);
