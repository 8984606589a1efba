/** TDISP's part of the model: a device's `tdisp` statement (it has a TDI). */
import type { ModelPart } from '../../../model/part';

declare module '../../../model/types' {
  interface Device {
    /** `tdisp`: the device has a TDI the TSM can lock and start for a confidential VM. */
    tdisp?: boolean;
  }
}

export const TDISP_MODEL: ModelPart = {
  kinds: {},
  passes: {},
  items: {
    deviceBody: {
      'tdisp-capable': (_ctx, _uri, dev) => {
        dev.tdisp = true;
      },
    },
  },
  singletons: { deviceBody: { 'tdisp-capable': 'tdisp' } },
};
