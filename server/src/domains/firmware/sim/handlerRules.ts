/**
 * What notify functions do that needs no order of them (RULES §7.2, §7.4, §7.5, §7.7): memory
 * services at ExitBootServices, a driver's own Unmap() there, BeforeExitBootServices handlers on
 * releases that never signal them or signal them on every retry, and pending bounce-buffered DMA.
 */
import type { FwAction, FwMapping } from '../model/types';
import { releaseName, since } from '../../../model/versions';
import { finding } from '../codes';
import { BEFORE_EBS_ONCE, BEFORE_EBS_SINCE, slotLabel, type EbsSlot, type FwCheck } from './notifyFunctions';
import { EFI_OPERATION, isCommonBuffer } from './pciIo';

/** The boot services that allocate or free memory (AllocatePool, FreePages, ...). */
const MEMORY_SERVICES = /^(?:AllocatePool|FreePool|AllocatePages|FreePages|AllocateBuffer|FreeBuffer)$/;

/**
 * Boot services other than the memory ones that deserve a word in a notify function. The
 * rest are used there upstream and are no finding: XhcExitBootService cancels its timer with
 * SetTimer(), IoMmuExitBoot calls SignalEvent() (RULES §7.5).
 */
const SERVICE_NOTES: Partial<Record<string, string>> = {
  CloseEvent:
    "edk2's CoreCloseEvent() ends in CoreFreePool (Event), so this frees memory indirectly; " +
    'upstream XhcExitBootService does the same and nothing fails (RULES §7.5)',
  WaitForEvent:
    'it returns EFI_UNSUPPORTED above TPL_APPLICATION (CoreWaitForEvent), and the timer is stopped before the event group ' +
    'is signalled: a notify function "should not depend on timer events" (UEFI CreateEvent) (RULES §7.5)',
};

/** What a BusMasterRead/Write Unmap() does with its bounce buffer, for a message (IoMmuUnmapWorker, IoMmuFreeBounceBuffer). */
function bounceRelease(c: FwCheck, m: FwMapping): string {
  if (!m.operation || isCommonBuffer(m.operation)) return '';
  const use = c.sharedPool.get(m);
  if (use?.slot !== undefined)
    return ` and zeroes its bounce buffer and returns the pool slot, with no re-encryption and no FreePages() (${use.why})`;
  return ` and zeroes, re-encrypts and frees its bounce buffer with FreePages()${use ? ` (${use.why})` : ''}`;
}

/**
 * `free`, a driver's Unmap() (which frees) and the memory services, in any notify function
 * that runs. UEFI forbids only the Memory Allocation Services there (CreateEvent,
 * EVT_SIGNAL_EXIT_BOOT_SERVICES; Module Writer's Guide 8.7); edk2 neither refuses nor
 * fails them (CoreTerminateMemoryMap locks nothing), so they are warnings (RULES §0.1).
 */
export function handlerRules(c: FwCheck, s: EbsSlot, a: FwAction): void {
  const { uri, out, confidential, loc } = c;
  const where = slotLabel(s);
  const rule =
    'an ExitBootServices notify function "is not allowed to use the Memory Allocation Services ... because these ' +
    'services modify the current memory map" (UEFI CreateEvent, EVT_SIGNAL_EXIT_BOOT_SERVICES)';
  if (a.verb === 'free' && a.mapping) {
    out.push(finding('fw-free-in-handler', { uri, span: a.node.span }, `${where} frees ${a.mapping.sym.name}: ${rule} (RULES §7.5)`));
  } else if (a.verb === 'unmap' && a.mapping?.operation && s.driver && confidential) {
    // IoMmuUnmap() is IoMmuUnmapWorker(MemoryMapLocked=FALSE): FreePool(MAP_INFO) for every operation.
    const m = a.mapping;
    const op = m.operation!;
    const bounce = bounceRelease(c, m);
    out.push(
      finding(
        'fw-free-in-handler',
        { uri, span: a.node.span },
        `Unmap() of ${m.sym.name} (${EFI_OPERATION[op]}) in ${where} calls FreePool() on its MAP_INFO${bounce} ` +
          '(IoMmuUnmap -> IoMmuUnmapWorker(MemoryMapLocked=FALSE)): ' +
          `${rule}. Since edk2 9ed745b967 (every release with IoMmuDxe) "device drivers are no longer expected to call Unmap() in their ` +
          ('ExitBootServices() notification functions": stop the device and leave the ' +
            "mapping to IoMmuDxe's deferred unmap-all (RULES §7.2, §7.5)"),
        { related: [loc(m.stmt.span, `${m.sym.name} is mapped ${EFI_OPERATION[op]} here`)] },
      ),
    );
  } else if (a.verb === 'call') {
    const service = a.node.service?.text ?? '';
    const memory = MEMORY_SERVICES.test(service);
    const note = memory
      ? `${service}() is a Memory Allocation Service: ${rule}${
          service.startsWith('Allocate') ? '; the memory it hands out may be memory the OS already counts as free' : ''
        } (RULES §7.5)`
      : SERVICE_NOTES[service];
    if (!note) return;
    out.push(
      finding('fw-boot-service-in-handler', { uri, span: a.node.span }, `${where} calls ${service}(): ${note}`, {
        severity: memory ? 'warning' : 'information',
      }),
    );
  }
}

