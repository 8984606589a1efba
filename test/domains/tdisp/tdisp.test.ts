/**
 * TDISP (RULES §5) over timelines, table-driven: every message in every TDI state, every
 * config change a locked TDI must not see, and seed 001's BME problem on the host of
 * examples/seed-001 (a Turin SEV-TIO box with dual-port TDISP NICs and their VFs).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hover } from '../../../server/src/ide';
import type { Finding } from '../../../server/src/model';
import type { TdiSnapshot } from '../../../server/src/domains/tdisp/sim/timelineInterfaces';
import { analyze, applyEdits, codesAt, slice, uri } from '../../helpers';
import { resultOf } from '../../../server/src/sim';
import { TIMELINES_ENGINE } from '../../../server/src/domains/timelines/engine';

const HOST = `platform turin {
  arch x86_64
  iommu amdvi0 amd-vi { address-width 48 }
  ram dram 0x1_0000_0000 size 64G
  reserved ioapic  msi      0xfee00000..0xfeefffff
  reserved ht-hole reserved 0xfd00000000..0xffffffffff
  // one dual-port card: both ports and the VFs share the link at c2:00
  device nic0     { bdf 0000:c2:00.0; iommu amdvi0; group 41; tdisp }
  device nic1     { bdf 0000:c2:00.1; iommu amdvi0; group 42; tdisp; quirk bme-zero-write-clears }
  device nic0-vf0 { bdf 0000:c2:00.2; vf-of nic0; iommu amdvi0; group 45; tdisp }
  device nic0-vf1 { bdf 0000:c2:00.3; vf-of nic0; iommu amdvi0; group 46; tdisp }
  device gpu0     { bdf 0000:e1:00.0; iommu amdvi0; group 81; tdisp }
  device nvme0    { bdf 0000:e2:00.0; iommu amdvi0; group 82 }
}`;

const CVM = `guest cvm on turin {
  machine q35 memory 16G cpu amd
  confidential sev-snp { vtom 0x100_0000_0000 }
  container iommufd
  assign nic0 as bind-capable
  assign nic1 as bind-capable
  assign nic0-vf0 as bind-capable
  assign nic0-vf1 as bind-capable
}`;

function run(steps: string[], extra: Record<string, string> = {}) {
  const text = `timeline t {\n${steps.map((s) => `  ${s}`).join('\n')}\n}`;
  const files = { 'host.iommu': HOST, 'cvm.iommu': CVM, 't.iommu': text, ...extra };
  const a = analyze(files);
  const states = [...resultOf(a.sim, TIMELINES_ENGINE).values()][0]!.states;
  const tdi = (name: string, after = states.length - 1): TdiSnapshot | undefined =>
    states[after]!.tdis.find((t) => t.device.sym.name === name);
  return { a, files, text, codes: codesAt(a, files), tdi };
}

/** Steps after `start cvm` that bring nic0's TDI into each state. */
const REACH: Record<string, string[]> = {
  CONFIG_UNLOCKED: [],
  CONFIG_LOCKED: ['tdisp nic0 lock'],
  RUN: ['tdisp nic0 lock', 'tdisp nic0 start'],
  ERROR: ['tdisp nic0 lock', 'config nic0 bar 0'],
};

