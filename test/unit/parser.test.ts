import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  chunkIsClean,
  chunkStarts,
  type GuestDecl,
  parse,
  parseUncapped,
  type PlatformDecl,
  shifted,
  type TimelineDecl,
} from '@iommu-lens/grammar';
import { exampleFiles, parseClean, slice, walk } from '../helpers';

/** LANGUAGE.md section A, verbatim: it must parse exactly as written. */
export const SECTION_A = `// line comments and /* block comments */
platform epyc-a {
  arch x86_64                          // x86_64 | arm64
  iommu amdvi0 amd-vi {                // kinds: vt-d | amd-vi | smmuv3 | virtio-iommu
    address-width 48                   // IOVA aperture is 0 .. 2^48-1
  }
  ram dram0 0x0 size 512G              // host physical memory (optional)
  reserved ioapic  msi      0xfee00000..0xfeefffff
  reserved ht-hole reserved 0xfd00000000..0xffffffffff
  reserved unity0  direct   0xbdf6e000 size 92K for usb0   // \`for\` a device, iommu or \`group N\`
  device usb0 { bdf 00:14.0; iommu amdvi0 }
  device gpu0 {
    bdf 0000:41:00.0
    iommu amdvi0                       // arm: \`iommu smmu0 stream 0x100\`
    group 258                          // IOMMU group; a device without one is alone in its own
  }
}

guest vm1 on epyc-a {
  ram pc-ram 0x100000000 size 0xff30000000   // overlaps ht-hole: the simulator must say so
  assign gpu0
}

timeline t1 {                          // epyc-b and its gpu1 live in another file
  start vm1
  migrate vm1 to epyc-b
  hotplug gpu1 into vm1
}
`;

/** LANGUAGE.md section B, verbatim. */
export const SECTION_B = `platform altra {
  arch arm64
  iommu smmu0 smmuv3 {
    address-width 48
    msi remapped                        // MSIs are DMA writes through the SMMU (needs a sw-msi window)
    cmdqv vintfs 2 sids-per-vintf 16
  }
  reserved its   msi    0x08080000 size 128K
  reserved swmsi sw-msi 0x08000000 size 1M
  device nic0 { bdf 0000:01:00.0; iommu smmu0 stream 0x100; tdisp; quirk bme-zero-write-clears }
  device nic0-vf1 { bdf 0000:01:00.1; vf-of nic0; iommu smmu0 stream 0x101 }
}

guest cvm on altra {
  machine virt memory 16G              // computes the QEMU guest map instead of listing ram
  msi-window 0x08000000 size 1M        // doorbell IOVA the guest's MSIs use
  confidential sev-snp { vtom 0x1_0000_0000 }
  viommu vsmmu0 smmuv3 via vi0
  assign nic0 as private               // shared (default) | private | bind-capable
}

pool rack7 { epyc-a, epyc-b, epyc-c }  // hosts a guest may migrate between

timeline bringup {
  start cvm
  tdisp nic0 lock
  config nic0 command MSE              // one Command-register write; listed bits set, others 0
  config nic0 command MSE BME
  tdisp nic0 start
  launch-update cvm                    // SNP_LAUNCH_UPDATE
  convert nic0 to shared
}

firmware ovmf for cvm {
  driver VirtioNetDxe for nic0 {
    map rx-ring common-buffer size 64K pending      // DMA still pending after the call returns
    map tx-buf bus-master-read size 4K pending
    on exit-boot-services tpl callback { stop-dma; unmap rx-ring }
  }
  iommu-protocol { on exit-boot-services tpl callback unmap-all deferred }
}

xen host1 on epyc-a {
  dom0 { mode pv; iommu strict; map-reserved on }
  domain hvm1 { mode hvm; pass gpu0; iommu-map pv-iommu; quarantine scratch-page }
}

vintf vi0 on smmu0 for cvm {
  owner guest
  stream nic0 as 0x8
}
commands vi0 {
  batch { TLBI_NH_VA; CMD_SYNC }
  batch { CFGI_STE 0x8; CMD_SYNC }
}
`;

