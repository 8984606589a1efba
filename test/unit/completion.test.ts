/** Completion: keywords allowed at the cursor, names of the right kind, values, each documented. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IProduction } from 'chevrotain';
import { ALL_KEYWORDS, DECLARATION_KEYWORDS, ENUMS, parserInstance } from '@iommu-lens/grammar';
import { assistAt } from '../../grammar/src/assist';
import { completion, slotFillers, type CompletionItem } from '../../server/src/ide/completion';
import { SMMU_FIELD_DOCS } from '../../server/src/domains/cmdqv/ide/smmuFields';
import { DOMAINS } from '../../server/src/domains';
import { keywordDocs, REGION_MEANING } from '../../server/src/ide/keywordDocs';
import { SMMU_OPCODES } from '../../server/src/domains/cmdqv/model/smmuCommands';
import { analyze, cursor, markers, uri } from '../helpers';

const HOSTS = `platform epyc-a {
  arch x86_64
  iommu amdvi0 amd-vi { address-width 48 }
  reserved ioapic msi 0xfee00000..0xfeefffff
  device gpu0 { bdf 0000:41:00.0; iommu amdvi0; group 258 }
  device nic0 { bdf 0000:c2:00.0; iommu amdvi0; group 41; tdisp }
  device usb0 { bdf 00:14.0; iommu amdvi0 }
}
platform epyc-b {
  arch x86_64
  iommu amdvi0 amd-vi
  device nic0 { bdf 0000:c2:00.0; iommu amdvi0; group 41; tdisp }
  device nvme1 { bdf 0000:01:00.0; iommu amdvi0; group 7 }
}
`;

/** Completions at the one `<|>` of `marked`, in a workspace of HOSTS and the marked file analysed as typed. */
function complete(marked: string, extra: Record<string, string> = {}): CompletionItem[] {
  const { text, offset } = cursor(marked);
  const a = analyze({ 'hosts.iommu': HOSTS, ...extra, 'a.iommu': text });
  return completion(a, uri('a.iommu'), text, offset);
}

const labels = (items: CompletionItem[]) => items.map((i) => i.label);
const item = (items: CompletionItem[], label: string) => {
  const found = items.find((i) => i.label === label);
  assert.ok(found, `no item ${label} in ${labels(items).join(' ')}`);
  return found;
};

test('an empty line at the top level offers the declarations, documented', () => {
  const items = complete('platform p { arch arm64 }\n<|>\n');
  assert.deepEqual(labels(items), [...DECLARATION_KEYWORDS]);
  for (const i of items) {
    assert.equal(i.kind, 'keyword');
    assert.equal(i.detail, 'declaration');
    assert.equal(i.documentation, keywordDocs(DOMAINS).docs[i.label]);
  }
  assert.match(item(items, 'guest').documentation!, /`guest NAME on PLATFORM \{ \.\.\. \}`/);
});