/** PCIe 6.x §11.3 (RULES §5.2), written out independently of the engine's table: the next state, or `reject`. */
const EXPECTED: Record<string, Record<string, string>> = {
  lock: { CONFIG_UNLOCKED: 'CONFIG_LOCKED', CONFIG_LOCKED: 'reject', RUN: 'reject', ERROR: 'reject' },
  report: { CONFIG_UNLOCKED: 'reject', CONFIG_LOCKED: 'CONFIG_LOCKED', RUN: 'RUN', ERROR: 'reject' },
  start: { CONFIG_UNLOCKED: 'reject', CONFIG_LOCKED: 'RUN', RUN: 'reject', ERROR: 'reject' },
  stop: { CONFIG_UNLOCKED: 'CONFIG_UNLOCKED', CONFIG_LOCKED: 'CONFIG_UNLOCKED', RUN: 'CONFIG_UNLOCKED', ERROR: 'CONFIG_UNLOCKED' },
  'bind-p2p': { CONFIG_UNLOCKED: 'reject', CONFIG_LOCKED: 'reject', RUN: 'RUN', ERROR: 'reject' },
  'unbind-p2p': { CONFIG_UNLOCKED: 'reject', CONFIG_LOCKED: 'reject', RUN: 'RUN', ERROR: 'reject' },
  'set-mmio-attr': { CONFIG_UNLOCKED: 'reject', CONFIG_LOCKED: 'reject', RUN: 'RUN', ERROR: 'reject' },
};

describe('TDISP messages in every state (RULES §5.2)', () => {
  for (const [message, row] of Object.entries(EXPECTED)) {
    for (const [state, next] of Object.entries(row)) {
      test(`${message} in ${state}: ${next === 'reject' ? 'INVALID_INTERFACE_STATE' : next}`, () => {
        const r = run(['start cvm', ...REACH[state]!, `tdisp nic0 ${message}`]);
        const before = r.tdi('nic0', REACH[state]!.length + 0);
        assert.equal(before?.state, state, 'the prefix reaches the state');
        const rejected = r.codes.filter((c) => c.startsWith('tdisp-invalid-state'));
        if (next === 'reject') {
          assert.deepEqual(rejected, [`tdisp-invalid-state@tdisp nic0 ${message}`]);
          const f = r.a.all.find((x) => x.code === 'tdisp-invalid-state')!;
          assert.match(f.message, /INVALID_INTERFACE_STATE \(0x0004\)/);
          assert.match(f.message, new RegExp(`in ${state}:`));
          assert.equal(r.tdi('nic0')!.state, state, 'a rejected request leaves the state');
        } else {
          assert.deepEqual(rejected, []);
          assert.equal(r.tdi('nic0')!.state, next);
        }
      });
    }
  }

  test('the quick fix sends the missing requests first, and then the timeline is clean', () => {
    const r = run(['start cvm', 'tdisp nic0 bind-p2p']);
    const f = r.a.all.find((x) => x.code === 'tdisp-invalid-state')!;
    assert.equal(f.fixes[0]!.title, 'Send LOCK_INTERFACE_REQUEST then START_INTERFACE_REQUEST first');
    const fixed = applyEdits(r.text, f.fixes[0]!.edits);
    assert.match(fixed, /tdisp nic0 lock\n {2}tdisp nic0 start\n {2}tdisp nic0 bind-p2p/);
    const again = analyze({ 'host.iommu': HOST, 'cvm.iommu': CVM, 't.iommu': fixed });
    assert.deepEqual(again.all, []);
  });

  test('a TDI in ERROR is re-locked only after STOP; the rejection relates to the step that caused ERROR', () => {
    const r = run(['start cvm', ...REACH.ERROR!, 'tdisp nic0 lock']);
    const f = r.a.all.find((x) => x.code === 'tdisp-invalid-state')!;
    assert.equal(slice(r.text, f.related[0]!.span), 'config nic0 bar 0');
    assert.equal(f.fixes[0]!.title, 'Send STOP_INTERFACE_REQUEST first');
  });
});

