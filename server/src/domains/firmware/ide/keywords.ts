/**
 * The documentation of the keywords of firmware, drivers, maps and ExitBootServices handlers, for
 * completion (ide/keywordDocs.ts keeps the core's).
 */
import type { KeywordDocs } from '../../../ide/contribution';

export const FIRMWARE_KEYWORDS: KeywordDocs = {
  enumTitles: { dmaOperation: 'PciIo operation', bufferSource: 'buffer allocation', tplLevel: 'task priority level' },
  docs: {
    firmware:
      "The UEFI firmware (OVMF / EDK II) of a guest: drivers' DMA mappings and what runs " +
      'at ExitBootServices (RULES §7). `firmware NAME for GUEST { ... }`',
    driver:
      'A UEFI driver bound to a device of the guest, with its PciIo.Map() calls and notify functions. `driver NAME for DEVICE { ... }`',
    map:
      'One PciIo.Map() call of the driver: `map NAME OPERATION [at ADDRESS] [size ' +
      'SIZE] [pending | completed] [from SOURCE]` (RULES §7.1–7.4).',
    on: 'Names what the declaration is placed on: the platform of a guest or Xen host, the IOMMU of a VINTF.',
    'iommu-protocol': 'The handlers of the IOMMU driver itself (IoMmuDxe), outside any device driver.',
    'stop-dma': "The driver stops the device's DMA; it must do so by the end of its ExitBootServices handler (RULES §7.6).",
    unmap: 'PciIo.Unmap() of a `map` of this driver.',
    'unmap-all':
      'The IOMMU driver unmaps (re-encrypts) every mapping still present; `unmap-all ' +
      'deferred` does it from a later event, after the other handlers (RULES §7.5).',
    signal: 'Signals the `on event NAME` handler of this firmware, so it runs after the handlers already queued at its TPL.',
    call:
      'Calls another boot service (e.g. `call AllocatePool`), which the UEFI ' +
      'specification does not permit from an ExitBootServices handler (RULES §7.5).',
    tpl: 'The task priority level of the notify function: `notify` runs before `callback` (RULES §7.5).',
    event: 'A handler of a custom event, run when an action `signal NAME` signals it. `on event NAME tpl LEVEL`',
    'bus-master-read': 'EfiPciIoOperationBusMasterRead: the device reads through a separate bounce buffer that Unmap frees (RULES §7.1).',
    'bus-master-write':
      'EfiPciIoOperationBusMasterWrite: the device writes through a separate bounce buffer that Unmap frees (RULES §7.1).',
    'common-buffer':
      'EfiPciIoOperationBusMasterCommonBuffer: decrypted in place, must come from ' +
      'AllocateBuffer; needed for pending DMA (RULES §7.2, §7.4).',
    'bus-master-read64': 'BusMasterRead with 64-bit addressing (bounce buffer, any address).',
    'bus-master-write64': 'BusMasterWrite with 64-bit addressing (bounce buffer, any address).',
    'common-buffer64': 'BusMasterCommonBuffer with 64-bit addressing (decrypted in place, from AllocateBuffer).',
    pending:
      'The device still owns the buffer when the call returns (a ring, a receive ' +
      'buffer): the mapping is live at ExitBootServices (RULES §7.4).',
    completed: 'Map, DMA and Unmap all happen inside the call (a blocking PassThru()): nothing is left at ExitBootServices.',
    'allocate-buffer': 'The buffer came from PciIo.AllocateBuffer(), as CommonBuffer needs (RULES §7.2).',
    'allocate-pool': 'The buffer came from AllocatePool(); not valid for CommonBuffer (RULES §7.2).',
    'allocate-pages': 'The buffer came from AllocatePages(); not valid for CommonBuffer (RULES §7.2).',
    'exit-boot-services': 'A notify function of the ExitBootServices event group.',
    'before-exit-boot-services':
      'A notify function of EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES (UEFI 2.9): it runs, with what it ' +
      'signals, before the memory map is locked and before every ExitBootServices handler, so it may ' +
      'stop DMA and Unmap(). EDK II signals the group since edk2-stable202302.',
    edk2:
      'The EDK II release the firmware is built from, e.g. `edk2 edk2-stable202411`: rules that changed between releases ' +
      'follow it (RULES §0.2); without it the newest behaviour the tool knows applies. `edk2 RELEASE`',
    notify: 'TPL_NOTIFY: these handlers all run before the TPL_CALLBACK ones.',
    callback: 'TPL_CALLBACK: these handlers run after all TPL_NOTIFY ones, in an unspecified order.',
    deferred:
      'Unmap everything from a second event signalled by this handler, after the other ' +
      'ExitBootServices handlers: the fix merged in EDK II (RULES §7.5).',
  },
  // Where a keyword means something else, keyed `CONTEXT:word` (an enumeration, a rule or a block).
  senses: {
    'handlerStmt:on': 'A notify function: `on exit-boot-services | event NAME tpl notify | callback [ACTION | { ACTIONS }]` (RULES §7.5).',
    'action:free': "Frees that map's buffer (FreeBuffer / FreePages); the memory map must not change during ExitBootServices.",
    'mapOption:size': 'The size of the mapped buffer: `size SIZE`.',
    'mapOption:from': 'How the buffer was allocated: `from allocate-buffer | allocate-pool | allocate-pages` (RULES §7.2).',
    'firmwareDecl:for': 'The guest this firmware boots.',
    'driverDecl:for': 'The device of the guest the driver is bound to.',
  },
};
