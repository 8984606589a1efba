/** Firmware's part of the model: firmware images with their drivers, mappings and events, resolved after guests. */
import type { ModelPart } from '../../../model/part';
import { firmware } from './firmware';

export const FIRMWARE_MODEL: ModelPart = {
  kinds: {
    firmware: { noun: 'firmware', global: { plural: 'firmware' } },
    driver: { noun: 'driver' },
    mapping: { noun: 'DMA mapping' },
    // EDK II events are a firmware's, wherever the handler that names one sits.
    event: { noun: 'event', inDeclaration: true },
  },
  maps: ['firmwares'],
  passes: { 'after-guests': { decls: { firmware } } },
};