/** Writes after `config nic0 command MSE BME` (before lock), with what they do to a locked TDI. */
const LOCKED_CHANGES: [step: string, code: string | undefined, why: RegExp | undefined][] = [
  ['config nic0 command', 'tdisp-config-locked', /clears Memory Space Enable/],
  ['config nic0 command BME', 'tdisp-config-locked', /clears Memory Space Enable/],
  ['config nic0 command MSE', 'tdisp-config-locked', /clears Bus Master Enable \(0x0006 \(MSE\|BME\) written as 0x0002 \(MSE\)\)/],
  ['config nic0 command MSE BME SERR PERR', undefined, undefined],
  ['config nic0 command MSE BME INTX-DISABLE', undefined, undefined],
  ['config nic0 bar 0 0xe0000000', 'tdisp-config-locked', /changes BAR 0/],
  ['config nic0 bar 5', 'tdisp-config-locked', /changes BAR 5/],
  ['config nic0 bist', 'tdisp-config-locked', /BIST/],
  ['config nic0 rom', 'tdisp-config-locked', /Expansion ROM/],
  ['config nic0 msix', 'tdisp-config-locked', /MSI-X table/],
  ['config nic0 resizable-bar', 'tdisp-config-locked', /Resizable BAR/],
  ['config nic0 ari', 'tdisp-config-locked', /ARI/],
  ['config nic0 pasid', 'tdisp-config-locked', /PASID/],
  ['config nic0 sriov', 'tdisp-config-locked', /SR-IOV/],
  ['config nic0 page-request', 'tdisp-config-locked', /Page Request/],
  ['config nic0 multicast', 'tdisp-config-locked', /Multicast/],
  ['config nic0 flr', 'tdisp-config-locked', /Function Level Reset/],
  ['config nic0 devctl RO NO-SNOOP FLR', 'tdisp-config-locked', /initiates a Function Level Reset/],
  ['config nic0 devctl RO NO-SNOOP EXT-TAG', 'tdisp-config-locked', /changes EXT-TAG in Device Control/],
  ['config nic0 devctl RO NO-SNOOP PHANTOM', 'tdisp-config-locked', /changes PHANTOM/],
  ['config nic0 devctl RO', 'tdisp-config-locked', /changes NO-SNOOP/],
  ['config nic0 devctl RO NO-SNOOP CERE URRE', undefined, undefined],
  ['config nic0 intx', undefined, undefined],
  ['power nic0 D3hot', 'tdisp-power-loss', /enters D3hot/],
  ['power nic0 D3cold', 'tdisp-power-loss', /enters D3cold/],
  ['power nic0 D1', undefined, undefined],
  ['power nic0 D0', undefined, undefined],
  ['link nic0 down', 'tdisp-link-down', /IDE stream/],
  ['link nic0 up', undefined, undefined],
];

describe('config changes while locked (RULES §5.3)', () => {
  for (const [step, code, why] of LOCKED_CHANGES) {
    for (const state of ['CONFIG_UNLOCKED', 'CONFIG_LOCKED', 'RUN']) {
      const locked = state !== 'CONFIG_UNLOCKED';
      const effect = locked && code ? `ERROR (${code})` : 'harmless';
      test(`${step} in ${state}: ${effect}`, () => {
        const r = run(['start cvm', 'config nic0 command MSE BME', ...REACH[state]!, step]);
        const own = r.codes.filter((c) => c.startsWith('tdisp-'));
        if (locked && code) {
          assert.deepEqual(own, [`${code}@${step}`]);
          const f = r.a.all.find((x) => x.code === code)!;
          assert.match(f.message, why!);
          assert.match(f.message, /RULES §5\.3/);
          assert.equal(slice(r.text, f.related[0]!.span), 'tdisp nic0 lock', 'relates to the lock step');
          assert.equal(r.tdi('nic0')!.state, 'ERROR');
        } else {
          assert.deepEqual(own, []);
          assert.equal(r.tdi('nic0')!.state, state);
        }
      });
    }
  }

  test('the registers a locked TDI watches are tracked from reset, through writes and FLR', () => {
    const r = run(['start cvm', 'config nic0 command MSE BME', 'config nic0 devctl RO NO-SNOOP EXT-TAG', 'config nic0 flr']);
    assert.deepEqual(r.tdi('nic0', 1)!.regs, { command: 0b110, devctl: (1 << 4) | (1 << 11) });
    assert.deepEqual(r.tdi('nic0', 2)!.regs, { command: 0b110, devctl: (1 << 4) | (1 << 11) | (1 << 8) });
    assert.deepEqual(r.tdi('nic0')!.regs, { command: 0, devctl: (1 << 4) | (1 << 11) }, 'FLR resets them');
  });
});