describe('parser: section A (normative)', () => {
  const f = parseClean(SECTION_A);

  test('declarations in order', () => {
    assert.deepEqual(
      f.decls.map((d) => d.kind),
      ['platform', 'guest', 'timeline'],
    );
  });

  test('platform statements and values', () => {
    const p = f.decls[0] as PlatformDecl;
    assert.equal(p.name?.text, 'epyc-a');
    assert.deepEqual(
      p.items.map((i) => i.kind),
      ['arch', 'iommu', 'ram', 'reserved', 'reserved', 'reserved', 'device', 'device'],
    );
    const iommu = p.items[1]!;
    assert.ok(iommu.kind === 'iommu');
    assert.equal(iommu.iommuKind?.text, 'amd-vi');
    assert.equal(iommu.items[0]?.kind, 'address-width');
    const unity = p.items[5]!;
    assert.ok(unity.kind === 'reserved');
    assert.equal(unity.regionType?.text, 'direct');
    assert.equal(unity.range?.start.text, '0xbdf6e000');
    assert.equal(unity.range?.size?.text, '92K');
    assert.equal(unity.targets.length, 1);
    const t0 = unity.targets[0]!;
    assert.ok(t0.kind === 'ref');
    assert.equal(t0.ref.name.text, 'usb0');
    const ht = p.items[4]!;
    assert.ok(ht.kind === 'reserved');
    assert.equal(ht.regionType?.text, 'reserved');
    assert.equal(ht.range?.end?.text, '0xffffffffff');
    const usb = p.items[6]!;
    assert.ok(usb.kind === 'device');
    assert.deepEqual(
      usb.items.map((i) => i.kind),
      ['bdf', 'device-iommu'],
    );
    const gpu = p.items[7]!;
    assert.ok(gpu.kind === 'device');
    assert.deepEqual(
      gpu.items.map((i) => i.kind),
      ['bdf', 'device-iommu', 'group'],
    );
  });

  test('guest and timeline', () => {
    const g = f.decls[1] as GuestDecl;
    assert.equal(g.platform?.name.text, 'epyc-a');
    assert.deepEqual(
      g.items.map((i) => i.kind),
      ['ram', 'assign'],
    );
    const t = f.decls[2] as TimelineDecl;
    assert.deepEqual(
      t.steps.map((s) => s.kind),
      ['start', 'migrate', 'hotplug'],
    );
    const hot = t.steps[2]!;
    assert.ok(hot.kind === 'hotplug');
    assert.equal(hot.device?.name.text, 'gpu1');
    assert.equal(hot.guest?.name.text, 'vm1');
  });

  test('every span lies inside the text and names cover exactly their text', () => {
    let words = 0;
    for (const node of walk(f.decls)) {
      const span = node.span as { start: number; end: number } | undefined;
      if (!span) continue;
      assert.ok(span.start >= 0 && span.start <= span.end && span.end <= SECTION_A.length, JSON.stringify(node));
      if (typeof node.text === 'string') {
        assert.equal(slice(SECTION_A, span), node.text);
        words++;
      }
    }
    assert.equal(words, 40);
  });

  test('a statement span covers the statement and not the comment after it', () => {
    const p = f.decls[0] as PlatformDecl;
    assert.equal(slice(SECTION_A, p.items[5]!.span), 'reserved unity0  direct   0xbdf6e000 size 92K for usb0');
    assert.equal(f.comments.length, 10);
  });
});

