/** Hover on a device: its group and reserved list, and its state after each timeline step that touches it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hover } from '../../server/src/ide';
import { analyze, cursor, uri } from '../helpers';

/** seed 001's Turin host: a TDISP NIC whose firmware has the BME quirk, and its VF. */
const TURIN = `platform turin {
  arch x86_64
  iommu amdvi0 amd-vi { address-width 48 }
  device nic0 { bdf 0000:c2:00.0; iommu amdvi0; group 41; tdisp; quirk bme-zero-write-clears }
  device nic0-vf0 { bdf 0000:c2:00.2; vf-of nic0; iommu amdvi0; group 45; tdisp }
}
`;

const BRING_UP = `guest cvm on turin {
  machine q35 memory 16G cpu amd
  confidential sev-snp { vtom 0x100_0000_0000 }
  container iommufd
  assign nic0-v<|>f0 as bind-capable
}
timeline bring-up {
  start cvm
  tdisp nic0-vf0 lock
  tdisp nic0-vf0 start
  config nic0-vf0 command MSE BME
  convert nic0-vf0 to private
  power nic0 D3hot
  tdisp nic0-vf0 stop
  unplug nic0-vf0
}
`;

test('a TDISP VF: guest, mode, TDI state and registers after each step, one line per step', () => {
  const { text, offset } = cursor(BRING_UP);
  const a = analyze({ 'host.iommu': TURIN, 'guest.iommu': text });
  const md = hover(a, uri('guest.iommu'), offset)!.markdown;
  assert.ok(
    md.startsWith(
      '**device nic0-vf0** `0000:c2:00.2` on platform turin\n\nTDISP-capable: has a TDI the TSM can lock and start for a confidential VM (a VF of nic0).',
    ),
    md,
  );
  assert.ok(
    md.includes(
      [
        '`/sys/kernel/iommu_groups/45/reserved_regions`:',
        '```text',
        '0x00000000fee00000 0x00000000feefffff msi',
        '0x000000fd00000000 0x000000ffffffffff reserved',
        '```',
      ].join('\n'),
    ),
    md,
  );
  assert.ok(
    md.endsWith(
      [
        'Assigned to guest cvm.',
        '',
        'Timeline **bring-up** (guest.iommu):',
        '- line 8 `start cvm`: in guest cvm (group 45, bind-capable, DMA shared), TDI CONFIG_UNLOCKED, Command 0x0000 (no bits set), Device Control 0x0810 (RO|NO-SNOOP)',
        '- line 9 `tdisp nic0-vf0 lock`: TDI CONFIG_LOCKED',
        '- line 10 `tdisp nic0-vf0 start`: TDI RUN',
        // VFs have no Command MSE (Linux no_command_memory): it reads back 0.
        '- line 11 `config nic0-vf0 command MSE BME`: TDI RUN, Command 0x0004 (BME)',
        '- line 12 `convert nic0-vf0 to private`: in guest cvm (group 45, bind-capable, DMA private), TDI RUN',
        // The PF's power transition resets the VF: its running TDI goes to ERROR (RULES §5.3).
        '- line 13 `power nic0 D3hot`: TDI ERROR, Command 0x0000 (no bits set)',
        '- line 14 `tdisp nic0-vf0 stop`: TDI CONFIG_UNLOCKED',
        '- line 15 `unplug nic0-vf0`: in no guest, TDI CONFIG_UNLOCKED',
      ].join('\n'),
    ),
    md,
  );
  assert.ok(a.all.some((f) => f.code === 'tdisp-vf-reset'));
});

test('the PF: only the step that names it, with its power state', () => {
  const { text, offset } = cursor(BRING_UP.replace('power nic0 D3hot', 'power ni<|>c0 D3hot').replace('nic0-v<|>f0 as', 'nic0-vf0 as'));
  const md = hover(analyze({ 'host.iommu': TURIN, 'guest.iommu': text }), uri('guest.iommu'), offset)!.markdown;
  const [device, why] = md.split('\n\n---\n\n');
  assert.ok(device!.endsWith('Timeline **bring-up** (guest.iommu):\n- line 13 `power nic0 D3hot`: in no guest, power D3hot'), md);
  assert.match(device!, /Quirk `bme-zero-write-clears`/);
  // The step's finding (the VF's running TDI reset with its PF) adds the step that locked it.
  assert.ok(why!.startsWith('**`tdisp-vf-reset`**: why\n\n- line 9: nic0-vf0 locked here (LOCK_INTERFACE_REQUEST)\n\nSource:\n'), why);
});

test('seed 002: a VF hot-added, unplugged before the migration, and its namesake on the other host', () => {
  const host = (name: string, group: number) => `platform ${name} {
  arch arm64
  iommu smmu0 smmuv3 { address-width 48 }
  reserved swmsi sw-msi 0x8000000 size 1M
  device vf0 { bdf 0000:01:00.2; iommu smmu0 stream 0x102; group ${group} }
}
`;
  const timeline = `timeline evacuate-vm-cache {
  start vm-cache
  hotplug vf0 into vm-cache
  unplug vf0 from vm-cache
  migrate vm-cache to armsrv-1
  hotplug armsrv-1.vf0 into vm-cache
}
`;
  const files = {
    'armsrv-0.iommu': host('armsrv-0', 14),
    'armsrv-1.iommu': host('armsrv-1', 13),
    'vm-cache.iommu': 'guest vm-cache on armsrv-0 {\n  machine virt memory 2G\n}\n',
    't.iommu': timeline,
  };
  const a = analyze(files);
  assert.deepEqual(
    a.all.map((f) => f.code),
    [],
  );
  const at = (file: 'armsrv-0.iommu' | 'armsrv-1.iommu') => hover(a, uri(file), files[file].indexOf('vf0') + 1)!.markdown;
  assert.ok(
    at('armsrv-0.iommu').endsWith(
      [
        'Timeline **evacuate-vm-cache** (t.iommu):',
        '- line 3 `hotplug vf0 into vm-cache`: in guest vm-cache (group 14)',
        '- line 4 `unplug vf0 from vm-cache`: in no guest',
      ].join('\n'),
    ),
    at('armsrv-0.iommu'),
  );
  assert.ok(
    at('armsrv-1.iommu').endsWith(
      ['Timeline **evacuate-vm-cache** (t.iommu):', '- line 6 `hotplug armsrv-1.vf0 into vm-cache`: in guest vm-cache (group 13)'].join(
        '\n',
      ),
    ),
    at('armsrv-1.iommu'),
  );
});

test('a device no timeline touches has no timeline section', () => {
  const { text, offset } = cursor(TURIN.replace('device nic0 {', 'device n<|>ic0 {'));
  const md = hover(analyze({ 'host.iommu': text }), uri('host.iommu'), offset)!.markdown;
  assert.doesNotMatch(md, /Timeline/);
  assert.match(md, /group 41: nic0/);
});