describe('STOP_INTERFACE_REQUEST in CONFIG_UNLOCKED (RULES §5.7, unconfirmed)', () => {
  // DMTF spdm-emu library/pci_tdisp_device_lib_sample/pci_tdisp_device_stop_interface.c: CONFIG_UNLOCKED ->
  // PCI_TDISP_ERROR_CODE_INVALID_INTERFACE_STATE; CONFIG_LOCKED, RUN and ERROR are accepted.
  test('a warning that says both readings; the TDI stays CONFIG_UNLOCKED', () => {
    const r = run(['start cvm', 'tdisp nic0 stop']);
    assert.deepEqual(r.codes, ['tdisp-stop-unlocked@tdisp nic0 stop']);
    const f = r.a.all[0]!;
    assert.equal(f.severity, 'warning');
    assert.match(f.message, /TDISP text lets STOP through in any state \(unconfirmed\), but the DMTF spdm-emu sample responder answers/);
    assert.equal(r.tdi('nic0')!.state, 'CONFIG_UNLOCKED');
  });

  test('STOP after LOCK, in RUN or in ERROR is no finding', () => {
    for (const state of ['CONFIG_LOCKED', 'RUN'] as const) {
      assert.deepEqual(run(['start cvm', ...REACH[state]!, 'tdisp nic0 stop']).codes, []);
    }
    assert.deepEqual(run(['start cvm', ...REACH.ERROR!, 'tdisp nic0 stop']).codes, ['tdisp-config-locked@config nic0 bar 0']);
  });
});

describe("SR-IOV writes to a PF take its VFs' locked TDIs to ERROR (RULES §5.6)", () => {
  const vfsLocked = ['start cvm', 'tdisp nic0-vf0 lock', 'tdisp nic0-vf0 start', 'tdisp nic0-vf1 lock'];
  for (const [write, why] of [
    ['vf-enable off', /Clearing VF Enable in the SR-IOV capability of PF nic0 destroys its VFs/],
    ['numvfs 4', /Changing NumVFs in the SR-IOV capability of PF nic0/],
    ['vf-mse off', /Clearing VF MSE in the SR-IOV capability of PF nic0 disables the memory space of all its VFs/],
  ] as const) {
    test(`config nic0 sriov ${write}, with the PF unlocked`, () => {
      const r = run([...vfsLocked, `config nic0 sriov ${write}`]);
      assert.deepEqual(r.codes, [`tdisp-vfs-disabled@config nic0 sriov ${write}`]);
      assert.match(r.a.all[0]!.message, why);
      assert.match(r.a.all[0]!.message, /nic0-vf0 \(RUN\), nic0-vf1 \(CONFIG_LOCKED\) go to ERROR, whether or not the PF itself is locked/);
      assert.equal(r.tdi('nic0-vf0')!.state, 'ERROR');
      assert.equal(r.tdi('nic0-vf1')!.state, 'ERROR');
      assert.equal(r.tdi('nic0')!.state, 'CONFIG_UNLOCKED');
    });
  }

  test('a locked PF goes to ERROR too; a bare `sriov` write matters only to the PF', () => {
    const r = run([...vfsLocked, 'tdisp nic0 lock', 'config nic0 sriov vf-enable off']);
    assert.deepEqual(r.codes, [
      'tdisp-config-locked@config nic0 sriov vf-enable off',
      'tdisp-vfs-disabled@config nic0 sriov vf-enable off',
    ]);
    assert.deepEqual(run([...vfsLocked, 'config nic0 sriov']).codes, []);
  });

  test('VFs have no Command MSE: a VF Command write without MSE clears nothing (Linux no_command_memory)', () => {
    const r = run([
      'start cvm',
      'config nic0-vf0 command MSE BME',
      'tdisp nic0-vf0 lock',
      'tdisp nic0-vf0 start',
      'config nic0-vf0 command BME',
    ]);
    assert.deepEqual(r.codes, []);
    assert.equal(r.tdi('nic0-vf0')!.state, 'RUN');
    // On the PF the same write clears Memory Space Enable.
    const pf = run(['start cvm', 'config nic0 command MSE BME', 'tdisp nic0 lock', 'tdisp nic0 start', 'config nic0 command BME']);
    assert.deepEqual(pf.codes, ['tdisp-config-locked@config nic0 command BME']);
  });
});