describe('parser: section B (every other construct)', () => {
  const f = parseClean(SECTION_B);

  test('all declaration kinds', () => {
    assert.deepEqual(
      f.decls.map((d) => d.kind),
      ['platform', 'guest', 'pool', 'timeline', 'firmware', 'xen', 'vintf', 'commands'],
    );
  });

  test('statements of each block', () => {
    const [platform, guest, pool, timeline, firmware, xen, vintf, commands] = f.decls;
    assert.ok(platform?.kind === 'platform');
    const smmu = platform.items[1]!;
    assert.ok(smmu.kind === 'iommu');
    assert.deepEqual(
      smmu.items.map((i) => i.kind),
      ['address-width', 'msi-mode', 'cmdqv'],
    );
    const nic = platform.items[4]!;
    assert.ok(nic.kind === 'device');
    assert.deepEqual(
      nic.items.map((i) => i.kind),
      ['bdf', 'device-iommu', 'tdisp-capable', 'quirk'],
    );
    assert.ok(guest?.kind === 'guest');
    assert.deepEqual(
      guest.items.map((i) => i.kind),
      ['machine', 'msi-window', 'confidential', 'viommu', 'assign'],
    );
    const machine = guest.items[0]!;
    assert.ok(machine.kind === 'machine');
    assert.equal(machine.machineType?.text, 'virt');
    assert.deepEqual(
      machine.options.map((o) => [o.key.text, o.value?.text]),
      [['memory', '16G']],
    );
    const assign = guest.items[4]!;
    assert.ok(assign.kind === 'assign');
    assert.equal(assign.mode?.text, 'private');
    assert.ok(pool?.kind === 'pool');
    assert.deepEqual(
      pool.hosts.map((h) => h.name.text),
      ['epyc-a', 'epyc-b', 'epyc-c'],
    );
    assert.ok(timeline?.kind === 'timeline');
    assert.deepEqual(
      timeline.steps.map((s) => s.kind),
      ['start', 'tdisp', 'config', 'config', 'tdisp', 'launch-update', 'convert'],
    );
    const cfg = timeline.steps[3]!;
    assert.ok(cfg.kind === 'config');
    assert.equal(cfg.what?.text, 'command');
    assert.deepEqual(
      cfg.bits.map((b) => b.text),
      ['MSE', 'BME'],
    );
    assert.ok(firmware?.kind === 'firmware');
    const drv = firmware.items[0]!;
    assert.ok(drv.kind === 'driver');
    assert.deepEqual(
      drv.items.map((i) => i.kind),
      ['map', 'map', 'handler'],
    );
    const handler = drv.items[2]!;
    assert.ok(handler.kind === 'handler');
    assert.equal(handler.tpl?.text, 'callback');
    assert.deepEqual(
      handler.actions.map((a) => (a.kind === 'action' ? a.verb.text : '?')),
      ['stop-dma', 'unmap'],
    );
    const proto = firmware.items[1]!;
    assert.ok(proto.kind === 'iommu-protocol');
    const h2 = proto.handlers[0]!;
    assert.ok(h2.kind === 'handler');
    const a = h2.actions[0]!;
    assert.ok(a.kind === 'action');
    assert.equal(a.verb.text, 'unmap-all');
    assert.equal(a.deferred?.text, 'deferred');
    assert.ok(xen?.kind === 'xen');
    assert.deepEqual(
      xen.items.map((i) => i.kind),
      ['dom0', 'domain'],
    );
    assert.ok(vintf?.kind === 'vintf');
    assert.equal(vintf.iommu?.name.text, 'smmu0');
    assert.equal(vintf.guest?.name.text, 'cvm');
    assert.ok(commands?.kind === 'commands');
    const b2 = commands.batches[1]!;
    assert.ok(b2.kind === 'batch');
    const cfgi = b2.commands[0]!;
    assert.ok(cfgi.kind === 'smmu-command');
    assert.equal(cfgi.opcode.text, 'CFGI_STE');
    assert.deepEqual(
      cfgi.operands.map((o) => o.text),
      ['0x8'],
    );
  });

  test('the steps and statements not in the samples', () => {
    const text = `timeline t {
  stop vm1; unplug nic0 from vm1; unplug nic1; hotplug nic2 into vm1 as bind-capable
  config nic0 bar 0 0xfe000000; config nic0 flr; config nic0 msix; config nic0 devctl EXT_TAG; config nic0-vf1 intx
  power nic0 D3hot; link nic0 down; balloon host1.hvm1 0x1000 size 2M; free vm1 0x0..0xfff
  tdisp nic0 bind-p2p; tdisp nic0 set-mmio-attr; tdisp nic0 report; tdisp nic0 stop
}
platform p { iommu v virtio-iommu { page-sizes 4K 2M }; device d { class usb; group 3 } }
guest g on p { machine q35 memory 4G cpu amd phys-bits 40 max-ram-below-4g 2G; container iommufd; viommu v0 vt-d stage2 }
firmware fw for g {
  driver d for d { map m bus-master-write64 at 0x1_0000_0000 size 4K completed from allocate-pool
    on event late tpl notify { free m; signal late; call AllocatePool }
    on exit-boot-services tpl notify }
}
vintf v on s for g { vmid 3; hyp-own on }
xen x on p { dom0 { mode pvh; iommu strict passthrough; map-reserved off } }
`;
    const f2 = parseClean(text);
    const t = f2.decls[0]!;
    assert.ok(t.kind === 'timeline');
    assert.equal(t.steps.length, 17);
    const bar = t.steps[4]!;
    assert.ok(bar.kind === 'config');
    assert.equal(bar.bar?.text, '0');
    assert.equal(bar.value?.text, '0xfe000000');
    const balloon = t.steps[11]!;
    assert.ok(balloon.kind === 'balloon');
    assert.equal(balloon.target?.qualifier?.text, 'host1');
    const fw = f2.decls[3]!;
    assert.ok(fw.kind === 'firmware');
    const d = fw.items[0]!;
    assert.ok(d.kind === 'driver');
    const m = d.items[0]!;
    assert.ok(m.kind === 'map');
    assert.deepEqual(
      m.options.map((o) => [o.key.text, o.value?.text]),
      [
        ['at', '0x1_0000_0000'],
        ['size', '4K'],
        ['completed', undefined],
        ['from', 'allocate-pool'],
      ],
    );
  });
});

