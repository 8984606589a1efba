/**
 * Issue 24 item 2 (RULES §3.2): QEMU hw/i386/pc_piix.c, pc_init1. lowmem is max-ram-below-4g
 * (default 0xe0000000); only when the RAM reaches it and the machine type aligns to a
 * gigabyte (pc-i440fx-2.0 and later) is it capped at 0xc0000000. QEMU's own comment:
 * "qemu -M pc,max-ram-below-4g=4G -m 3968M -> 3968M low (=4G-128M)".
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { machineLayout } from '../../server/src/sim';
import { analyze, codesAt } from '../helpers';

const HOST = `platform rome-excl {
  arch x86_64
  iommu amdvi0 amd-vi { address-width 48 }
  reserved ivmd-excl reserved 0xe8000000 size 16M for hba0   // an IVMD with the exclusion flag
  device hba0 { bdf 0000:5e:00.0; iommu amdvi0; group 33 }
}
`;

function layout(machine: string): string[] {
  const a = analyze({ 'g.iommu': `${HOST}guest g on rome-excl {\n  ${machine}\n}\n` });
  return machineLayout(a.model.guests.get('g')!)!.ram.map((r) => `${r.range.start.toString(16)}-${r.range.end.toString(16)}`);
}

test('the split follows pc_init1: max-ram-below-4g is the low part unless the RAM reaches it', () => {
  assert.deepEqual(layout('machine i440fx memory 3968M max-ram-below-4g 4G'), ['0-f7ffffff']);
  assert.deepEqual(layout('machine i440fx memory 3456M max-ram-below-4g 0xd0000000'), ['0-bfffffff', '100000000-117ffffff']);
  assert.deepEqual(layout('machine i440fx memory 3648M max-ram-below-4g 0xe8000000'), ['0-e3ffffff']);
  assert.deepEqual(layout('machine i440fx memory 4G'), ['0-bfffffff', '100000000-13fffffff']);
  assert.deepEqual(layout('machine i440fx memory 4G max-ram-below-4g 2G'), ['0-7fffffff', '100000000-17fffffff']);
  // pc-i440fx-1.7 and older do not align to a gigabyte: 3.5G of the default 3.5G stays low.
  assert.deepEqual(layout('machine i440fx memory 4G version 1.7'), ['0-dfffffff', '100000000-11fffffff']);
});

test('RAM that the low part now covers is mapped over the region, as QEMU would', () => {
  const files = {
    'h.iommu': HOST,
    'g.iommu': 'guest legacy32 on rome-excl {\n  machine i440fx memory 3968M max-ram-below-4g 4G\n  assign hba0\n}\n',
  };
  assert.deepEqual(codesAt(analyze(files), files), ['ram-over-reserved@machine i440fx memory 3968M max-ram-below-4g 4G']);
});

test('max-ram-below-4g above 4 GiB: QEMU refuses the option (x86_machine_set_max_ram_below_4g), 4G itself is fine', () => {
  const files = (v: string) => ({
    'h.iommu': HOST,
    'g.iommu': `guest g on rome-excl {\n  machine q35 memory 8G max-ram-below-4g ${v}\n}\n`,
  });
  const over = files('5G');
  const a = analyze(over);
  assert.deepEqual(codesAt(a, over), ['value-out-of-range@5G']);
  assert.match(a.all[0]!.message, /expects size less than or equal to 4G/);
  assert.deepEqual(analyze(files('4G')).all, []);
});
