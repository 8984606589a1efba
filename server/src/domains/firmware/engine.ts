/** Every firmware run through ExitBootServices, as an engine (RULES §7). */
import type { Firmware } from './model/types';
import { mergeByDeclaration, type SimEngine } from '../../sim/engine';
import { runFirmware } from './sim/exitBootServices';
import type { FirmwareRun } from './sim/notifyFunctions';

export const FIRMWARE_ENGINE: SimEngine<Map<Firmware, FirmwareRun>> = {
  id: 'firmware',
  description: 'Firmware DMA at ExitBootServices, every order of notify functions (the most expensive).',
  needs: [],
  run: ({ model }, sink) => new Map([...model.firmwares.values()].map((fw) => [fw, runFirmware(fw, sink)] as const)),
  empty: () => new Map(),
  merge: mergeByDeclaration,
};
