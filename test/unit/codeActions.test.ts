/**
 * Code actions at the cursor: the engines' fixes, creating what an unknown name refers
 * to, and assigning the rest of a group. Each action is applied and the workspace
 * re-checked: the finding it answers must be gone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { codeActions, type CodeAction } from '../../server/src/ide';
import { analyze, applyEdits, cursor, uri } from '../helpers';

const PLATFORM = `platform epyc {
  arch x86_64
  iommu amdvi0 amd-vi
  device nic0 { bdf 0000:41:00.0; iommu amdvi0; group 30 }
}
`;

/** Actions at the cursor of `marked` (in g.iommu), with the other files as given. */
function actionsAt(marked: string, others: Record<string, string> = { 'p.iommu': PLATFORM }) {
  const { text, offset } = cursor(marked);
  const files = { ...others, 'g.iommu': text };
  const a = analyze(files);
  return { a, files, actions: codeActions(a, uri('g.iommu'), { start: offset, end: offset }) };
}

/** Applies an action's edits to every file it touches. */
function apply(files: Record<string, string>, action: CodeAction): Record<string, string> {
  return Object.fromEntries(
    Object.entries(files).map(([n, t]) => [
      n,
      applyEdits(
        t,
        action.edits.filter((e) => e.uri === uri(n)),
      ),
    ]),
  );
}

describe('creating what a name refers to', () => {
  test("a device assigned but not declared is created on the guest's platform, behind its only IOMMU", () => {
    const { files, actions } = actionsAt('guest g on epyc {\n  machine q35 memory 4G\n  assign hb<|>a0\n}\n');
    assert.deepEqual(
      actions.map((x) => x.title),
      ["Create device 'hba0' on platform epyc"],
    );
    assert.equal(actions[0]!.finding?.code, 'unknown-name');
    const after = apply(files, actions[0]!);
    assert.equal(after['p.iommu'], PLATFORM.replace('}\n', '}\n  device hba0 {\n    iommu amdvi0\n  }\n'));
    const b = analyze(after);
    assert.ok(!b.all.some((f) => f.code === 'unknown-name'), b.all.map((f) => f.message).join('\n'));
  });

  test('a one-line platform is opened up; the member indentation of the file is kept', () => {
    const one = { 'p.iommu': 'platform tiny { arch x86_64 }\n' };
    const { files, actions } = actionsAt('guest g on tiny {\n  assign d<|>ev\n}\n', one);
    const after = apply(files, actions[0]!);
    assert.equal(after['p.iommu'], 'platform tiny { arch x86_64 \n  device dev {\n  }\n}\n');
    const four = { 'p.iommu': 'platform wide {\n    arch x86_64\n    iommu d0 vt-d\n    iommu d1 vt-d\n}\n' };
    const r = actionsAt('guest g on wide {\n  assign d<|>ev\n}\n', four);
    // Two IOMMUs: which one is the user's call, so the block is left empty.
    assert.equal(
      apply(r.files, r.actions[0]!)['p.iommu'],
      'platform wide {\n    arch x86_64\n    iommu d0 vt-d\n    iommu d1 vt-d\n    device dev {\n    }\n}\n',
    );
  });

  test('an unknown platform after `on` is created at the end of the file', () => {
    const { files, actions } = actionsAt('guest g on mi<|>lan {\n  machine q35 memory 4G\n}');
    assert.deepEqual(
      actions.map((x) => x.title),
      ["Create platform 'milan'"],
    );
    const after = apply(files, actions[0]!);
    assert.equal(after['g.iommu'], 'guest g on milan {\n  machine q35 memory 4G\n}\n\nplatform milan {\n}\n');
    assert.ok(!analyze(after).all.some((f) => f.code === 'unknown-name'));
  });

  test('an unknown platform qualifier is offered too', () => {
    const { actions } = actionsAt('guest g on epyc {\n  assign mi<|>lan.nic0\n}\n');
    assert.deepEqual(
      actions.map((x) => x.title),
      ["Create platform 'milan'"],
    );
  });

  test('an unknown guest in a timeline is created on a platform of the workspace', () => {
    const { files, actions } = actionsAt('timeline t {\n  start gh<|>ost\n}\n');
    assert.deepEqual(
      actions.map((x) => x.title),
      ["Create guest 'ghost' on platform epyc"],
    );
    const after = apply(files, actions[0]!);
    assert.equal(after['g.iommu'], 'timeline t {\n  start ghost\n}\n\nguest ghost on epyc {\n}\n');
    assert.deepEqual(
      analyze(after).all.filter((f) => f.code === 'unknown-name'),
      [],
    );
  });

  test('a name that exists offers nothing; a cursor elsewhere offers nothing', () => {
    assert.deepEqual(actionsAt('guest g on epyc {\n  machine q35 memory 4G\n  assign ni<|>c0\n}\n').actions, []);
    assert.deepEqual(actionsAt('guest g on epyc {\n  mach<|>ine q35 memory 4G\n  assign nic7\n}\n').actions, []);
  });
});

