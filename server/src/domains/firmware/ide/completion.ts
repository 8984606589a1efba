/** Completion in firmware declarations: guests, the guest's devices, mappings, events, boot services. */
import type { Firmware } from '../model/types';
import { blockOf, devices, doc, guestNamed, guests, wordAfter, type Candidate, type Ctx } from '../../../ide/completion';
import { BOOT_SERVICE_DOCS } from './bootServices';
import type { SlotFiller } from '../../../ide/contribution';
import type { Analysis } from '../../../ide/analysis';

const firmwareNamed = (c: Ctx, name: string | undefined) => (name === undefined ? undefined : c.a.model.firmwares.get(name));

function firmwareAround(c: Ctx): Firmware | undefined {
  return firmwareNamed(c, blockOf(c, 'firmwareBody')?.words[1]);
}

/** `unmap`/`free`: the maps of the driver around the cursor; in `iommu-protocol`, of every driver. */
function mappings(c: Ctx): Candidate[] {
  const fw = firmwareAround(c);
  if (!fw || c.slot.qualifier) return [];
  const driverName = blockOf(c, 'driverBody')?.words[1];
  const drivers = blockOf(c, 'iommuProtocolBody') ? fw.drivers : fw.drivers.filter((d) => d.sym.name === driverName);
  return drivers
    .flatMap((d) => [...d.maps.values()])
    .map((m) => ({
      label: m.sym.name,
      kind: 'mapping' as const,
      detail: `DMA mapping of driver ${m.driver.sym.name}${m.operation ? `, ${m.operation}` : ''}`,
      documentation: doc(c, m.sym, [`State at ExitBootServices: ${m.state}.`]),
    }));
}

function events(c: Ctx): Candidate[] {
  const fw = firmwareAround(c);
  if (!fw) return [];
  return [...fw.events.values()].map((e) => ({
    label: e.name,
    kind: 'event' as const,
    detail: `event of firmware ${fw.sym.name}`,
    documentation: doc(c, e, []),
  }));
}

export const FIRMWARE_FILLERS: Readonly<Record<string, SlotFiller<Analysis>>> = {
  'firmwareDecl/ref0': guests,
  'driverDecl/ref0': (c) => {
    const g = guestNamed(c, wordAfter(blockOf(c, 'firmwareBody')?.words, 'for'));
    const assigned = new Set(g?.assigns.flatMap((x) => (x.device ? [x.device.sym.name] : [])));
    return g?.platform ? devices(c, [g.platform], assigned) : [];
  },
  'action/ref0': (c) => mappings(c),
  'action/ref2': (c) => mappings(c),
  'action/name0': (c) => events(c),
  'handlerStmt/name0': (c) => events(c),
  'action/service': () =>
    Object.entries(BOOT_SERVICE_DOCS).map(([label, documentation]) => ({
      label,
      kind: 'service' as const,
      detail: 'UEFI boot service',
      documentation,
    })),
};
