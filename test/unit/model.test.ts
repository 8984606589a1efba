import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyze, codesAt, slice, uri } from '../helpers';

const HOST_A = `platform epyc-a {
  arch x86_64
  iommu amdvi0 amd-vi { address-width 48 }
  reserved ioapic msi 0xfee00000..0xfeefffff
  reserved unity0 direct 0xbdf6e000 size 92K for usb0, group 7
  device usb0 { bdf 00:14.0; iommu amdvi0 }
  device gpu0 { bdf 0000:41:00.0; iommu amdvi0; group 258 }
  device nic0 { bdf 0000:42:00.0; iommu amdvi0 }
}`;
const HOST_B = `platform epyc-b {
  arch x86_64
  iommu amdvi0 amd-vi { address-width 48 }
  device nic0 { bdf 0000:81:00.0; iommu amdvi0 }
  device gpu1 { bdf 0000:82:00.0; iommu amdvi0 }
}`;

describe('name resolution across files', () => {
  test('a guest in one file uses a platform and devices from another', () => {
    const files = {
      'hosts/a.iommu': HOST_A,
      'hosts/b.iommu': HOST_B,
      'guests/vm1.iommu': 'guest vm1 on epyc-a {\n  ram r 0x0 size 2G\n  assign gpu0\n}',
    };
    const a = analyze(files);
    assert.deepEqual(a.all, []);
    const vm1 = a.model.guests.get('vm1')!;
    assert.equal(vm1.platform?.sym.name, 'epyc-a');
    assert.equal(vm1.assigns[0]?.device?.sym.name, 'gpu0');
    assert.equal(vm1.assigns[0]?.mode, 'shared');
    const ref = a.model.references.find((r) => r.uri === uri('guests/vm1.iommu') && r.target.kind === 'device')!;
    assert.equal(ref.target.uri, uri('hosts/a.iommu'));
    const unity = a.model.platforms.get('epyc-a')!.reserved.find((r) => r.sym.name === 'unity0')!;
    assert.deepEqual(
      unity.targets.map((t) => t.kind),
      ['device', 'group'],
    );
    assert.deepEqual(unity.range, { start: 0xbdf6e000n, end: 0xbdf84fffn });
  });

  test('two platforms may both have a nic0; one platform may not have two', () => {
    const files = {
      'a.iommu': HOST_A,
      'b.iommu': HOST_B,
      'c.iommu': 'platform c {\n  device x { bdf 00:01.0 }\n  iommu x vt-d\n  ram x 0x0 size 4K\n}',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['duplicate-name@x', 'duplicate-name@x']);
    assert.equal(a.all[0]!.related[0]!.uri, uri('c.iommu'));
  });

  test('global names are one namespace across files', () => {
    const files = { 'a.iommu': HOST_A, 'b.iommu': 'guest epyc-a on epyc-a { }\ntimeline t { }\npool t { epyc-a }' };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['duplicate-name@epyc-a', 'duplicate-name@t']);
    assert.equal(slice(HOST_A, a.all[0]!.related[0]!.span), 'epyc-a');
    assert.equal(a.all[0]!.related[0]!.uri, uri('a.iommu'));
  });

  test('unknown names, with did-you-mean fixes', () => {
    const files = { 'a.iommu': HOST_A, 'g.iommu': 'guest vm1 on epyc-x {\n}\nguest vm2 on epyc-a {\n  assign gpu9\n  assign gpu1\n}' };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['unknown-name@epyc-x', 'unknown-name@gpu9', 'unknown-name@gpu1']);
    const [platform, gpu9] = a.all;
    assert.match(platform!.message, /did you mean 'epyc-a'/);
    assert.deepEqual(
      platform!.fixes[0]!.edits.map((e) => e.newText),
      ['epyc-a'],
    );
    assert.deepEqual(
      gpu9!.fixes[0]!.edits.map((e) => e.newText),
      ['gpu0'],
    );
  });

  test('a device another platform has is named in the hint', () => {
    const files = { 'a.iommu': HOST_A, 'b.iommu': HOST_B, 'g.iommu': 'guest vm2 on epyc-a {\n  assign gpu1\n}' };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['unknown-name@gpu1']);
    assert.match(a.all[0]!.message, /epyc-b has one/);
  });

  test('a name of the wrong kind', () => {
    const files = {
      'a.iommu': HOST_A,
      'g.iommu': 'guest vm1 on epyc-a {\n  assign amdvi0\n}\nguest vm2 on vm1 { }\ntimeline t { start epyc-a }',
      'p.iommu': 'platform q {\n  ram r0 0x0 size 4K\n  reserved x msi 0xfee00000 size 1M for r0\n  device d { iommu r0 }\n}',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['wrong-kind@amdvi0', 'wrong-kind@vm1', 'wrong-kind@epyc-a', 'wrong-kind@r0', 'wrong-kind@r0']);
    assert.match(a.all[0]!.message, /'amdvi0' is an IOMMU of platform epyc-a, not a device/);
    assert.match(a.all[1]!.message, /'vm1' is a guest, not a platform/);
  });

  test('a qualified name from another platform', () => {
    const files = {
      'a.iommu': HOST_A,
      'b.iommu': HOST_B,
      'g.iommu': 'guest vm1 on epyc-a {\n  assign epyc-b.gpu1\n  assign epyc-a.gpu0\n  assign nowhere.gpu0\n}',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['wrong-platform@epyc-b.gpu1', 'unknown-name@nowhere']);
    assert.equal(a.model.guests.get('vm1')!.assigns[1]!.device?.sym.container, 'epyc-a');
  });
});