describe('parser: lexical details', () => {
  test('keywords are contextual: a device may be called msi, a guest start', () => {
    const f = parseClean('platform p { device msi { bdf 00:01.0 } }\nguest start on p { assign msi }\ntimeline t { start start }');
    const g = f.decls[1]!;
    assert.ok(g.kind === 'guest');
    assert.equal(g.name?.text, 'start');
  });

  test('hyphenated names are single words; gpu-msi0 is not msi', () => {
    const f = parseClean('platform p { device gpu-msi0 { bdf 00:02.0 } }');
    const p = f.decls[0]!;
    assert.ok(p.kind === 'platform');
    assert.equal(p.items[0]?.kind === 'device' && p.items[0].name?.text, 'gpu-msi0');
  });

  test('a block comment that spans lines ends the statement; one inside a line does not', () => {
    const f = parseClean('platform p {\n  arch x86_64 /* one\n two */ ram r 0x0 size /* inline */ 4K\n}');
    const p = f.decls[0]!;
    assert.ok(p.kind === 'platform');
    assert.deepEqual(
      p.items.map((i) => i.kind),
      ['arch', 'ram'],
    );
  });

  test('CRLF line endings', () => {
    const f = parseClean('platform p {\r\n  arch arm64\r\n  ram r 0x0..0xfff\r\n}\r\n');
    assert.equal(f.decls.length, 1);
  });

  test('braces on their own line', () => {
    parseClean('platform p\n{\n  arch arm64\n}\npool q\n{\n  p\n  p2,\n}');
  });
});

