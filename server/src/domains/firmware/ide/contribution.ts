/** What the firmware domain shows in the editor: hovers on firmware, drivers and mappings. */
import type { IdeParts } from '../../../ide/analysis';
import { FIRMWARE_KEYWORDS } from './keywords';
import { FIRMWARE_FILLERS } from './completion';
import { firmwareHover, firmwarePartHover } from './firmwareHover';

export const FIRMWARE_IDE: IdeParts = {
  looks: {
    firmware: { token: 'namespace', outline: 'Module' },
    driver: { token: 'class', outline: 'Function' },
    mapping: { token: 'variable', outline: 'Variable', completion: 'Variable' },
    event: { token: 'event', outline: 'Event', completion: 'Event' },
  },
  keywords: FIRMWARE_KEYWORDS,
  slotFillers: FIRMWARE_FILLERS,
  hoverKinds: ['firmware', 'driver', 'mapping'],
  symbolDetails(model, out) {
    for (const fw of model.firmwares.values()) if (fw.guest) out.set(fw.sym, `for ${fw.guest.sym.name}`);
  },
  addressDeclarations: (model) => [[...model.firmwares.values()]],
  addressContext(a, decl) {
    for (const f of a.model.firmwares.values()) if (f.decl === decl) return { guest: f.guest, platform: f.guest?.platform };
    return undefined;
  },
  symbolHover(a, sym) {
    if (sym.kind !== 'firmware') return firmwarePartHover(a, sym);
    const fw = a.model.firmwares.get(sym.name);
    return fw && fw.sym === sym ? firmwareHover(a, fw) : undefined;
  },
};