describe('timelines resolve in the platform the guest is on at each step', () => {
  const guest = 'guest vm1 on epyc-a {\n  ram r 0x0 size 2G\n  assign nic0\n}\n';

  test("after migrate, nic0 means the target platform's", () => {
    const files = {
      'a.iommu': HOST_A,
      'b.iommu': HOST_B,
      'vm1.iommu': guest,
      't.iommu':
        'timeline t1 {\n  start vm1\n  hotplug nic0 into vm1\n  migrate vm1 to epyc-b\n  hotplug nic0 into vm1\n  hotplug gpu1 into vm1\n  hotplug epyc-a.gpu0 into vm1\n}',
    };
    const a = analyze(files);
    // vm1 holds nic0 from its `assign`, and keeps it across the migration (epyc-b's nic0):
    // hot-adding it again is refused both times.
    assert.deepEqual(codesAt(a, files), [
      'device-assigned-twice@hotplug nic0 into vm1',
      'device-assigned-twice@hotplug nic0 into vm1',
      'wrong-platform@epyc-a.gpu0',
    ]);
    const steps = a.model.timelines.get('t1')!.steps;
    assert.equal(steps[1]!.device?.sym.container, 'epyc-a');
    assert.equal(steps[2]!.target?.sym.name, 'epyc-b');
    assert.equal(steps[3]!.device?.sym.container, 'epyc-b');
    assert.equal(steps[3]!.platform?.sym.name, 'epyc-b');
    assert.equal(steps[4]!.device?.sym.container, 'epyc-b');
  });

  test('gpu1 is unknown before the migration', () => {
    const files = {
      'a.iommu': HOST_A,
      'b.iommu': HOST_B,
      'vm1.iommu': guest,
      't.iommu': 'timeline t1 {\n  start vm1\n  hotplug gpu1 into vm1\n}',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['unknown-name@gpu1']);
    assert.match(a.all[0]!.message, /no device 'gpu1' on platform epyc-a; epyc-b has one/);
  });

  test('a device named without a guest resolves among the platforms in play, or is ambiguous', () => {
    const files = {
      'a.iommu': HOST_A,
      'b.iommu': HOST_B,
      'vm1.iommu': guest,
      'vm2.iommu': 'guest vm2 on epyc-b { }',
      't.iommu':
        'timeline t1 {\n  start vm1\n  link nic0 up\n  start vm2\n  config nic0 command MSE BME\n  config epyc-b.nic0 flr\n  tdisp gpu9 lock\n}',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['ambiguous-name@nic0', 'unknown-name@gpu9']);
    const amb = a.all[0]!;
    assert.deepEqual(
      amb.fixes.map((f) => f.edits[0]!.newText),
      ['epyc-a.nic0', 'epyc-b.nic0'],
    );
    assert.equal(amb.related.length, 2);
    const steps = a.model.timelines.get('t1')!.steps;
    assert.equal(steps[1]!.device?.sym.container, 'epyc-a');
    assert.equal(steps[4]!.device?.sym.container, 'epyc-b');
  });

  test('a migrate to an unknown platform is reported once, not again at every later step', () => {
    const files = {
      'a.iommu': HOST_A,
      'vm1.iommu': guest,
      't.iommu': 'timeline t1 {\n  start vm1\n  migrate vm1 to epyc-z\n  hotplug gpu1 into vm1\n}',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['unknown-name@epyc-z']);
  });
});