test('inside a platform its statements; inside a device the device statements, in their own sense', () => {
  const platform = complete('platform p {\n  arch x86_64\n  <|>\n}\n');
  assert.deepEqual(labels(platform), ['arch', 'kernel', 'iommu', 'ram', 'reserved', 'device', 'ioapic', 'mmcfg', 'dma-entry-limit']);
  assert.equal(item(platform, 'iommu').detail, 'platform statement');
  assert.match(item(platform, 'iommu').documentation!, /^One IOMMU unit of the host/);

  const device = complete('platform p {\n  device d {\n    bdf 00:01.0\n    <|>\n  }\n}\n');
  assert.deepEqual(labels(device), ['bdf', 'iommu', 'group', 'tdisp', 'quirk', 'vf-of', 'class']);
  assert.equal(item(device, 'iommu').detail, 'device statement');
  assert.match(item(device, 'iommu').documentation!, /^The IOMMU that translates the device's DMA/);
  // The same on a one-line device, after a `;`.
  assert.deepEqual(labels(complete('platform p {\n  device d { bdf 00:01.0; <|> }\n}\n')), labels(device));
});

test('after `reserved NAME` the region types, with what Linux makes of each', () => {
  const items = complete('platform p {\n  reserved r <|>\n}\n');
  assert.deepEqual(labels(items), [...ENUMS.regionType]);
  for (const i of items) {
    assert.equal(i.kind, 'value');
    assert.equal(i.detail, 'reserved-region type');
    const m = REGION_MEANING[i.label as keyof typeof REGION_MEANING];
    assert.equal(i.documentation, `Reserved-region type \`${i.label}\` (\`${m.enumName}\`): ${m.meaning}.`);
  }
  // After the range: `for` (then the platform's devices and IOMMUs and `group`) or `from`.
  assert.deepEqual(labels(complete('platform epyc-a {\n  reserved r direct 0x1000 size 4K <|>\n}\n')), ['for', 'from']);
  assert.deepEqual(labels(complete('platform epyc-a {\n  reserved r direct 0x1000 size 4K from <|>\n}\n')), [...ENUMS.regionOrigin]);
  const targets = complete(
    'platform epyc-c {\n  iommu io0 vt-d\n  device d0 { bdf 00:01.0 }\n  reserved r direct 0x1000 size 4K for d0, <|>\n}\n',
  );
  assert.deepEqual(labels(targets), ['group', 'd0', 'io0']);
  assert.deepEqual(
    targets.map((i) => i.kind),
    ['keyword', 'device', 'iommu'],
  );
});

test("after `iommu NAME` the IOMMU kinds; a device's `iommu` offers the IOMMUs of its platform", () => {
  const kinds = complete('platform p {\n  iommu io0 <|>\n}\n');
  assert.deepEqual(labels(kinds), [...ENUMS.iommuKind]);
  assert.ok(kinds.every((i) => i.detail === 'IOMMU kind'));
  assert.match(item(kinds, 'amd-vi').documentation!, /HyperTransport hole 0xfd00000000\.\.0xffffffffff/);

  const refs = complete('platform q {\n  iommu smmu0 smmuv3\n  iommu smmu1 smmuv3\n  device d { bdf 00:01.0; iommu <|> }\n}\n');
  assert.deepEqual(labels(refs), ['smmu0', 'smmu1']);
  assert.equal(item(refs, 'smmu0').detail, 'IOMMU on platform q, smmuv3');
  assert.match(item(refs, 'smmu0').documentation!, /Declared in `a\.iommu`, line 2\./);
});

test("`assign` in a guest offers exactly the devices of the guest's platform", () => {
  const items = complete('guest vm1 on epyc-b {\n  machine q35 memory 4G\n  assign <|>\n}\n');
  assert.deepEqual(labels(items), ['nic0', 'nvme1']);
  assert.ok(items.every((i) => i.kind === 'device'));
  assert.equal(item(items, 'nvme1').detail, 'device on platform epyc-b, 0000:01:00.0');
  assert.equal(item(items, 'nvme1').documentation, 'IOMMU amdvi0, group 7.\n\nDeclared in `hosts.iommu`, line 13.');
  const other = complete('guest vm1 on epyc-a {\n  assign <|>\n}\n');
  assert.deepEqual(labels(other), ['gpu0', 'nic0', 'usb0']);
  // Then `as` and `dma-window`, and after `as` the modes.
  assert.deepEqual(labels(complete('guest vm1 on epyc-a {\n  assign gpu0 <|>\n}\n')), ['as', 'dma-window', 'iommufd']);
  const modes = complete('guest vm1 on epyc-a {\n  assign gpu0 as <|>\n}\n');
  assert.deepEqual(labels(modes), [...ENUMS.assignMode]);
  assert.equal(item(modes, 'private').detail, 'assignment mode');
});

test('`guest NAME on` offers the platforms; other headers their own kinds', () => {
  const items = complete('guest g on <|>\n');
  assert.deepEqual(labels(items), ['epyc-a', 'epyc-b']);
  assert.equal(item(items, 'epyc-a').kind, 'platform');
  assert.equal(item(items, 'epyc-a').detail, 'platform, x86_64');
  assert.equal(item(items, 'epyc-a').documentation, '3 devices, 1 IOMMU.\n\nDeclared in `hosts.iommu`, line 1.');
  assert.deepEqual(labels(complete('guest g <|>\n')), ['on']);
  assert.deepEqual(labels(complete('xen x on <|>\n')), ['epyc-a', 'epyc-b']);
  assert.deepEqual(labels(complete('pool rack {\n  epyc-a, <|>\n}\n')), ['epyc-b']);
  assert.deepEqual(labels(complete('guest vm1 on epyc-a { assign gpu0 }\nfirmware ovmf for <|>\n')), ['vm1']);
});

const GUESTS = `guest vm1 on epyc-a {
  confidential sev-snp
  assign nic0 as private
}
guest vm2 on epyc-b {
  assign nvme1
}
`;

test('timeline steps offer guests, platforms after `to`, and devices where the guests are', () => {
  const start = complete('timeline t {\n  start <|>\n}\n', { 'g.iommu': GUESTS });
  assert.deepEqual(labels(start), ['vm1', 'vm2']);
  assert.equal(item(start, 'vm1').kind, 'guest');
  assert.equal(item(start, 'vm1').detail, 'guest on platform epyc-a');
  assert.equal(item(start, 'vm1').documentation, 'Assigned: nic0.\n\nConfidential: sev-snp.\n\nDeclared in `g.iommu`, line 1.');
  assert.deepEqual(labels(complete('timeline t {\n  migrate vm1 to <|>\n}\n', { 'g.iommu': GUESTS })), ['epyc-a', 'epyc-b']);

  // Before any guest: every platform, and a name two of them have comes qualified.
  assert.deepEqual(labels(complete('timeline t {\n  power <|>\n}\n', { 'g.iommu': GUESTS })), [
    'epyc-a.nic0',
    'epyc-b.nic0',
    'gpu0',
    'nvme1',
    'usb0',
  ]);
  // After `start vm1`: epyc-a's devices; after migrating it: epyc-b's.
  assert.deepEqual(labels(complete('timeline t {\n  start vm1\n  power <|>\n}\n', { 'g.iommu': GUESTS })), ['gpu0', 'nic0', 'usb0']);
  assert.deepEqual(labels(complete('timeline t {\n  start vm1\n  migrate vm1 to epyc-b\n  link <|>\n}\n', { 'g.iommu': GUESTS })), [
    'nic0',
    'nvme1',
  ]);
  // After a qualifier, that platform's devices.
  const qualified = complete('timeline t {\n  config epyc-b.<|>\n}\n', { 'g.iommu': GUESTS });
  assert.deepEqual(labels(qualified), ['nic0', 'nvme1']);
  assert.equal(qualified[0]!.replace.start, qualified[0]!.replace.end);
  assert.deepEqual(labels(complete('timeline t {\n  hotplug gpu0 into <|>\n}\n', { 'g.iommu': GUESTS })), ['vm1', 'vm2']);
});

test('`tdisp DEVICE` offers the TDISP messages; `config DEVICE` the writes and then the bits', () => {
  const items = complete('timeline t {\n  start vm1\n  tdisp nic0 <|>\n}\n', { 'g.iommu': GUESTS });
  assert.deepEqual(labels(items), [...ENUMS.tdispMessage]);
  assert.ok(items.every((i) => i.kind === 'value' && i.detail === 'TDISP message'));
  assert.equal(item(items, 'start').documentation, 'START_INTERFACE_REQUEST (0x86): CONFIG_LOCKED → RUN.');
  assert.match(item(items, 'lock').documentation!, /^LOCK_INTERFACE_REQUEST \(0x83\)/);
  // The step itself: TDISP-capable devices first.
  assert.deepEqual(labels(complete('timeline t {\n  start vm1\n  tdisp <|>\n}\n', { 'g.iommu': GUESTS })), ['nic0', 'gpu0', 'usb0']);

  const writes = complete('timeline t {\n  config nic0 <|>\n}\n', { 'g.iommu': GUESTS });
  assert.deepEqual(labels(writes), ['command', 'devctl', 'bar', 'sriov', ...ENUMS.configSimple]);
  const sriov = complete('timeline t {\n  config nic0 sriov <|>\n}\n', { 'g.iommu': GUESTS });
  assert.deepEqual(labels(sriov), ['vf-enable', 'vf-mse', 'numvfs']);
  const bits = complete('timeline t {\n  config nic0 command MSE <|>\n}\n', { 'g.iommu': GUESTS });
  assert.deepEqual(labels(bits), ['IO', 'BME', 'SPECIAL', 'MWI', 'VGA-SNOOP', 'PERR', 'SERR', 'FAST-B2B', 'INTX-DISABLE']);
  assert.equal(item(bits, 'BME').detail, 'Command register bit');
  assert.match(
    labels(complete('timeline t {\n  config nic0 devctl <|>\n}\n', { 'g.iommu': GUESTS })).join(' '),
    /^CERE NFERE FERE URRE RO EXT-TAG PHANTOM AUX-PM NO-SNOOP FLR$/,
  );
  assert.deepEqual(labels(complete('timeline t {\n  power nic0 <|>\n}\n', { 'g.iommu': GUESTS })), [...ENUMS.powerState]);
  assert.deepEqual(labels(complete('timeline t {\n  link nic0 <|>\n}\n', { 'g.iommu': GUESTS })), [...ENUMS.linkState]);
});

test('machine options, map options, handler actions and settings, in their own words', () => {
  const machine = complete('guest g on epyc-a {\n  machine q35 memory 16G <|>\n}\n');
  assert.deepEqual(labels(machine), [
    'memory',
    'cpu',
    'phys-bits',
    'max-ram-below-4g',
    'pci-hole64-size',
    'cpu-model',
    'accel',
    'maxmem',
    'slots',
    'host-phys-bits',
    'highmem',
    'version',
  ]);
  assert.equal(item(machine, 'cpu').detail, 'machine option');
  assert.match(item(machine, 'cpu').documentation!, /1 TiB/);
  assert.deepEqual(labels(complete('guest g on epyc-a {\n  machine q35 cpu <|>\n}\n')), ['amd', 'intel']);

  const driver = 'firmware f for vm1 {\n  driver d for nic0 {\n    ';
  const map = complete(`${driver}map buf common-buffer size 4K <|>\n  }\n}\n`);
  assert.deepEqual(labels(map), ['at', 'size', 'pending', 'completed', 'from']);
  assert.equal(
    item(map, 'from').documentation,
    'How the buffer was allocated: `from allocate-buffer | allocate-pool | allocate-pages` (RULES §7.2).',
  );
  assert.deepEqual(labels(complete(`${driver}<|>\n  }\n}\n`)), ['map', 'on']);
  assert.match(item(complete(`${driver}<|>\n  }\n}\n`), 'on').documentation!, /^A notify function/);
  assert.deepEqual(labels(complete(`${driver}on <|>\n  }\n}\n`)), ['exit-boot-services', 'before-exit-boot-services', 'event']);
  const actions = complete(`${driver}on exit-boot-services tpl callback <|>\n  }\n}\n`);
  assert.deepEqual(labels(actions), ['stop-dma', 'unmap', 'unmap-all', 'free', 'signal', 'call']);
  assert.ok(actions.every((a) => a.detail === 'handler action'));
  assert.equal(
    item(actions, 'free').documentation,
    "Frees that map's buffer (FreeBuffer / FreePages); the memory map must not change during ExitBootServices.",
  );
  assert.deepEqual(labels(complete(`${driver}on exit-boot-services tpl callback { call <|> }\n  }\n}\n`)), [
    'AllocatePool',
    'AllocatePages',
    'FreePool',
    'FreePages',
    'Stall',
    'SetTimer',
  ]);

  const hypOwn = complete('vintf v on smmu0 for g {\n  hyp-own <|>\n}\n');
  assert.deepEqual(labels(hypOwn), ['on', 'off']);
  assert.match(item(hypOwn, 'on').documentation!, /^Turns the setting on/);
  const quarantine = complete('xen x on epyc-a {\n  domain d { quarantine <|> }\n}\n');
  assert.deepEqual(labels(quarantine), ['off', 'basic', 'scratch-page']);
  assert.match(item(quarantine, 'off').documentation!, /quarantine=false/);
  assert.deepEqual(labels(complete('platform p {\n  device d {\n    quirk <|>\n  }\n}\n')), ['bme-zero-write-clears']);
});

const CMDQV = `platform grace {
  arch arm64
  iommu smmu0 smmuv3 { cmdqv vintfs 16 sids-per-vintf 4 }
  device vf0 { bdf 0008:01:00.2; iommu smmu0 stream 0x102 }
}
guest gvm on grace {
  machine virt memory 4G
  viommu vsmmu0 smmuv3 via vi0
  assign vf0
}
vintf vi0 on smmu0 for gvm {
  owner guest
  stream vf0 as 0x8
}
`;

test('inside a batch the SMMU opcodes, then the operand fields each opcode takes', () => {
  const ops = complete('commands vi0 {\n  batch { <|> }\n}\n', { 'c.iommu': CMDQV });
  assert.deepEqual(labels(ops), Object.keys(SMMU_OPCODES));
  assert.ok(ops.every((i) => i.kind === 'opcode'));
  assert.equal(item(ops, 'TLBI_NH_VA').detail, 'SMMUv3 command 0x12: va asid vmid leaf num scale ttl tg');
  assert.equal(
    item(ops, 'TLBI_NH_VA').documentation,
    "Invalidate the stage-1 TLB entries of a VA in an ASID.\n\nA guest-owned VINTF's queues accept it.",
  );
  assert.match(item(ops, 'CFGI_STE').documentation!, /do not accept it/);

  const fields = complete('commands vi0 {\n  batch {\n    TLBI_NH_VA asid 3 <|>\n  }\n}\n', { 'c.iommu': CMDQV });
  assert.deepEqual(labels(fields), ['va', 'vmid', 'leaf', 'num', 'scale', 'ttl', 'tg']);
  assert.equal(item(fields, 'va').detail, 'TLBI_NH_VA field: va VALUE');
  assert.equal(item(fields, 'leaf').detail, 'TLBI_NH_VA flag');
  assert.equal(item(fields, 'va').documentation, SMMU_FIELD_DOCS.va);
  // Right after a field that wants a value: nothing to offer.
  assert.deepEqual(labels(complete('commands vi0 {\n  batch { TLBI_NH_VA asid <|> }\n}\n', { 'c.iommu': CMDQV })), []);
  // A bare number fills the first field.
  assert.deepEqual(labels(complete('commands vi0 {\n  batch { CFGI_STE 0x8 <|> }\n}\n', { 'c.iommu': CMDQV })), ['leaf']);
  // `commands` names a VINTF; a vIOMMU's `via` too.
  const vi = complete('commands <|>\n', { 'c.iommu': CMDQV });
  assert.deepEqual(labels(vi), ['vi0']);
  assert.equal(vi[0]!.detail, 'VINTF on smmu0 for guest gvm');
});

test('VINTF, firmware and Xen statements take names from the declaration around them', () => {
  const stream = complete('vintf vi1 on smmu0 for gvm {\n  stream <|>\n}\n', { 'c.iommu': CMDQV });
  assert.deepEqual(labels(stream), ['vf0']);
  assert.deepEqual(labels(complete('vintf vi1 on <|>\n', { 'c.iommu': CMDQV })), ['smmu0']);
  assert.deepEqual(labels(complete('vintf vi1 on smmu0 for gvm {\n  owner <|>\n}\n', { 'c.iommu': CMDQV })), ['guest', 'host']);

  const fw = `firmware ovmf for vm1 {
  driver VirtioNetDxe for nic0 {
    map rx-ring common-buffer size 64K pending from allocate-buffer
    map tx-buf bus-master-read size 4K completed
    on exit-boot-services tpl callback { stop-dma; unmap <|> }
    on event late tpl callback unmap-all
  }
}
`;
  const maps = complete(fw, { 'g.iommu': GUESTS });
  assert.deepEqual(labels(maps), ['rx-ring', 'tx-buf']);
  assert.equal(item(maps, 'rx-ring').detail, 'DMA mapping of driver VirtioNetDxe, common-buffer');
  const drivers = complete('firmware ovmf for vm1 {\n  driver NetDxe for <|>\n}\n', { 'g.iommu': GUESTS });
  assert.deepEqual(labels(drivers), ['nic0', 'gpu0', 'usb0']); // the guest's own device first
  const signal = complete(fw.replace('unmap <|>', 'signal <|>'), { 'g.iommu': GUESTS });
  assert.deepEqual(labels(signal), ['late']);
  assert.equal(signal[0]!.kind, 'event');

  const xen = complete('xen host1 on epyc-b {\n  domain d1 {\n    mode hvm\n    pass nic0, <|>\n  }\n}\n');
  assert.deepEqual(labels(xen), ['nic0', 'nvme1']);
  const balloon = complete('xen host1 on epyc-b {\n  dom0 { mode pv }\n  domain d1 { mode hvm }\n}\ntimeline t {\n  balloon <|>\n}\n', {
    'g.iommu': GUESTS,
  });
  assert.deepEqual(labels(balloon), ['vm1', 'vm2', 'host1.d1', 'host1.dom0']);
  assert.equal(item(balloon, 'host1.d1').detail, 'Xen domain of host1, hvm');
});

test('a prefix narrows the items and sets the span they replace', () => {
  const typed = complete('guest vm1 on epyc-a {\n  ass<|>\n}\n');
  assert.deepEqual(labels(typed), ['assign']);
  const start = 'guest vm1 on epyc-a {\n  '.length;
  assert.deepEqual(typed[0]!.replace, { start, end: start + 3 });
  // Inside a word the whole word is replaced.
  const inside = complete('guest vm1 on epyc-a {\n  ass<|>ign gpu0\n}\n');
  assert.deepEqual(inside[0]!.replace, { start, end: start + 6 });
  // Names too, and a prefix may match a later part of a name.
  const dev = complete('guest vm1 on epyc-a {\n  assign n<|>\n}\n');
  assert.deepEqual(labels(dev), ['nic0']);
  assert.deepEqual(labels(complete('guest vm1 on epyc-a {\n  msi-w<|>\n}\n')), ['msi-window']);
  assert.deepEqual(labels(complete('guest vm1 on epyc-a {\n  machine q35 hole<|>\n}\n')), ['pci-hole64-size']);
  assert.deepEqual(labels(complete('guest vm1 on epyc-a {\n  zz<|>\n}\n')), []);
});

test('nothing inside a comment, or while a number is typed', () => {
  assert.deepEqual(complete('guest vm1 on epyc-a {\n  // assign <|>\n}\n'), []);
  assert.deepEqual(complete('guest vm1 on epyc-a {\n  /* assign <|> */\n}\n'), []);
  assert.deepEqual(complete('guest vm1 on epyc-a {\n  ram r 0x10<|>\n}\n'), []);
  // Right after a closed block comment, the line goes on.
  assert.deepEqual(labels(complete('guest vm1 on epyc-a {\n  /* x */ assign <|>\n}\n')), ['gpu0', 'nic0', 'usb0']);
  // Inside a block the grammar does not know (a stray `{`), nothing either.
  assert.deepEqual(complete('platform p {\n  bogus x {\n    <|>\n  }\n}\n'), []);
});

test('broken lines before the cursor do not break it', () => {
  const broken = `platform epyc-c {
  arch x86_64
  iommu io0 vt-d { address-width }
  reserved r msii 0x1000 size
  devcie d0 { bdf 00:01.0 }
  bogus { nested { deeper } }
  device d1 { bdf 00:02.0; iommu io0 stream }
}
guest g on epyc-c {
  machine q35 memory
  ram r 0x1__0 size 4K
  assign d1 as
  confidential sev-snp { vtom
  }
  assign <|>
}
`;
  assert.deepEqual(labels(complete(broken)), ['d1']);
  // An unclosed block before: the cursor is still inside the guest.
  const unclosed = 'guest g on epyc-a {\n  confidential sev-snp {\n  }\n  assign gpu0 as private\n  <|>';
  const body = complete(unclosed);
  assert.deepEqual(labels(body), ['ram', 'assign', 'machine', 'msi-window', 'confidential', 'viommu', 'container', 'iommufd']);
  assert.equal(item(body, 'ram').detail, 'guest statement');
  assert.match(item(body, 'ram').documentation!, /^A guest-physical RAM range/);
  // Windows line ends, and a block comment spanning lines that ends the statement before it.
  assert.deepEqual(labels(complete('guest g on epyc-b {\r\n  assign nic0 /* a\r\n b */ <|>\r\n}\r\n')), labels(body));
  assert.deepEqual(labels(complete('guest g on epyc-b {\r\n  machine virt\r\n  assign <|>\r\n}\r\n')), ['nic0', 'nvme1']);
  assert.deepEqual(complete('guest g on epyc-b {\n  /* assign <|>\n}\n'), []);
  // A required block opening on the line after its declaration.
  assert.deepEqual(labels(complete('guest g on epyc-b\n{\n  assign <|>\n}\n')), ['nic0', 'nvme1']);
});

test('the model may lag behind the text: the declaration around the cursor is read from the text', () => {
  const { text, offset } = cursor('guest vm9 on epyc-b {\n  assign <|>\n}\n');
  const a = analyze({ 'hosts.iommu': HOSTS, 'a.iommu': '' });
  assert.deepEqual(labels(completion(a, uri('a.iommu'), text, offset)), ['nic0', 'nvme1']);
});

test('several cursors in one text get their own context', () => {
  const m = markers('platform p {\n  <|>\n  device d {\n    <|>\n  }\n}\n<|>');
  const a = analyze({ 'a.iommu': m.text });
  const at = m.cursors.map((o) => labels(completion(a, uri('a.iommu'), m.text, o))[0]);
  assert.deepEqual(at, ['arch', 'bdf', 'platform']);
});

test('every keyword is documented, every enumeration has a title, every region type its meaning', () => {
  assert.deepEqual(
    ALL_KEYWORDS.filter((k) => !keywordDocs(DOMAINS).docs[k]),
    [],
  );
  assert.deepEqual(
    Object.keys(keywordDocs(DOMAINS).docs).filter((k) => !ALL_KEYWORDS.includes(k)),
    [],
  );
  assert.deepEqual(Object.keys(keywordDocs(DOMAINS).enumTitles).sort(), Object.keys(ENUMS).sort());
  assert.deepEqual(Object.keys(REGION_MEANING).sort(), [...ENUMS.regionType].sort());
  for (const op of Object.values(SMMU_OPCODES)) for (const f of op.fields) assert.ok(SMMU_FIELD_DOCS[f], f);
});

test('every reference of the grammar has something to offer', () => {
  type Prod = IProduction & { nonTerminalName?: string; idx?: number; definition?: Prod[] };
  const keys: string[] = [];
  for (const [name, rule] of Object.entries(parserInstance().getGAstProductions())) {
    const visit = (p: Prod): void => {
      if (p.nonTerminalName === 'ref') keys.push(`${name}/ref${p.idx ?? 0}`);
      else if (p.nonTerminalName === undefined) p.definition?.forEach(visit);
    };
    (rule.definition as Prod[]).forEach(visit);
  }
  assert.ok(keys.length > 30);
  assert.deepEqual(
    keys.filter((k) => !slotFillers(DOMAINS)[k]),
    [],
  );
});

test('the grammar side: enclosing blocks, statement and slots, without chevrotain types', () => {
  const { text, offset } = cursor('firmware f for g {\n  driver d for n\n  {\n    on exit-boot-services tpl callback free <|>');
  const r = assistAt(text, offset)!;
  assert.deepEqual(
    r.blocks.map((b) => [b.rule, b.words.join(' ')]),
    [
      ['firmwareBody', 'firmware f for g'],
      ['driverBody', 'driver d for n'],
    ],
  );
  assert.deepEqual(r.statement, ['on', 'exit-boot-services', 'tpl', 'callback', 'free']);
  assert.equal(r.statementRule, 'handlerStmt');
  assert.deepEqual(r.slots, [{ ruleStack: ['handlerStmt', 'action', 'ref'], occurrences: [1, 0, 2] }]);
  assert.equal(assistAt('// x', 4), undefined);
  // Offsets past the end are clamped.
  assert.deepEqual(
    assistAt('', 99)!.keywords.map((k) => k.text),
    [...DECLARATION_KEYWORDS],
  );
});

test('a large file: only the current statement goes to the parser', () => {
  const device = (i: number) =>
    `  device d${i} { bdf 00:${(i % 32).toString(16).padStart(2, '0')}.${i % 8}; iommu io0; group ${i} } // ${i}\n`;
  const big = `platform big {\n  iommu io0 vt-d\n${Array.from({ length: 20000 }, (_, i) => device(i)).join('')}  reserved r <|>\n}\n`;
  const { text, offset } = cursor(big);
  const parser = parserInstance();
  const original = parser.computeContentAssist;
  const given: number[] = [];
  parser.computeContentAssist = function (this: typeof parser, rule, tokens) {
    given.push(tokens.length);
    return original.call(this, rule, tokens);
  };
  try {
    assert.deepEqual(
      assistAt(text, offset)!.keywords.map((k) => k.text),
      [...ENUMS.regionType],
    );
  } finally {
    parser.computeContentAssist = original;
  }
  // The platform line (to learn its body) and `reserved r`.
  assert.deepEqual(given, [2, 2]);
});
