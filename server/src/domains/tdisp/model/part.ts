/**
 * TDISP's part of the model: a device's `tdisp` statement (it has a TDI), and the steps it
 * adds to timelines (TDISP messages, config writes, power and link changes), each acting on a
 * device in play.
 */
import type * as A from '@iommu-lens/grammar';
import type { ModelPart } from '../../../model/part';
import type { Scope } from '../../../model/scope';
import type { ResolvedStep } from '../../../model/types';
import { REGISTER_BITS, type Register } from './pciRegisters';

declare module '../../../model/types' {
  interface Device {
    /** `tdisp`: the device has a TDI the TSM can lock and start for a confidential VM. */
    tdisp?: boolean;
  }
}

const onDevice = (s: { device?: A.Ref }) => s.device;

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
  steps: {
    tdisp: { device: onDevice },
    config: { device: onDevice, resolve: configWrite },
    power: { device: onDevice },
    link: { device: onDevice },
  },
};

/** `config D ...`: the BAR index, the value written (NumVFs is a 16-bit field: SR-IOV capability, offset 0x10), the bits. */
function configWrite(ctx: Scope, uri: string, step: A.ConfigStep, r: ResolvedStep): void {
  if (step.bar) ctx.count(uri, step.bar, 0n, 5n, 'BAR index');
  if (step.value && step.sriovField) ctx.count(uri, step.value, 0n, 0xffffn, 'NumVFs');
  else if (step.value) ctx.num(uri, step.value);
  if (step.what?.text === 'command' || step.what?.text === 'devctl') r.bits = registerBits(ctx, uri, step.what.text, step.bits);
}

/** The value a `config D command|devctl BITS` write puts in the register; bit names are case-insensitive. */
function registerBits(ctx: Scope, uri: string, register: Register, words: A.Word[]): number {
  const table = REGISTER_BITS[register];
  const names = Object.keys(table);
  let value = 0;
  for (const w of words) {
    const name = w.text.toUpperCase();
    if (Object.hasOwn(table, name)) value |= table[name]!;
    else
      ctx.unknownValue(
        uri,
        w,
        `'${w.text}' is not a ${register === 'command' ? 'Command' : 'Device Control'} register bit; known: ${names.join(' ')}`,
        () => names,
      );
  }
  return value;
}