describe("the engines' fixes", () => {
  test('adding the missing members of a group makes it viable', () => {
    const host = `platform p {
  arch x86_64
  iommu dmar0 vt-d
  device usb0 { bdf 00:14.0; iommu dmar0; group 12 }
  device usb1 { bdf 00:14.1; iommu dmar0; group 12 }
  device usb2 { bdf 00:14.2; iommu dmar0; group 12 }
}
`;
    const { files, actions } = actionsAt('guest a on p {\n  machine q35 memory 2G\n  assign us<|>b0\n}\n', { 'p.iommu': host });
    assert.deepEqual(
      actions.map((x) => [x.title, x.finding?.code]),
      [['Assign usb1, usb2 to guest a too', 'group-partly-assigned']],
    );
    const after = apply(files, actions[0]!);
    assert.equal(after['g.iommu'], 'guest a on p {\n  machine q35 memory 2G\n  assign usb0\n  assign usb1\n  assign usb2\n}\n');
    assert.deepEqual(
      analyze(after).all.map((f) => f.code),
      [],
    );
  });

  test('fixes follow the file: CRLF line breaks, its indentation, after a trailing comment', () => {
    const host =
      'platform p {\r\n  arch x86_64\r\n  iommu dmar0 vt-d\r\n  device usb0 { bdf 00:14.0; iommu dmar0; group 12 }\r\n  device usb1 { bdf 00:14.1; iommu dmar0; group 12 }\r\n}\r\n';
    const { files, actions } = actionsAt(
      'guest a on p {\r\n    machine q35 memory 2G\r\n    assign us<|>b0   // the controller\r\n    assign hba9\r\n}',
      { 'p.iommu': host },
    );
    const assign = actions.find((x) => x.finding?.code === 'group-partly-assigned')!;
    assert.equal(
      apply(files, assign)['g.iommu'],
      'guest a on p {\r\n    machine q35 memory 2G\r\n    assign usb0   // the controller\r\n    assign usb1\r\n    assign hba9\r\n}',
    );
    const create = codeActions(analyze(files), uri('g.iommu'), {
      start: files['g.iommu'].indexOf('hba9'),
      end: files['g.iommu'].indexOf('hba9'),
    }).find((x) => x.title.startsWith('Create device'))!;
    assert.equal(apply(files, create)['p.iommu'], host.replace('}\r\n}', '}\r\n  device hba9 {\r\n    iommu dmar0\r\n  }\r\n}'));
    const platform = actionsAt('guest a on nowh<|>ere {\r\n}\r\n', {}).actions[0]!;
    assert.equal(platform.edits[0]!.newText, '\r\nplatform nowhere {\r\n}\r\n');
  });

  test("a line inserted after a statement takes that statement's indentation", () => {
    const host =
      'platform altra {\n  arch arm64\n  iommu smmu0 smmuv3\n  device nic0 { iommu smmu0 stream 1; group 7 }\n' +
      '  device nic1 { iommu smmu0 stream 2; group 7 }\n}\n';
    const guest = 'guest g on altra {\n    machine virt memory 2G\n    assign nic0   // the NIC\n}\n';
    const a = analyze({ 'p.iommu': host, 'g.iommu': guest });
    const at = guest.indexOf('assign') + 1;
    const fix = codeActions(a, uri('g.iommu'), { start: at, end: at }).find((x) => x.finding?.code === 'group-partly-assigned')!;
    assert.equal(fix.title, 'Assign nic1 to guest g too');
    assert.equal(
      apply({ 'p.iommu': host, 'g.iommu': guest }, fix)['g.iommu'],
      'guest g on altra {\n    machine virt memory 2G\n    assign nic0   // the NIC\n    assign nic1\n}\n',
    );
  });

  test('a did-you-mean fix is offered where the finding is', () => {
    const { files, actions } = actionsAt('guest g on epyc {\n  machine q35 memory 4G\n  assign nic<|>1\n}\n');
    const titles = actions.map((x) => x.title);
    assert.deepEqual(titles, ["Change to 'nic0'", "Create device 'nic1' on platform epyc"]);
    assert.equal(actions[0]!.isPreferred, true);
    assert.deepEqual(
      analyze(apply(files, actions[0]!)).all.map((f) => f.code),
      [],
    );
  });
});
