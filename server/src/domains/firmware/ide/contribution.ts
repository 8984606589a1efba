/** What the firmware domain shows in the editor: hovers on firmware, drivers and mappings. */
import type { IdeParts } from '../../../ide/analysis';
import { FIRMWARE_KEYWORDS } from './keywords';
import { FIRMWARE_FILLERS } from './completion';
import { firmwareHover, firmwarePartHover } from './firmwareHover';

export const FIRMWARE_IDE: IdeParts = {
  keywords: FIRMWARE_KEYWORDS,
  slotFillers: FIRMWARE_FILLERS,
  hoverKinds: ['firmware', 'driver', 'mapping'],
  symbolDetails(model, out) {
    for (const fw of model.firmwares.values()) if (fw.guest) out.set(fw.sym, `for ${fw.guest.sym.name}`);
  },
  addressDeclarations: (model) => [[...model.firmwares.values()]],
  symbolHover(a, sym) {
    if (sym.kind !== 'firmware') return firmwarePartHover(a, sym);
    const fw = a.model.firmwares.get(sym.name);
    return fw && fw.sym === sym ? firmwareHover(a, fw) : undefined;
  },
};
