/** The firmware domain's vocabulary: the boot services a handler may `call`, for completion. */

/** Boot services a handler may `call`; the memory services change the memory map. */
export const BOOT_SERVICE_DOCS: Readonly<Record<string, string>> = {
  AllocatePool: 'A Memory Allocation Service: it changes the memory map, which ExitBootServices handlers must not do (RULES §7.5).',
  AllocatePages: 'A Memory Allocation Service: it changes the memory map, which ExitBootServices handlers must not do (RULES §7.5).',
  FreePool: 'A Memory Allocation Service: it changes the memory map, which ExitBootServices handlers must not do (RULES §7.5).',
  FreePages: 'A Memory Allocation Service: it changes the memory map, which ExitBootServices handlers must not do (RULES §7.5).',
  Stall: 'A boot service the UEFI specification does not permit from an ExitBootServices handler (RULES §7.5).',
  SetTimer: 'A boot service the UEFI specification does not permit from an ExitBootServices handler (RULES §7.5).',
};