describe('firmware, xen, vintf and commands resolve their names', () => {
  const altra = `platform altra {
  arch arm64
  iommu smmu0 smmuv3 { cmdqv vintfs 2 sids-per-vintf 16 }
  device nic0 { bdf 0000:01:00.0; iommu smmu0 stream 0x100; tdisp }
}
guest cvm on altra {
  machine virt memory 16G cpu amd
  confidential sev-snp { vtom 0x1_0000_0000 }
  container iommufd
  viommu vsmmu0 smmuv3 via vi0
  assign nic0 as private
}`;

  test('a clean description has no findings and resolves everything', () => {
    const files = {
      'altra.iommu': altra,
      'fw.iommu': `firmware ovmf for cvm {
  driver VirtioNetDxe for nic0 {
    map rx-ring common-buffer size 64K pending
    on before-exit-boot-services tpl callback { stop-dma; unmap rx-ring }
  }
  iommu-protocol {
    on exit-boot-services tpl callback { signal late }
    on event late tpl callback unmap-all
  }
}`,
      'cmdqv.iommu':
        'vintf vi0 on smmu0 for cvm {\n  owner guest\n  stream nic0 as 0x8\n}\ncommands vi0 {\n  batch { ATC_INV sid 0x8; CMD_SYNC }\n}',
      'xen.iommu':
        'xen host1 on altra {\n  dom0 { mode pvh; iommu strict }\n  domain d1 { mode hvm; pass nic0 }\n}\ntimeline t { balloon d1 0x0 size 2M; free host1.d1 0x0 size 4K; balloon cvm }',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), []);
    const vi0 = a.model.vintfs.get('vi0')!;
    assert.equal(vi0.iommu?.sym.name, 'smmu0');
    assert.equal(vi0.streams[0]!.device?.sym.name, 'nic0');
    assert.equal(vi0.streams[0]!.virtualSid, 8n);
    assert.equal(a.model.guests.get('cvm')!.viommus[0]!.via, vi0);
    assert.equal(a.model.commands[0]!.vintf, vi0);
    assert.equal(a.model.xens.get('host1')!.domains.get('d1')!.passed[0]!.device.sym.name, 'nic0');
    assert.equal(a.model.firmwares.get('ovmf')!.drivers[0]!.device?.sym.name, 'nic0');
    assert.ok(a.model.references.some((r) => r.target.kind === 'mapping' && r.target.name === 'rx-ring'));
    assert.ok(a.model.references.some((r) => r.target.kind === 'event' && r.target.name === 'late'));
  });

  test('unknown mappings, events, devices, IOMMUs and VINTFs', () => {
    const files = {
      'altra.iommu': altra,
      'fw.iommu':
        'firmware ovmf for cvm {\n  driver D for nic9 {\n    map ring common-buffer size 4K completed\n    on exit-boot-services tpl notify { unmap rng; signal never }\n  }\n}',
      'cmdqv.iommu': 'vintf vi0 on smmu9 for cvm {\n  stream gpu0 as 0x9\n}\ncommands vi1 { batch { CMD_SYNC } }',
      'xen.iommu': 'xen host1 on altra {\n  domain d1 { pass gpu7 }\n}\ntimeline t { balloon d2 }',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), [
      'unknown-name@smmu9',
      'unknown-name@gpu0',
      'unknown-name@vi1',
      'unknown-name@nic9',
      'unknown-name@rng',
      'unknown-name@never',
      'unknown-name@gpu7',
      'unknown-name@d2',
    ]);
    assert.match(a.all.find((f) => f.message.includes("'rng'"))!.message, /did you mean 'ring'/);
  });
});

describe('settings and addresses', () => {
  test('a setting given twice is a warning pointing back at the first', () => {
    const files = {
      'p.iommu':
        'platform p {\n  arch x86_64\n  arch arm64\n  device d { bdf 00:01.0; group 3; group 4 }\n}\nguest g on p { machine q35 memory 4G memory 8G }',
    };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['duplicate-setting@arch arm64', 'duplicate-setting@group 4', 'duplicate-setting@memory 8G']);
    assert.ok(a.all.every((f) => f.severity === 'warning' && f.related.length === 1));
    assert.equal(a.model.guests.get('g')!.machine?.memory, 8n << 30n);
    // A mapping's `pending` and `completed` are one setting.
    const fw = {
      ...files,
      'f.iommu': 'firmware f for g {\n  driver D for d {\n    map ring common-buffer size 4K pending completed\n  }\n}',
    };
    const b = analyze(fw);
    assert.deepEqual(
      codesAt(b, fw).filter((c) => c.includes('completed')),
      ['duplicate-setting@completed'],
    );
    assert.match(
      b.all.find((f) => f.span.start === fw['f.iommu'].indexOf('completed'))!.message,
      /mapping ring already has a 'pending\/completed' setting/,
    );
    assert.equal(b.model.firmwares.get('f')!.drivers[0]!.maps.get('ring')!.state, 'completed');
  });

  test('two devices at one BDF', () => {
    const files = { 'p.iommu': 'platform p {\n  device a { bdf 0000:41:00.0 }\n  device b { bdf 41:00.0 }\n}' };
    const a = analyze(files);
    assert.deepEqual(codesAt(a, files), ['duplicate-bdf@41:00.0']);
  });
});

describe('determinism', () => {
  test('same input, same findings in the same order, whatever the file order', () => {
    const files = { 'b.iommu': 'guest g on nowhere { assign x }', 'a.iommu': 'guest g on p { }\nplatform p { device d { bdf 00:20.0 } }' };
    const one = analyze(files).all;
    const two = analyze(Object.fromEntries(Object.entries(files).reverse())).all;
    assert.deepEqual(one, two);
    assert.deepEqual(
      one.map((f) => f.uri),
      [uri('a.iommu'), uri('b.iommu'), uri('b.iommu')],
    );
  });
});