describe('resets of a PF and of the link', () => {
  const lockAll = ['start cvm', 'tdisp nic0-vf0 lock', 'tdisp nic0-vf0 start', 'tdisp nic0-vf1 lock'];

  test("a PF's FLR takes its VFs' locked TDIs to ERROR, even with the PF unlocked", () => {
    const r = run([...lockAll, 'config nic0 flr']);
    assert.deepEqual(r.codes, ['tdisp-vf-reset@config nic0 flr']);
    const f = r.a.all[0]!;
    assert.match(f.message, /nic0-vf0 \(RUN\), nic0-vf1 \(CONFIG_LOCKED\) go to ERROR/);
    assert.deepEqual(
      f.related.map((x) => slice(r.text, x.span)),
      ['tdisp nic0-vf0 lock', 'tdisp nic0-vf1 lock'],
    );
    assert.equal(r.tdi('nic0-vf0')!.state, 'ERROR');
    assert.equal(r.tdi('nic0-vf1')!.state, 'ERROR');
    assert.equal(r.tdi('nic0')!.state, 'CONFIG_UNLOCKED');
  });

  test("a locked PF that is reset reports its own ERROR and its VFs'", () => {
    const r = run([...lockAll, 'tdisp nic0 lock', 'power nic0 D3cold']);
    assert.deepEqual(r.codes, ['tdisp-power-loss@power nic0 D3cold', 'tdisp-vf-reset@power nic0 D3cold']);
  });

  test("a VF's FLR leaves its siblings alone", () => {
    const r = run([...lockAll, 'config nic0-vf0 flr']);
    assert.deepEqual(r.codes, ['tdisp-config-locked@config nic0-vf0 flr']);
    assert.equal(r.tdi('nic0-vf1')!.state, 'CONFIG_LOCKED');
  });

  test('link down reaches every locked function behind the link; another card is untouched', () => {
    const r = run([...lockAll, 'tdisp nic1 lock', 'hotplug gpu0 into cvm as bind-capable', 'tdisp gpu0 lock', 'link nic0-vf1 down']);
    assert.deepEqual(r.codes, ['tdisp-link-down@link nic0-vf1 down']);
    assert.match(r.a.all[0]!.message, /the link of nic0 goes down/);
    assert.match(r.a.all[0]!.message, /nic1 \(CONFIG_LOCKED\), nic0-vf0 \(RUN\), nic0-vf1 \(CONFIG_LOCKED\)/);
    assert.equal(r.tdi('gpu0')!.state, 'CONFIG_LOCKED');
  });
});

