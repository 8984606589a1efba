/**
 * Hovers on firmware: the order ExitBootServices runs the notify functions in, and for a
 * driver or mapping what happens to it there (RULES §7).
 */
import { formatSize, hex, type Sym } from '../../../model';
import type { Firmware, FwDriver, FwMapping } from '../model/types';
import { EFI_OPERATION, operationMeaning } from '../sim/pciIo';
import { slotLabel, unmappedBy, type EbsSlot, type FirmwareRun } from '../sim/notifyFunctions';
import type { Analysis } from '../../../ide/analysis';
import { sharedPoolUses } from '../sim/sharedPool';
import { resultOf } from '../../../sim';
import { FIRMWARE_ENGINE } from '../engine';

const STATE: Record<FwMapping['state'], string> = {
  pending: "DMA still in flight when the driver's call returns (the device owns the buffer)",
  completed: "Map, DMA and Unmap all happen inside the driver's call: nothing is left at ExitBootServices",
  idle: 'kept mapped, no DMA in flight',
};

export function firmwareHover(a: Analysis, fw: Firmware): string {
  const run = resultOf(a.sim, FIRMWARE_ENGINE).get(fw);
  const out = [
    `**firmware ${fw.sym.name}**${fw.guest ? ` of guest ${fw.guest.sym.name}` : ''}` +
      `${fw.guest?.confidential?.technology ? ` (${fw.guest.confidential.technology})` : ''}`,
  ];
  if (!run) return out.join('\n');
  const live = run.slots.filter((_, i) => run.reachable[i]);
  const list = (xs: EbsSlot[]) => xs.map((s) => `- ${slotLabel(s)}`);
  const notify = live.filter((s) => s.ebs && s.tpl === 'notify');
  const callback = live.filter((s) => s.ebs && s.tpl === 'callback');
  const before = live.filter((s) => run.early[s.index]);
  const later = live.filter((s) => !s.ebs && !before.includes(s));
  if (before.length)
    out.push(
      '',
      'First, before the memory map is locked ' +
        '(EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES, edk2-stable202302 on), in any order within a TPL:',
      ...list(before),
    );
  out.push('', 'At ExitBootServices:');
  if (notify.length) out.push('', `TPL_NOTIFY, in any order${notify.length > 1 ? ` (${notify.length} functions)` : ''}:`, ...list(notify));
  if (callback.length)
    out.push('', `then TPL_CALLBACK, in any order${callback.length > 1 ? ` (${callback.length} functions)` : ''}:`, ...list(callback));
  if (later.length) out.push('', 'then, when signalled, behind what is already queued at their TPL:', ...list(later));
  if (run.left.size) out.push('', `Left mapped after ExitBootServices: ${[...run.left].map((m) => m.sym.name).join(', ')}`);
  return out.join('\n');
}

/** A driver or one of its mappings. */
export function firmwarePartHover(a: Analysis, sym: Sym): string | undefined {
  for (const fw of a.model.firmwares.values()) {
    const run = resultOf(a.sim, FIRMWARE_ENGINE).get(fw);
    for (const d of fw.drivers) {
      if (d.sym === sym) return driverHover(fw, d, run);
      const m = [...d.maps.values()].find((x) => x.sym === sym);
      if (m) return mappingHover(fw, m, run);
    }
  }
  return undefined;
}

function driverHover(fw: Firmware, d: FwDriver, run: FirmwareRun | undefined): string {
  const out = [`**driver ${d.sym.name}** in firmware ${fw.sym.name}${d.device ? `, bound to device ${d.device.sym.name}` : ''}`];
  const pending = [...d.maps.values()].filter((m) => m.state === 'pending').map((m) => m.sym.name);
  out.push(
    '',
    pending.length
      ? `DMA in flight at ExitBootServices: ${pending.join(', ')}; the device must stop by ` +
          "the end of the driver's ExitBootServices handler (RULES §7.6)."
      : 'No DMA in flight at ExitBootServices.',
  );
  const own = run?.slots.filter((s) => s.driver === d) ?? [];
  if (own.length) out.push('', 'Notify functions:', ...own.map((s) => `- ${slotLabel(s)}`));
  const tdi = tdiNote(fw, d);
  if (tdi) out.push('', tdi);
  return out.join('\n');
}

/**
 * Issue 25 asked for a cross-check: an ExitBootServices handler that clears Bus Master Enable
 * on a locked TDI (RULES §5.3: ERROR). No shipped flow gets there: edk2 has no TDISP code, and
 * the lock is asked for a running guest (seed 001's SEV-TIO flow; Linux PCI/TSM's pci_tsm_bind,
 * under review). So the tool explains the interaction and reports nothing.
 */
function tdiNote(fw: Firmware, d: FwDriver): string | undefined {
  const dev = d.device;
  if (!dev?.tdisp) return undefined;
  const mode = fw.guest?.assigns.find((x) => x.device === dev)?.mode;
  const how = mode && mode !== 'shared' ? ` (assigned ${mode})` : '';
  return (
    `Device ${dev.sym.name} has a TDISP interface${how}. While this firmware runs its TDI is CONFIG_UNLOCKED: ` +
    'EDK II has no TDISP code, and no upstream flow locks a TDI before the guest OS runs (seed 001: the guest asks for it). ' +
    "So the driver's stop here (a reset, or clearing Bus Master Enable) changes no TDISP state; " +
    'the same write on a locked TDI would take it to ERROR (RULES §5.3).'
  );
}

function mappingHover(fw: Firmware, m: FwMapping, run: FirmwareRun | undefined): string {
  const op = m.operation;
  const where = [m.at !== undefined ? `at \`${hex(m.at)}\`` : '', m.size !== undefined ? `${formatSize(m.size)}` : '']
    .filter(Boolean)
    .join(', ');
  const out = [
    `**DMA mapping ${m.sym.name}** of driver ${m.driver.sym.name}${op ? `: ${EFI_OPERATION[op]}` : ''}${where ? ` (${where})` : ''}`,
  ];
  if (op) out.push('', `${operationMeaning(op)}.`);
  // One pass over the firmware's mappings: which slot this one holds depends on those written before it.
  const use = sharedPoolUses(fw).get(m);
  if (use) out.push('', `Shared memory at ExitBootServices: ${use.why}.`);
  out.push('', `State: ${STATE[m.state]}.`);
  if (m.source)
    out.push(
      '',
      'Buffer from ' +
        `${m.source === 'allocate-buffer' ? 'AllocateBuffer()' : m.source === 'allocate-pool' ? 'AllocatePool()' : 'AllocatePages()'}.`,
    );
  if (run && m.state !== 'completed') {
    const by = unmappedBy(run, m);
    out.push(
      '',
      by.length
        ? `At ExitBootServices, unmapped by ${by.map(slotLabel).join(' or ')}, whichever runs first.`
        : 'Nothing unmaps it at ExitBootServices.',
    );
    if (run.left.has(m))
      out.push('', `Still mapped after ExitBootServices${fw.guest?.confidential ? ': shared (decrypted) with the host' : ''}.`);
  }
  return out.join('\n');
}
