/**
 * SMMUv3 CMDQV (RULES §9) on the seed-004 Grace host (Tegra241 CMDQV, 4 SID pairs per
 * VINTF): the Linux guest driver's batches are clean; each finding comes from a VINTF or
 * a batch the seed's RFC would have produced; fixes are applied and re-checked; hover says
 * which queue takes a command and what the hardware substitutes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { hover } from '../../../server/src/ide/hover';
import { analyze, applyEdits, slice, uri } from '../../helpers';

const SEED = join(import.meta.dirname, '..', '..', '..', 'examples', 'seed-004-smmu-cmdqv');
const HOST = readFileSync(join(SEED, 'hosts', 'grace-h1.iommu'), 'utf8');
const GUEST = readFileSync(join(SEED, 'guests', 'gvm-a.iommu'), 'utf8');
const VI_A = readFileSync(join(SEED, 'vintf', 'vi-a.iommu'), 'utf8');

function check(files: Record<string, string>) {
  const all: Record<string, string> = { 'host.iommu': HOST, 'guest.iommu': GUEST, 'vintf.iommu': VI_A, ...files };
  const a = analyze(all);
  const text = (f: { uri: string }) => all[f.uri.replace('file:///ws/', '')]!;
  return { a, all, codes: a.all.map((f) => `${f.code}@${slice(text(f), f.span)}`) };
}

const commands = (batches: string) => ({ 'cmds.iommu': `commands vi-a {\n${batches}\n}\n` });

describe('VINTF commands', () => {
  test("the merged Linux guest driver's batches are clean", () => {
    const { codes } = check({ 'cmds.iommu': readFileSync(join(SEED, 'commands', 'vi-a-linux.iommu'), 'utf8') });
    assert.deepEqual(codes, []);
  });

  test('a guest VINTF (HYP_OWN = 0) takes only TLBI_NH_ASID, TLBI_NH_VA, ATC_INV and CMD_SYNC; the host VINTF0 takes everything', () => {
    const files = commands('  batch { CFGI_STE 0x8; CMD_SYNC }\n  batch { CFGI_CD sid 0x10 ssid 0 leaf; CMD_SYNC }');
    assert.deepEqual(check(files).codes, [
      'cmdqv-unsupported-command@CFGI_STE 0x8',
      'cmdqv-unsupported-command@CFGI_CD sid 0x10 ssid 0 leaf',
    ]);
    // The host kernel's VINTF0 (HYP_OWN = 1) takes them, with physical stream IDs.
    const host = { 'h0.iommu': 'vintf h0 on grace-h1.smmu0 { owner host }\n', 'cmds.iommu': files['cmds.iommu'].replace('vi-a', 'h0') };
    assert.deepEqual(check(host).codes, []);
  });

  test('a mixed batch names the command that decided its queue', () => {
    const { a, codes } = check(commands('  batch { TLBI_NH_ASID asid 12; CFGI_CD sid 0x10 ssid 0; CMD_SYNC }'));
    assert.deepEqual(codes, ['cmdqv-mixed-batch@CFGI_CD sid 0x10 ssid 0']);
    assert.match(a.all[0]!.related[0]!.message, /TLBI_NH_ASID decides the queue/);
  });

  test('a batch without a closing CMD_SYNC; the fix closes it', () => {
    const files = commands('  batch { TLBI_NH_VA asid 12 va 0xffffd000 }');
    const { a, codes } = check(files);
    assert.deepEqual(codes, ['cmdqv-batch-without-sync@batch']);
    const text = applyEdits(files['cmds.iommu'], a.all[0]!.fixes[0]!.edits);
    assert.match(text, /TLBI_NH_VA asid 12 va 0xffffd000; CMD_SYNC \}/);
    assert.deepEqual(check({ 'cmds.iommu': text }).codes, []);
  });

  test('stage-2 invalidations from a stage-1-only vSMMU; on the host VINTF0 they are fine', () => {
    const files = commands('  batch { TLBI_S2_IPA ipa 0x40000000; CMD_SYNC }\n  batch { TLBI_S12_VMALL; CMD_SYNC }');
    assert.deepEqual(check(files).codes, [
      'cmdqv-stage2-invalidation@TLBI_S2_IPA ipa 0x40000000',
      'cmdqv-stage2-invalidation@TLBI_S12_VMALL',
    ]);
    // The host's VINTF0 takes them: stage 2 is the host kernel's.
    assert.deepEqual(
      check({ 'h0.iommu': 'vintf h0 on grace-h1.smmu0 { owner host }\n', 'cmds.iommu': files['cmds.iommu'].replace('vi-a', 'h0') }).codes,
      [],
    );
    // With stage 2 but HYP_OWN = 0: the VCMDQ still does not take them.
    assert.deepEqual(check({ ...files, 'guest.iommu': GUEST.replace('via vi-a', 'via vi-a stage2') }).codes, [
      'cmdqv-unsupported-command@TLBI_S2_IPA ipa 0x40000000',
      'cmdqv-unsupported-command@TLBI_S12_VMALL',
    ]);
  });

  test('a stream ID no SID_MATCH pair maps is an illegal command', () => {
    const { a, codes } = check(commands('  batch { ATC_INV sid 0x18 ssid 0 addr 0x1000; CMD_SYNC }'));
    assert.deepEqual(codes, ['cmdqv-unmapped-stream@sid 0x18']);
    assert.match(a.all[0]!.message, /maps 0x8, 0x10/);
  });

  test('unknown opcodes and operands are named, with the closest known one', () => {
    const { a, codes } = check(commands('  batch { TLBI_NH_VAX asid 1; CMD_SYNC }\n  batch { ATC_INV sid 0x8 pasid 3; CMD_SYNC }'));
    assert.deepEqual(codes, ['unknown-value@TLBI_NH_VAX', 'unknown-value@pasid']);
    assert.match(a.all[0]!.message, /did you mean 'TLBI_NH_VA/);
  });
});

describe('VINTFs', () => {
  const guest = (name: string, vintf: string, assign: string[]) =>
    `guest ${name} on grace-h1 {\n  machine virt memory 8G\n  container iommufd\n  viommu vsmmu0 smmuv3 via ${vintf}\n${assign.map((d) => `  assign ${d}`).join('\n')}\n}\n`;

  test('more streams than SID pairs: the fifth device gets no pair', () => {
    const vintf = `vintf vi-x on smmu0 for gx {\n  owner guest\n  vmid 9\n${['cx7-vf2', 'cx7-vf3', 'cx7-vf4', 'cx7-vf5', 'cx7-vf6'].map((d, i) => `  stream ${d} as ${8 * (i + 1)}`).join('\n')}\n}\n`;
    const { codes } = check({
      'gx.iommu': guest('gx', 'vi-x', ['cx7-vf2', 'cx7-vf3', 'cx7-vf4', 'cx7-vf5', 'cx7-vf6']),
      'vx.iommu': vintf,
    });
    assert.deepEqual(codes, ['cmdqv-too-many-streams@stream cx7-vf6 as 40']);
  });

  test('HYP_OWN set by the guest (fixed by wiring it to 0) and a device behind another SMMU', () => {
    const vintf = 'vintf vi-c on smmu0 for gc {\n  owner guest\n  hyp-own on\n  stream nvme0 as 0x8\n}\n';
    const files = { 'gc.iommu': guest('gc', 'vi-c', ['nvme0']), 'vc.iommu': vintf };
    const { a, codes } = check(files);
    assert.deepEqual(codes, ['cmdqv-hyp-own-by-guest@hyp-own on', 'cmdqv-wrong-smmu@stream nvme0 as 0x8']);
    const fix = a.all.find((f) => f.code === 'cmdqv-hyp-own-by-guest')!.fixes[0]!;
    assert.deepEqual(check({ ...files, 'vc.iommu': applyEdits(vintf, fix.edits) }).codes, ['cmdqv-wrong-smmu@stream nvme0 as 0x8']);
  });

  test("a VINTF on an SMMU without CMDQV, more VINTFs than the CMDQV has, and a vIOMMU backed by another guest's VINTF", () => {
    const host = HOST.replace(
      '    cmdqv vintfs 16 sids-per-vintf 4\n  }\n  iommu smmu1',
      '    cmdqv vintfs 2 sids-per-vintf 4\n  }\n  iommu smmu1',
    ).replace(/(iommu smmu1 smmuv3 \{[^}]*?)\n {4}cmdqv vintfs 16 sids-per-vintf 4/, '$1');
    const files = {
      'host.iommu': host,
      // Declared after vi-a (files are read in name order), so it is the one left without a VINTF.
      'w.iommu': 'vintf vi-b on smmu0 for gvm-a {\n  owner guest\n}\nvintf vi-n on smmu1 for gvm-a {\n  owner guest\n}\n',
      'g2.iommu': guest('g2', 'vi-a', []),
    };
    assert.deepEqual(check(files).codes.sort(), ['cmdqv-missing@smmu1', 'cmdqv-too-many-vintfs@vi-b', 'cmdqv-wrong-guest@vi-a'].sort());
  });
});

describe('hover on a command', () => {
  const files = commands(
    '  batch { ATC_INV sid 0x10 ssid 0 addr 0x1000; CMD_SYNC }\n  batch { TLBI_NH_ASID asid 12 vmid 7; CFGI_STE 0x8; CMD_SYNC }',
  );
  const { a, all } = check(files);
  const text = all['cmds.iommu']!;
  const at = (word: string) => hover(a, uri('cmds.iommu'), text.indexOf(word) + 1)?.markdown ?? '';
  test('queue, VMID and stream substitution', () => {
    const atc = at('ATC_INV');
    assert.match(atc, /opcode 0x40/);
    assert.match(atc, /vi-a's VCMDQ on smmu0; the hardware executes it without a trap/);
    assert.match(atc, /substitutes vi-a's VMID 3/);
    assert.match(atc, /vSID 0x10 matches pair 2 of 4: SID_REPLACE 0x103 \(cx7-vf1\)/);
    assert.match(at('TLBI_NH_ASID'), /VMID 3 for the 7 the guest wrote/);
    assert.match(at('CFGI_STE'), /not vi-a's VCMDQ.*emulated main queue/);
  });
  test('a VINTF lists its pairs', () => {
    const md = hover(a, uri('vintf.iommu'), VI_A.indexOf('vi-a') + 1)?.markdown ?? '';
    assert.match(
      md,
      /SID pairs \(2 of 4 used\):\n- 1: SID_MATCH 0x8 → SID_REPLACE 0x102 \(cx7-vf0\)\n- 2: SID_MATCH 0x10 → SID_REPLACE 0x103 \(cx7-vf1\)/,
    );
  });
});