/** BeforeExitBootServices handlers on an EDK II that never signals the group. */
export function beforeUnsupported(c: FwCheck): void {
  const { fw, uri, out, loc, head } = c;
  for (const h of fw.handlers) {
    if (!('before' in h.event)) continue;
    out.push(
      finding(
        'fw-before-ebs-unsupported',
        { uri, span: head(h) },
        `${fw.sym.name} is ${releaseName('edk2', fw.edk2!)}: EDK II signals ` +
          `EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES only ${since('edk2', BEFORE_EBS_SINCE)} ` +
          '(CoreExitBootServices, 9d70d8f20d), so this handler never runs and what it does is not done (RULES §7.7)',
        { related: fw.edk2Stmt ? [loc(fw.edk2Stmt.span, `the release is named here`)] : [] },
      ),
    );
  }
}

/**
 * edk2-stable202302 to edk2-stable202411 signal the BeforeExitBootServices group on every
 * ExitBootServices() call. A change to the memory map there (allowed: the map is not locked yet)
 * makes the loader's MapKey stale, so the first call fails with EFI_INVALID_PARAMETER; the loader
 * reads the map again and retries (Linux's efi_exit_boot_services does), and every handler runs a
 * second time. Whether a FreePool() releases a page is not in the description, so a warning: it
 * takes a map change, the loader's retry and a release before edk2-stable202502 (RULES §0.1).
 */
export function beforeResignalled(c: FwCheck): void {
  const { fw, uri, out, loc, head } = c;
  for (const h of fw.handlers) {
    if (!('before' in h.event)) continue;
    for (const a of h.actions) {
      const again = secondRun(c, a);
      if (!again) continue;
      out.push(
        finding(
          'fw-before-ebs-resignal',
          { uri, span: a.node.span },
          `${again[0]}, which can change the memory map (freeing or allocating pages does). Any change in these handlers makes an OS ` +
            `loader's MapKey stale: its first ExitBootServices() fails (EFI_INVALID_PARAMETER) and it calls again (Linux's ` +
            `efi_exit_boot_services retries once). ${releaseName('edk2', fw.edk2!)} ` +
            ('signals EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES on every call ' +
              `(CoreExitBootServices; only once ${since('edk2', BEFORE_EBS_ONCE)}, `) +
            `e8668d2dee, as UEFI 2.10 errata A requires), so this handler runs twice: ${again[1]} (RULES §7.7)`,
          {
            related: [
              loc(head(h), 'the BeforeExitBootServices handler'),
              ...(fw.edk2Stmt ? [loc(fw.edk2Stmt.span, 'the release is named here')] : []),
            ],
          },
        ),
      );
    }
  }
}

/** What an action in a BeforeExitBootServices handler does to the memory map, and what its second run does. */
function secondRun(c: FwCheck, a: FwAction): [string, string] | undefined {
  const { confidential } = c;
  const m = a.mapping;
  if (a.verb === 'free' && m) return [`this frees ${m.sym.name}`, 'the second run frees it again'];
  // A driver's Unmap() through IoMmuDxe frees its MAP_INFO (IoMmuUnmapWorker, MemoryMapLocked=FALSE).
  if (a.verb === 'unmap' && m?.operation && confidential)
    return [`Unmap() of ${m.sym.name} frees its MAP_INFO`, `its second Unmap() hands IoMmuDxe the MAP_INFO the first one freed`];
  const service = a.verb === 'call' ? (a.node.service?.text ?? '') : '';
  if (MEMORY_SERVICES.test(service))
    return [
      `${service}() here`,
      service.startsWith('Free')
        ? `the second run frees the same memory again`
        : `the second run allocates again and the first block leaks`,
    ];
  return undefined;
}

/**
 * A BusMasterRead/Write mapping with DMA pending at ExitBootServices is upstream's own design
 * (VirtioNetDxe's TX packets); it matters only when a driver's Unmap() of it runs there (and
 * frees) or when no IOMMU cleanup reaches it (RULES §7.4).
 */
export function pendingBusMaster(c: FwCheck, m: FwMapping, early: readonly boolean[]): void {
  const { uri, out, run, loc } = c;
  const op = EFI_OPERATION[m.operation!];
  const upstream =
    'upstream VirtioNetDxe keeps TX packets mapped ' +
    `${op === 'BusMasterRead' ? op : 'BusMasterRead'} and only resets the device at ExitBootServices ` +
    ("(VirtioNetMapTxBuf, VirtioNetExitBoot), and IoMmuDxe's deferred unmap-all " +
      'cleans up without freeing (IoMmuUnmapAllMappings, edk2 7aee391fa3)');
  const unmaps = (run.unmappers.get(m) ?? []).filter((s) => s.driver && !early[s.index]);
  if (unmaps.length) {
    const related = unmaps.flatMap((s) =>
      s.actions
        .filter((a) => a.verb === 'unmap' && a.mapping === m)
        .map((a) => loc(a.node.span, `${slotLabel(s)} unmaps ${m.sym.name} here`)),
    );
    out.push(
      finding(
        'fw-pending-bus-master',
        { uri, span: m.stmt.operation!.span },
        `${m.sym.name} is ${op} with DMA pending at ExitBootServices, and a notify function of ${m.driver.sym.name} unmaps it there, ` +
          `which frees (fw-free-in-handler). Leave it mapped: ${upstream} (RULES §7.4)`,
        { severity: 'warning', related },
      ),
    );
  } else if (!run.unmapAll.length) {
    out.push(
      finding(
        'fw-pending-bus-master',
        { uri, span: m.stmt.operation!.span },
        `${m.sym.name} is ${op} with DMA pending at ExitBootServices and no IOMMU unmap-all runs, so its bounce buffer stays shared ` +
          `(see fw-mapping-left). That is the missing cleanup, not the operation: ${upstream} (RULES §7.3, §7.4)`,
        { severity: 'information' },
      ),
    );
  }
}