describe('parser: errors and recovery', () => {
  const codes = (text: string) => parse(text).diagnostics.map((d) => d.code);

  test('several errors in one file, and the declarations after them survive', () => {
    const text = `platform p {
  reserved r1 msii 0xfee00000..0xfeefffff
  devcie d0 { bdf 00:01.0 }
  ram r0 0x0 size
  device d1 { bdf 00:02.0 }
}
guest g on p {
  asign d1
  assign d1
}
timeline t { start g }
`;
    const f = parse(text);
    assert.deepEqual(
      f.diagnostics.map((d) => d.code),
      ['syntax-error', 'unknown-statement', 'syntax-error', 'unknown-statement'],
    );
    assert.deepEqual(
      f.decls.map((d) => d.kind),
      ['platform', 'guest', 'timeline'],
    );
    const p = f.decls[0]!;
    assert.ok(p.kind === 'platform');
    assert.ok(p.items.some((i) => i.kind === 'device' && i.name?.text === 'd1'));
    const g = f.decls[1]!;
    assert.ok(g.kind === 'guest');
    assert.ok(g.items.some((i) => i.kind === 'assign'));
    assert.match(f.diagnostics[0]!.message, /did you mean 'msi'/);
    assert.equal(slice(text, f.diagnostics[0]!.span), 'msii');
    assert.match(f.diagnostics[1]!.message, /did you mean 'device'/);
  });

  test('each syntax code', () => {
    assert.deepEqual(codes('platform p { arch sparc }'), ['syntax-error']);
    assert.deepEqual(codes('platform p { frobnicate 3 }'), ['unknown-statement']);
    assert.deepEqual(codes('platform p { device d { bdf 00:01.0 group 4 } }'), ['missing-separator']);
    assert.deepEqual(codes('platform p {\n  arch arm64\n'), ['unclosed-block']);
    assert.deepEqual(codes('platform p { arch arm64 } $'), ['invalid-character']);
    assert.deepEqual(codes('platform p { arch arm64 } /* never closed'), ['unterminated-comment']);
    assert.deepEqual(codes('}\nplatform p { }'), ['syntax-error']);
  });

  test('an unclosed block is reported once, at its brace, with the declaration related', () => {
    const text = 'guest g on p {\n  ram a 0x0 size 4K\n';
    const f = parse(text);
    assert.equal(f.diagnostics.length, 1);
    const d = f.diagnostics[0]!;
    assert.equal(slice(text, d.span), '{');
    assert.equal(d.related?.length, 1);
    assert.equal(f.decls[0]?.kind, 'guest');
  });

  test('garbage, nested stray blocks and binary junk never throw', () => {
    for (const text of [
      '{{{{',
      '}}}}',
      '\u0000\u0001\uffff',
      'platform',
      'platform {',
      'guest g on',
      '0x..0x',
      'a.b.c.d',
      'x { y { z } }',
      '"str"',
      '/*',
      '*/',
      'platform p { device d { bdf 00:01.0 ',
    ]) {
      const f = parse(text);
      assert.ok(Array.isArray(f.decls));
      for (const d of f.diagnostics) assert.ok(d.span.start >= 0 && d.span.end <= text.length, `${text}: ${JSON.stringify(d)}`);
    }
  });

  test('blocks nested past the limit are cut, never recursing off the stack', () => {
    for (const text of ['{'.repeat(200_000), 'x {\n'.repeat(50_000), 'platform p {'.repeat(10_000) + '}'.repeat(10_000)]) {
      const f = parse(text);
      assert.ok(f.diagnostics.some((d) => /nested more than 32 deep/.test(d.message)));
    }
    const ok = parseClean('firmware f for g { driver d for n { on exit-boot-services tpl notify { stop-dma } } }');
    assert.equal(ok.decls.length, 1);
  });

  test('a text parsed where it stands in its file (parseUncapped with a base) is its parse moved, errors and all', () => {
    // The host parses each declaration at its offset in the file rather than copying a parse
    // made at 0; recovery, cascades and the chunk's cleanliness must come out the same.
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    let checked = 0;
    for (const { text } of exampleFiles()) {
      const inputs = [text];
      for (let k = 0; k < 12; k++) {
        const at = next() % (text.length + 1);
        inputs.push(text.slice(0, at), text.slice(0, at) + '}{;.. x'[next() % 7]! + text.slice(at + (next() % 4)));
      }
      for (const t of inputs) {
        const starts = chunkStarts(t) ?? [0];
        const pieces = [t, ...starts.map((s, i) => t.slice(s, starts[i + 1] ?? t.length))];
        for (const piece of pieces) {
          for (const base of [1, 4099]) {
            const atBase = parseUncapped(piece, base);
            const atZero = parseUncapped(piece);
            assert.deepEqual(atBase, shifted(atZero, base));
            assert.equal(chunkIsClean(atBase, false, base), chunkIsClean(atZero, false));
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 1000, `${checked} parses compared`);
  });

  test('thousands of errors are capped with a summary line', () => {
    const text = `platform p {\n${'arch sparc\n'.repeat(500)}}`;
    const f = parse(text);
    assert.equal(f.diagnostics.length, 201);
    assert.match(f.diagnostics[200]!.message, /^300 more syntax errors not shown$/);
  });
});