describe("seed 001's BME problem (RULES §5.5)", () => {
  const stock = [
    'start cvm',
    'launch-update cvm',
    'tdisp nic1 lock',
    'tdisp nic1 report',
    'tdisp nic1 start',
    'config nic1 command MSE',
    'config nic1 command MSE BME // pci_set_master()',
    'tdisp nic1 report',
  ];

  test("the stock driver's MSE-then-BME enable puts the quirky device in ERROR at the first write", () => {
    const r = run(stock);
    assert.deepEqual(r.codes, ['tdisp-bme-quirk@config nic1 command MSE', 'tdisp-invalid-state@tdisp nic1 report']);
    const f = r.a.all[0]!;
    assert.match(
      f.message,
      /0x0002 \(MSE\), has BME=0, which this device \(quirk bme-zero-write-clears\) counts as clearing Bus Master Enable although BME is already 0/,
    );
    assert.match(f.message, /RULES §5\.5, §5\.3/);
    assert.equal(slice(r.text, f.related[0]!.span), 'tdisp nic1 lock');
  });

  test('the quick fix coalesces the two writes into one; the result is clean and the TDI runs', () => {
    const r = run(stock);
    const fix = r.a.all[0]!.fixes[0]!;
    assert.equal(fix.title, 'Enable with one Command write: MSE BME (the later write that sets BME goes)');
    const fixed = applyEdits(r.text, fix.edits);
    assert.match(fixed, /tdisp nic1 start\n {2}config nic1 command MSE BME \/\/ pci_set_master\(\)\n {2}tdisp nic1 report/);
    const again = analyze({ 'host.iommu': HOST, 'cvm.iommu': CVM, 't.iommu': fixed });
    assert.deepEqual(again.all, []);
    const states = [...resultOf(again.sim, TIMELINES_ENGINE).values()][0]!.states;
    assert.equal(states.at(-1)!.tdis.find((t) => t.device.sym.name === 'nic1')!.state, 'RUN');
  });

  test('the same sequence is harmless on a device without the quirk, and before lock on one with it', () => {
    assert.deepEqual(run(stock.map((s) => s.replace(/nic1/g, 'nic0'))).codes, []);
    assert.deepEqual(
      run(['start cvm', 'config nic1 command MSE', 'config nic1 command MSE BME', 'tdisp nic1 lock', 'tdisp nic1 start']).codes,
      [],
    );
  });

  test('INTx probing on a locked VF is an avoidable access; on a PF it is not flagged', () => {
    const r = run([
      'start cvm',
      'config nic0-vf0 command MSE BME',
      'tdisp nic0-vf0 lock',
      'tdisp nic0-vf0 start',
      'config nic0-vf0 intx',
      'tdisp nic0 lock',
      'config nic0 intx',
    ]);
    assert.deepEqual(r.codes, ['tdisp-avoidable-access@config nic0-vf0 intx']);
    assert.equal(r.a.all[0]!.severity, 'warning');
    assert.equal(r.tdi('nic0-vf0')!.state, 'RUN');
  });

  test("on the quirky device with BME still 0, the INTx probe's write itself is fatal", () => {
    const r = run(['start cvm', 'tdisp nic1 lock', 'config nic1 intx']);
    assert.deepEqual(r.codes, ['tdisp-bme-quirk@config nic1 intx']);
    assert.match(r.a.all[0]!.message, /^The INTx probe's Command write/);
    assert.deepEqual(r.a.all[0]!.fixes, [], 'no MSE/BME write to coalesce');
  });
});

describe('who may lock, and DMA before RUN (RULES §5.4)', () => {
  test('a device without TDISP, and a TDI no confidential guest holds', () => {
    const plain = 'guest plain on turin {\n  machine q35 memory 4G\n  container iommufd\n  assign gpu0\n}';
    const r = run(['tdisp gpu0 lock', 'start cvm', 'hotplug nvme0 into cvm', 'tdisp nvme0 lock', 'start plain', 'tdisp gpu0 lock'], {
      'plain.iommu': plain,
    });
    assert.deepEqual(r.codes, ['tdisp-not-bound@tdisp gpu0 lock', 'tdisp-not-capable@tdisp nvme0 lock', 'tdisp-not-bound@tdisp gpu0 lock']);
    assert.match(r.a.all[0]!.message, /no running guest holds it/);
    assert.match(r.a.all[2]!.message, /guest plain, which holds it, is not confidential/);
    assert.equal(r.tdi('gpu0')!.state, 'CONFIG_UNLOCKED');
  });

  test('a private device enabled for DMA before RUN; the same after start is fine', () => {
    const r = run(['start cvm', 'hotplug gpu0 into cvm as private', 'tdisp gpu0 lock', 'config gpu0 command MSE BME', 'tdisp gpu0 start']);
    assert.ok(r.codes.includes('tdisp-dma-before-run@config gpu0 command MSE BME'), r.codes.join());
    assert.match(r.a.all.find((f) => f.code === 'tdisp-dma-before-run')!.message, /while its TDI is CONFIG_LOCKED/);
    const ok = run(['start cvm', 'hotplug gpu0 into cvm as private', 'tdisp gpu0 lock', 'tdisp gpu0 start', 'config gpu0 command MSE BME']);
    assert.ok(!ok.codes.some((c) => c.startsWith('tdisp-dma-before-run')), ok.codes.join());
  });

  test('a bind-capable device converted to private before RUN', () => {
    const r = run(['start cvm', 'tdisp nic0 lock', 'convert nic0 to private']);
    assert.ok(r.codes.includes('tdisp-dma-before-run@convert nic0 to private'), r.codes.join());
  });

  test('unplugging releases the TDI: CONFIG_UNLOCKED and reset registers, so it can be locked again', () => {
    const r = run([
      'start cvm',
      'config nic0 command MSE BME',
      'tdisp nic0 lock',
      'tdisp nic0 start',
      'unplug nic0',
      'hotplug nic0 into cvm as bind-capable',
      'tdisp nic0 lock',
    ]);
    assert.deepEqual(
      r.codes.filter((c) => c.startsWith('tdisp')),
      [],
    );
    assert.deepEqual(r.tdi('nic0', 4), {
      device: r.tdi('nic0', 4)!.device,
      state: 'CONFIG_UNLOCKED',
      regs: { command: 0, devctl: (1 << 4) | (1 << 11) },
      since: r.tdi('nic0', 4)!.since,
    });
    assert.equal(r.tdi('nic0')!.state, 'CONFIG_LOCKED');
  });

  test('hovering a step shows every TDI after it', () => {
    const r = run(['start cvm', 'tdisp nic0 lock', 'tdisp nic0 start', 'config nic1 command MSE']);
    const h = hover(r.a, uri('t.iommu'), r.text.indexOf('tdisp nic0 start') + 3)!;
    assert.match(h.markdown, /\*\*after `tdisp nic0 start`\*\*/);
    assert.match(h.markdown, /nic0 {6}RUN {14}Command 0x0000 \(no bits set\), Device Control 0x0810 \(RO\|NO-SNOOP\)/);
    assert.match(h.markdown, /nic1 {6}CONFIG_UNLOCKED/);
    assert.match(h.markdown, /nic0 \(group 41, bind-capable, DMA shared\)/);
    assert.match(h.markdown, /SNP_LAUNCH_UPDATE: not yet/);
    const last = hover(r.a, uri('t.iommu'), r.text.indexOf('config nic1') + 3)!;
    assert.match(last.markdown, /nic1 {6}CONFIG_UNLOCKED {2}Command 0x0002 \(MSE\)/);
  });

  test('register bits and quirks are checked by name', () => {
    const host = HOST.replace('quirk bme-zero-write-clears', 'quirk bme-zero-write-clear');
    const files = {
      'host.iommu': host,
      'cvm.iommu': CVM,
      't.iommu': 'timeline t {\n  start cvm\n  config nic0 command mse BMR\n  config nic0 devctl no-snoop EXTTAG\n}',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['unknown-value@bme-zero-write-clear', 'unknown-value@BMR', 'unknown-value@EXTTAG']);
    assert.deepEqual(
      a.all.map((f: Finding) => f.fixes[0]?.edits[0]?.newText),
      ['bme-zero-write-clears', 'BME', 'EXT-TAG'],
    );
  });
});
