/**
 * SEV-SNP / SEV-TIO (RULES §6) on seed 001's Turin host: the vTOM split, one iommufd
 * instance per guest, DMA windows, modes fixed at realize, and the launch ordering that
 * broke the RFC's first bring-up.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { hover } from '../../../server/src/ide';
import { analyze, applyEdits, codesAt, slice, uri } from '../../helpers';
import { resultOf } from '../../../server/src/sim';
import { TIMELINES_ENGINE } from '../../../server/src/domains/timelines/engine';

const HOST = readFileSync(new URL('../../../examples/seed-001-tdisp-sev-tio/hosts/turin-tio01.iommu', import.meta.url), 'utf8');

function guest(assigns: string, confidential = 'confidential sev-snp { vtom 0x100_0000_0000 }', name = 'cvm'): string {
  return `guest ${name} on turin-tio01 {\n  machine q35 memory 16G cpu amd\n  ${confidential}\n  container iommufd\n${assigns
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n}`;
}

function check(files: Record<string, string>) {
  const all: Record<string, string> = { 'host.iommu': HOST, ...files };
  const a = analyze(all);
  return { a, files: all, codes: codesAt(a, all) };
}

describe('vTOM: private below, shared at or above (RULES §6.1)', () => {
  test('hover splits every guest RAM line at vTOM', () => {
    const text =
      'guest cvm on turin-tio01 {\n  confidential sev-snp { vtom 0x1_0000_0000 }\n  ram low 0x0 size 2G\n  ram high 0x1_0000_0000 size 14G\n  ram straddle 0xc000_0000 size 2G\n}';
    const r = check({ 'g.iommu': text });
    const at = (w: string) => hover(r.a, uri('g.iommu'), text.indexOf(w) + 1)!.markdown;
    assert.match(at('low'), /vTOM `0x100000000`: private `0x0\.\.0x7fffffff`/);
    assert.match(at('high'), /shared `0x100000000\.\.0x47fffffff`/);
    assert.doesNotMatch(at('high'), /private `/);
    assert.match(at('straddle'), /private `0xc0000000\.\.0xffffffff`, shared `0x100000000\.\.0x13fffffff`/);
  });

  test('the machine hover splits the computed RAM; without vtom everything is private', () => {
    const text = guest('', 'confidential sev-snp');
    const r = check({ 'g.iommu': text });
    const h = hover(r.a, uri('g.iommu'), text.indexOf('q35'))!.markdown;
    assert.match(h, /- ram-below-4g: SEV-SNP, vTOM not given \(at its maximum\): private `0x0\.\.0x7fffffff`/);
    assert.match(h, /- ram-above-4g: SEV-SNP, vTOM not given \(at its maximum\): private `0x100000000\.\.0x47fffffff`/);
  });

  test('no split for a guest that is not SEV-SNP', () => {
    const text = guest('', 'confidential tdx');
    const r = check({ 'g.iommu': text });
    assert.doesNotMatch(hover(r.a, uri('g.iommu'), text.indexOf('q35'))!.markdown, /vTOM/);
  });
});

describe('one iommufd instance: all private or all shared (RULES §6.1)', () => {
  test('a private and a shared device in one guest', () => {
    const r = check({ 'g.iommu': guest('assign nic2 as private\nassign nic1') });
    assert.deepEqual(r.codes, ['sev-mixed-instance@assign nic1']);
    const f = r.a.all[0]!;
    assert.match(
      f.message,
      /nic1 DMAs to shared memory \(shared\) and nic2 privately \(private\), through the iommufd instance of guest cvm \(container iommufd\)/,
    );
    assert.match(f.message, /SEV-TIO RFC, not merged/);
    assert.equal(slice(r.files['g.iommu']!, f.related[0]!.span), 'assign nic2 as private');
  });

  test('bind-capable devices run shared: with each other fine, with a private one mixed', () => {
    assert.deepEqual(check({ 'g.iommu': guest('assign nic0 as bind-capable\nassign nic0-vf0 as bind-capable') }).codes, []);
    assert.deepEqual(check({ 'g.iommu': guest('assign nic0 as bind-capable\nassign nic2 as private') }).codes, [
      'sev-mixed-instance@assign nic2 as private',
    ]);
  });

  test('converting one of two bind-capable devices mixes the instance, at the convert step', () => {
    const t = 'timeline t {\n  start cvm\n  launch-update cvm\n  tdisp nic0 lock\n  tdisp nic0 start\n  convert nic0 to private\n}';
    const r = check({ 'g.iommu': guest('assign nic0 as bind-capable\nassign nic0-vf0 as bind-capable'), 't.iommu': t });
    assert.deepEqual(r.codes, ['sev-mixed-instance@convert nic0 to private']);
    assert.match(
      r.a.all[0]!.message,
      /^converting nic0 to private: nic0 DMAs privately \(private\) and nic0-vf0 to shared memory \(bind-capable\)/,
    );
  });

  test('a hot-add of the other mode is mixed too', () => {
    const t = 'timeline t {\n  start cvm\n  hotplug nic2 into cvm as private\n}';
    const r = check({ 'g.iommu': guest('assign nic1'), 't.iommu': t });
    assert.deepEqual(r.codes, ['sev-mixed-instance@hotplug nic2 into cvm as private']);
    assert.match(r.a.all[0]!.message, /^hot-adding nic2 to guest cvm on turin-tio01: /);
  });
});

describe('iommufd instances: private needs one, each is all private or all shared (RULES §6.5, §6.6)', () => {
  // QEMU docs/devel/vfio-iommufd.rst: "-object iommufd,id=iommufd0 -device vfio-pci,host=...,iommufd=iommufd0";
  // without iommufd= a vfio-pci device uses the legacy container. Every TSM-bind proposal goes through an iommufd vDEVICE.
  const type1 = (assigns: string) => guest(assigns).replace('  container iommufd\n', '');

  test('a private device on the default legacy container is refused; the fix gives the guest iommufd', () => {
    const r = check({ 'g.iommu': type1('assign nic2 as private') });
    assert.deepEqual(r.codes, ['sev-private-needs-iommufd@assign nic2 as private']);
    const f = r.a.all[0]!;
    assert.match(
      f.message,
      /legacy VFIO container \(type1\): private \(TDISP\) assignment binds the TDI through an iommufd vIOMMU\/vDEVICE/,
    );
    assert.match(f.message, /SEV-TIO RFC, not merged/);
    const fixed = applyEdits(r.files['g.iommu']!, f.fixes[0]!.edits);
    assert.match(fixed, /container iommufd\n {2}machine q35/);
    assert.deepEqual(check({ 'g.iommu': fixed }).codes, []);
    // An explicit `container type1` is rewritten in place.
    const explicit = check({ 'g.iommu': guest('assign nic2 as private').replace('container iommufd', 'container type1') });
    assert.match(applyEdits(explicit.files['g.iommu']!, explicit.a.all[0]!.fixes[0]!.edits), /container iommufd\n {2}assign nic2/);
  });

  test('a private hot-add and a conversion to private on the legacy container are refused at the step', () => {
    const t =
      'timeline t {\n  start cvm\n  launch-update cvm\n  hotplug nic2 into cvm as private\n  tdisp nic3 lock\n  tdisp nic3 start\n  convert nic3 to private\n}';
    assert.deepEqual(check({ 'g.iommu': type1('assign nic3 as bind-capable'), 't.iommu': t }).codes, [
      'sev-private-needs-iommufd@hotplug nic2 into cvm as private',
      'sev-private-needs-iommufd@convert nic3 to private',
    ]);
  });

  test('a private and a shared device on separate instances are fine; on one named instance they are mixed', () => {
    const two = 'iommufd fdA\niommufd fdB\nassign nvme0 as private iommufd fdA\nassign nvme1 iommufd fdB';
    assert.deepEqual(check({ 'g.iommu': type1(two) }).codes, []);
    const one = check({ 'g.iommu': type1(two.replace('iommufd fdB\n', '').replace('nvme1 iommufd fdB', 'nvme1 iommufd fdA')) });
    assert.deepEqual(one.codes, ['sev-mixed-instance@assign nvme1 iommufd fdA']);
    assert.match(one.a.all[0]!.message, /through iommufd instance fdA/);
    // A shared device without iommufd= uses the legacy container: no instance to mix with.
    assert.deepEqual(check({ 'g.iommu': type1('iommufd fdA\nassign nvme0 as private iommufd fdA\nassign nvme1') }).codes, []);
  });

  test('a hot-add names its instance as device_add does (iommufd=NAME): private on its own instance is fine, on a shared one mixed', () => {
    // QEMU: `device_add vfio-pci,host=...,iommufd=fdP`; without iommufd= the hot-added device takes the legacy container.
    const g = type1('iommufd fdP\niommufd fdS\nassign nvme1 iommufd fdS');
    const step = (how: string) => ({
      'g.iommu': g,
      't.iommu': `timeline t {\n  start cvm\n  launch-update cvm\n  hotplug nvme0 into cvm ${how}\n}`,
    });
    assert.deepEqual(check(step('as private iommufd fdP')).codes, []);
    const mixed = check(step('as private iommufd fdS'));
    assert.deepEqual(mixed.codes, ['sev-mixed-instance@hotplug nvme0 into cvm as private iommufd fdS']);
    assert.match(mixed.a.all[0]!.message, /iommufd instance fdS/);
    assert.deepEqual(check(step('as private')).codes, ['sev-private-needs-iommufd@hotplug nvme0 into cvm as private']);
    // The name resolves in the guest's scope: a typo is an unknown name, and go-to-definition finds the instance.
    const typo = check(step('as private iommufd fdX'));
    assert.deepEqual(typo.codes, ['unknown-name@fdX']);
  });

  test('an instance the guest does not declare is an unknown name', () => {
    const r = check({ 'g.iommu': type1('iommufd fdA\nassign nvme0 as private iommufd fdB') });
    assert.deepEqual(r.codes, ['unknown-name@fdB']);
  });
});

describe('DMA windows against vTOM (RULES §6.1)', () => {
  const vtom4g = 'confidential sev-snp { vtom 0x1_0000_0000 }';
  const cases: [string, string[]][] = [
    ['assign nic2 as private dma-window 0x0 size 2G', []],
    ['assign nic2 as private dma-window 0xc000_0000 size 2G', ['sev-dma-window@assign nic2 as private dma-window 0xc000_0000 size 2G']],
    ['assign nic1 dma-window 0x1_0000_0000 size 1G', []],
    ['assign nic1 dma-window 0x8000_0000 size 1G', ['sev-dma-window@assign nic1 dma-window 0x8000_0000 size 1G']],
    ['assign nic3 as bind-capable dma-window 0x2_0000_0000 size 1G', []],
  ];
  for (const [line, expected] of cases) {
    test(line, () => assert.deepEqual(check({ 'g.iommu': guest(line, vtom4g) }).codes, expected));
  }

  test('the message says what the IOMMU does with the stray part', () => {
    const r = check({ 'g.iommu': guest('assign nic2 as private dma-window 0xc000_0000 size 2G', vtom4g) });
    assert.match(
      r.a.all[0]!.message,
      /reaches 0x100000000\.\.0x13fffffff, at or above vTOM 0x100000000: the IOMMU treats DMA there as shared \(C-bit clear\)/,
    );
    assert.equal(slice(r.files['g.iommu']!, r.a.all[0]!.related[0]!.span), vtom4g);
  });

  test('without vtom there is nothing to check a window against', () => {
    assert.deepEqual(check({ 'g.iommu': guest('assign nic1 dma-window 0x8000_0000 size 1G', 'confidential sev-snp') }).codes, []);
  });

  test('a bind-capable device is checked as private once converted', () => {
    const t = 'timeline t {\n  start cvm\n  tdisp nic3 lock\n  tdisp nic3 start\n  convert nic3 to private\n}';
    const r = check({ 'g.iommu': guest('assign nic3 as bind-capable dma-window 0x2_0000_0000 size 1G', vtom4g), 't.iommu': t });
    assert.deepEqual(r.codes, ['sev-dma-window@convert nic3 to private']);
  });
});

describe('modes are fixed at realize (RULES §6.2, §6.4)', () => {
  test('converting a device realized shared needs unplug and replug; the fix does that', () => {
    const t = 'timeline t {\n  start cvm\n  convert nic1 to private\n}';
    const r = check({ 'g.iommu': guest('assign nic1'), 't.iommu': t });
    assert.deepEqual(r.codes, ['sev-convert-needs-replug@convert nic1 to private']);
    const f = r.a.all[0]!;
    assert.match(f.message, /nic1 was realized shared: QEMU wrote its IOMMU device table entry \(DTE\) then/);
    assert.equal(slice(r.files['g.iommu']!, f.related[0]!.span), 'assign nic1');
    const fixed = applyEdits(t, f.fixes[0]!.edits);
    assert.equal(fixed, 'timeline t {\n  start cvm\n  unplug nic1 from cvm\n  hotplug nic1 into cvm as private\n}');
    assert.deepEqual(check({ 'g.iommu': guest('assign nic1'), 't.iommu': fixed }).codes, []);
  });

  test('converting to the mode a device already has does nothing; a bind-capable device may go back to shared', () => {
    const t =
      'timeline t {\n  start cvm\n  convert nic1 to shared\n  tdisp nic3 lock\n  tdisp nic3 start\n  convert nic3 to private\n  convert nic3 to shared\n}';
    const r = check({ 'g.iommu': guest('assign nic1\nassign nic3 as bind-capable'), 't.iommu': t });
    assert.deepEqual(r.codes, ['sev-mixed-instance@convert nic3 to private']);
  });

  test('private DMA needs a confidential guest and a TDISP device; convert needs the device plugged', () => {
    const plain = 'guest plain on turin-tio01 {\n  machine q35 memory 4G\n  assign nic2 as private\n}';
    const host = HOST.replace(
      'device nic3 { bdf 0000:e1:00.1; iommu amdvi1; group 82; tdisp; quirk bme-zero-write-clears }',
      'device nic3 { bdf 0000:e1:00.1; iommu amdvi1; group 82 }',
    );
    const r = check({
      'host.iommu': host,
      'p.iommu': plain,
      'g.iommu': guest('assign nic3 as bind-capable'),
      't.iommu': 'timeline t {\n  convert nic2 to shared\n}',
    });
    assert.deepEqual(r.codes, [
      'tdisp-not-capable@assign nic3 as bind-capable',
      'sev-not-confidential@assign nic2 as private',
      'sev-private-needs-iommufd@assign nic2 as private',
      'device-not-plugged@convert nic2 to shared',
    ]);
  });
});

describe('SNP_LAUNCH_UPDATE after a private realize (RULES §6.3)', () => {
  const early = guest('assign nic2 as private      // x-tio=true');
  const boot = 'timeline boot {\n  start cvm\n  launch-update cvm\n}';

  test('the finding is on the assign line, with the launch step related and the RMP message', () => {
    const r = check({ 'g.iommu': early, 't.iommu': boot });
    assert.deepEqual(r.codes, ['sev-launch-private-pinned@assign nic2 as private']);
    const f = r.a.all[0]!;
    // KVM sev_gmem_post_populate: -EEXIST on the first launch page already assigned (its message is pr_debug);
    // QEMU sev_snp_launch_finish: error_report ("SNP_LAUNCH_UPDATE ret=%d fw_error=%d '%s'") and exit (1).
    assert.match(f.message, /^nic2 is realized private here, before SNP_LAUNCH_UPDATE\. Unconfirmed: /);
    assert.match(f.message, /SNP_LAUNCH_UPDATE ret=-17 fw_error=0 ''/);
    assert.match(f.message, /first launch page \(the OVMF image or an SEV metadata page\)/);
    assert.doesNotMatch(f.message, /all guest memory|GFN 0x0/);
    assert.equal(f.related[0]!.uri, uri('t.iommu'));
    assert.equal(slice(boot, f.related[0]!.span), 'launch-update cvm');
  });

  test('"assign as bind-capable" fixes it, and converting after RUN is clean', () => {
    const r = check({ 'g.iommu': early, 't.iommu': boot });
    const fix = r.a.all[0]!.fixes[0]!;
    assert.equal(fix.title, 'Realize nic2 bind-capable (shared until the guest converts it)');
    const fixed = applyEdits(early, fix.edits);
    assert.match(fixed, /assign nic2 as bind-capable {6}\/\/ x-tio=true/);
    const later =
      'timeline boot {\n  start cvm\n  launch-update cvm\n  tdisp nic2 lock\n  tdisp nic2 report\n  tdisp nic2 start\n  config nic2 command MSE BME\n  convert nic2 to private\n}';
    assert.deepEqual(check({ 'g.iommu': fixed, 't.iommu': later }).codes, []);
  });

  test('reported once however many timelines launch the guest; nothing without a launch', () => {
    assert.equal(check({ 'g.iommu': early, 't.iommu': boot, 't2.iommu': boot.replace('boot', 'boot2') }).codes.length, 1);
    assert.deepEqual(check({ 'g.iommu': early, 't.iommu': 'timeline t {\n  start cvm\n}' }).codes, []);
  });

  test('a private hot-add before the launch fails it too; after the launch it does not pin anything new', () => {
    const before = 'timeline t {\n  start cvm\n  hotplug nic2 into cvm as private\n  launch-update cvm\n}';
    const r = check({ 'g.iommu': guest(''), 't.iommu': before });
    assert.deepEqual(r.codes, ['sev-launch-private-pinned@hotplug nic2 into cvm as private']);
    assert.equal(applyEdits(before, r.a.all[0]!.fixes[0]!.edits), before.replace('as private', 'as bind-capable'));
    const after = 'timeline t {\n  start cvm\n  launch-update cvm\n  hotplug nic2 into cvm as private\n}';
    assert.deepEqual(check({ 'g.iommu': guest(''), 't.iommu': after }).codes, []);
  });

  test('a launch needs a running SEV-SNP guest; a restart launches again', () => {
    const tdx = guest('', 'confidential tdx', 'td');
    const t =
      'timeline t {\n  launch-update cvm\n  start td\n  launch-update td\n  start cvm\n  launch-update cvm\n  stop cvm\n  start cvm\n}';
    const r = check({ 'g.iommu': guest(''), 'td.iommu': tdx, 't.iommu': t });
    assert.deepEqual(r.codes, ['guest-not-running@launch-update cvm', 'sev-not-confidential@launch-update td']);
    const states = [...resultOf(r.a.sim, TIMELINES_ENGINE).values()][0]!.states;
    const cvm = (i: number) => states[i]!.guests.find((g) => g.guest.sym.name === 'cvm')!;
    assert.equal(cvm(4).launched, true);
    assert.equal(cvm(6).launched, false);
  });
});
