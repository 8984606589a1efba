/**
 * Firmware DMA at ExitBootServices (RULES §7), on the seed-000 host: each finding from a
 * realistic OVMF description, the verdict (every order / some orders), fixes applied and
 * re-checked, hovers, and the reductions checked against the unreduced search.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { hover } from '../../../server/src/ide/hover';
import type { Finding } from '../../../server/src/model';
import { TRACE_LIMIT } from '../../../server/src/domains/firmware/sim/driverFindings';
import { DRIVER_FLOOR, FIRMWARE_BUDGET, runFirmware } from '../../../server/src/domains/firmware/sim/exitBootServices';
import { analyze, applyEdits, slice, uri } from '../../helpers';
import { resultOf } from '../../../server/src/sim';
import { FIRMWARE_ENGINE } from '../../../server/src/domains/firmware/engine';

const SEED = join(import.meta.dirname, '..', '..', '..', 'examples', 'seed-000-ovmf-exit-boot-services');
const HOST = readFileSync(join(SEED, 'hosts', 'milan-sev01.iommu'), 'utf8');
const GUESTS = `guest cvm on milan-sev01 {
  machine q35 memory 8G cpu amd
  confidential sev-snp
  assign vnet1
  assign nvme1
}
guest plain on milan-sev01 {
  machine q35 memory 4G
  assign nvme0
}`;

/** A firmware block for `guest` around `body`, with the seed host. */
function workspace(body: string, guest = 'cvm'): Record<string, string> {
  return { 'host.iommu': HOST, 'guests.iommu': GUESTS, 'fw.iommu': `firmware ovmf for ${guest} {\n${body}\n}\n` };
}

function check(files: Record<string, string>) {
  const a = analyze(files);
  const fw = a.all.filter((f) => f.uri === uri('fw.iommu'));
  const text = files['fw.iommu']!;
  return { a, fw, text, codes: fw.map((f) => `${f.severity} ${f.code}@${slice(text, f.span)}`) };
}

/** Applies the only fix of the only finding with `code`, and checks again. */
function fixed(files: Record<string, string>, code: string) {
  const { fw, text } = check(files);
  const f = fw.filter((x) => x.code === code);
  assert.equal(f.length, 1, `one ${code}`);
  assert.equal(f[0]!.fixes.length, 1);
  const after = { ...files, 'fw.iommu': applyEdits(text, f[0]!.fixes[0]!.edits) };
  return { ...check(after), fix: f[0]!.fixes[0]! };
}

const NET = `  driver VirtioNetDxe for vnet1 {
    map tx-ring common-buffer size 12K from allocate-buffer pending
    map rx-ring common-buffer size 12K from allocate-buffer pending
    on exit-boot-services tpl callback stop-dma
  }`;
const MERGED = `  iommu-protocol {
    on exit-boot-services tpl callback unmap-all deferred
  }`;

/**
 * A host with n virtio-blk functions, an SEV-SNP guest with all of them, and a firmware
 * whose driver i (VirtioBlkDxe{i}) has the body `driver(i)`, with the IOMMU protocol's
 * handlers `iommu` (first in the firmware with `iommuFirst`, so its source order runs them first).
 */
function drivers(n: number, driver: (i: number) => string, iommu: string, iommuFirst = false) {
  const bdf = (i: number) => `0000:${(0x10 + (i >> 5)).toString(16)}:${(i & 31).toString(16).padStart(2, '0')}.0`;
  const devs = Array.from({ length: n }, (_, i) => `  device blk${i} { bdf ${bdf(i)}; iommu amdvi0; group ${100 + i} }`);
  const host = `platform fleet-host {\n  arch x86_64\n  iommu amdvi0 amd-vi { address-width 48 }\n${devs.join('\n')}\n}`;
  const assigned = devs.map((_, i) => `  assign blk${i}`).join('\n');
  const guest = `guest many on fleet-host {\n  machine q35 memory 16G cpu amd\n  confidential sev-snp\n${assigned}\n}`;
  const blocks = devs.map((_, i) => `  driver VirtioBlkDxe${i} for blk${i} {\n${driver(i)}\n  }`);
  const protocol = `  iommu-protocol {\n${iommu}\n  }`;
  const fw = `firmware blk-fw for many {\n${(iommuFirst ? [protocol, ...blocks] : [...blocks, protocol]).join('\n')}\n}`;
  const a = analyze({ 'host.iommu': host, 'guest.iommu': guest, 'fw.iommu': fw });
  const found = a.all.filter((f) => f.uri === uri('fw.iommu'));
  return { a, found, run: resultOf(a.sim, FIRMWARE_ENGINE).get(a.model.firmwares.get('blk-fw')!)! };
}

describe('the seed-000 examples', () => {
  const files = (name: string) => ({
    'host.iommu': HOST,
    'guests.iommu': readFileSync(join(SEED, 'guests', name === 'ovmf-stable' ? 'sev-web.iommu' : 'sev-web-rfc.iommu'), 'utf8'),
    'fw.iommu': readFileSync(join(SEED, 'firmware', `${name}.iommu`), 'utf8'),
  });

  test('OVMF as merged (CommonBuffer rings, a pending BusMasterRead packet, IoMmuDxe unmaps from a second event) is clean', () => {
    assert.deepEqual(check(files('ovmf-stable')).codes, []);
  });

  test("OVMF as reviewed in 2017: every driver Unmap() frees, the review's IoMmuDxe handler races the drivers", () => {
    assert.deepEqual(check(files('ovmf-rfc-v1')).codes, [
      'warning fw-pending-bus-master@bus-master-read',
      'warning fw-double-unmap@unmap tx-ring',
      'warning fw-free-in-handler@unmap tx-ring',
      'warning fw-double-unmap@unmap rx-ring',
      'warning fw-free-in-handler@unmap rx-ring',
      'warning fw-double-unmap@unmap rx-bufs',
      'warning fw-free-in-handler@unmap rx-bufs',
      'warning fw-double-unmap@unmap tx-buf',
      'warning fw-free-in-handler@unmap tx-buf',
      'warning fw-teardown-before-stop@unmap-all',
      'warning fw-teardown-before-stop@unmap-all',
    ]);
  });
});

describe('fw-mapping-left', () => {
  test('without an IOMMU protocol handler the rings stay shared with the host of an SEV-SNP guest', () => {
    const { fw, codes } = check(workspace(NET));
    assert.deepEqual(codes, ['error fw-mapping-left@tx-ring', 'error fw-mapping-left@rx-ring']);
    assert.match(fw[0]!.message, /stays shared \(decrypted\) with the host after ExitBootServices \(SEV-SNP\)/);
  });

  test('in a guest that is not confidential OVMF has no IoMmuDxe: information, nothing stays mapped (IoMmuDxe.c IoMmuDxeEntryPoint)', () => {
    // IoMmuDxeEntryPoint installs the IOMMU protocol only if MemEncryptSevIsEnabled () || MemEncryptTdxIsEnabled ().
    const body = '  driver NvmExpressDxe for nvme0 {\n    map admin-sq common-buffer size 4K from allocate-buffer\n  }';
    const { fw, codes } = check(workspace(body, 'plain'));
    assert.deepEqual(codes, ['information fw-mapping-left@admin-sq']);
    assert.match(fw[0]!.message, /installs IoMmuAbsentProtocol outside SEV\/TDX/);
    assert.doesNotMatch(fw[0]!.message, /the OS inherits an IOMMU mapping/);
  });

  test('the merged deferred unmap-all leaves nothing, and hover says who unmaps a ring', () => {
    const files = workspace(`${NET}\n${MERGED}`);
    const { a, codes, text } = check(files);
    assert.deepEqual(codes, []);
    const h = hover(a, uri('fw.iommu'), text.indexOf('tx-ring') + 1)!.markdown;
    assert.match(h, /DMA mapping tx-ring\*\* of driver VirtioNetDxe: BusMasterCommonBuffer/);
    assert.match(h, /unmapped by the IOMMU protocol's deferred unmap-all \(second TPL_CALLBACK event\)/);
    assert.doesNotMatch(h, /Still mapped/);
  });
});

describe('fw-pending-bus-master', () => {
  // Upstream VirtioNetDxe (bd114d9f77): VirtioNetMapTxBuf maps each TX packet BusMasterRead and keeps it until
  // GetStatus recycles it; VirtioNetExitBoot only resets the device; IoMmuUnmapAllMappings (7aee391fa3) cleans up.
  const upstream = (handler: string, iommu = MERGED) => `  driver VirtioNetDxe for vnet1 {
    map tx-ring common-buffer size 12K from allocate-buffer pending
    map tx-buf bus-master-read size 1536 pending
    on exit-boot-services tpl callback ${handler}
  }
${iommu}`;

  test("upstream VirtioNetDxe's pending BusMasterRead TX packet with IoMmuDxe's deferred unmap-all is clean (RULES 7.4)", () => {
    assert.deepEqual(check(workspace(upstream('stop-dma'))).codes, []);
    // The same for BusMasterWrite: the unmap-all copies it back without freeing (IoMmuUnmapWorker(MemoryMapLocked=TRUE)).
    assert.deepEqual(check(workspace(upstream('stop-dma').replace('bus-master-read', 'bus-master-write64'))).codes, []);
  });

  test('unmapping it in the ExitBootServices handler frees: a warning, related to the Unmap(), and no CommonBuffer fix', () => {
    const { fw, codes } = check(workspace(upstream('{ stop-dma; unmap tx-buf }')));
    assert.deepEqual(codes, ['warning fw-pending-bus-master@bus-master-read', 'warning fw-free-in-handler@unmap tx-buf']);
    assert.match(fw[0]!.message, /upstream VirtioNetDxe keeps TX packets mapped BusMasterRead/);
    assert.equal(fw[0]!.related[0]!.message, "VirtioNetDxe's TPL_CALLBACK ExitBootServices handler unmaps tx-buf here");
    assert.deepEqual(fw[0]!.fixes, []);
  });

  test('with no IOMMU cleanup at all it is information beside fw-mapping-left', () => {
    const { codes } = check(workspace(upstream('stop-dma', '')));
    assert.deepEqual(codes, [
      'error fw-mapping-left@tx-ring',
      'error fw-mapping-left@tx-buf',
      'information fw-pending-bus-master@bus-master-read',
    ]);
  });

  test('completed and idle BusMaster mappings are fine', () => {
    const files = workspace(upstream('stop-dma').replace('size 1536 pending', 'size 128K completed'));
    assert.deepEqual(check(files).codes, []);
  });
});

describe('fw-teardown-before-stop', () => {
  test('an IOMMU handler at TPL_NOTIFY tears down before every TPL_CALLBACK driver handler: error', () => {
    const { fw, codes } = check(workspace(`${NET}\n  iommu-protocol { on exit-boot-services tpl notify unmap-all }`));
    assert.deepEqual(codes, ['error fw-teardown-before-stop@unmap-all']);
    assert.match(fw[0]!.message, /in every order the UEFI specification allows/);
    assert.match(fw[0]!.message, /vnet1 may still do DMA into tx-ring, rx-ring/);
    assert.equal(fw[0]!.related[0]!.message, 'vnet1 stops DMA here');
  });

  test('at TPL_CALLBACK it may run among the drivers: a warning naming one order, listed on hover', () => {
    const body = `${NET}
  driver NvmExpressDxe for nvme1 {
    map io-queues common-buffer size 16K from allocate-buffer pending
    on exit-boot-services tpl callback stop-dma
  }
  iommu-protocol { on exit-boot-services tpl callback unmap-all }`;
    const { a, fw, codes, text } = check(workspace(body));
    assert.deepEqual(codes, ['warning fw-teardown-before-stop@unmap-all', 'warning fw-teardown-before-stop@unmap-all']);
    const net = fw.find((f) => f.message.includes('vnet1'))!;
    assert.match(
      net.message,
      /in some orders .*, e\.g\. the IOMMU protocol's TPL_CALLBACK ExitBootServices handler, then VirtioNetDxe's TPL_CALLBACK ExitBootServices handler/,
    );
    // The trace is the order of what matters to VirtioNetDxe, the IOMMU's handler first; NvmExpressDxe's is one line.
    assert.deepEqual(
      net.trace!.map((t) => t.message),
      [
        "1. the IOMMU protocol's TPL_CALLBACK ExitBootServices handler",
        "2. VirtioNetDxe's TPL_CALLBACK ExitBootServices handler",
        "and 1 other notify function of firmware ovmf, in between: it does not change what happens to vnet1 or VirtioNetDxe's mappings",
      ],
    );
    const h = hover(a, uri('fw.iommu'), text.indexOf('unmap-all') + 2)!.markdown;
    assert.match(h, /`fw-teardown-before-stop`: one order in which it happens/);
    assert.match(h, /1\. .* \(line \d+\)/);
  });

  test('a driver that unmaps its ring before stopping the device faults in every order', () => {
    const body = `  driver VirtioNetDxe for vnet1 {
    map rx-ring common-buffer size 12K from allocate-buffer pending
    on exit-boot-services tpl callback { unmap rx-ring; stop-dma }
  }`;
    assert.deepEqual(check(workspace(body)).codes, [
      'warning fw-free-in-handler@unmap rx-ring',
      'error fw-teardown-before-stop@unmap rx-ring',
    ]);
  });

  test('the deferred unmap-all is a TPL_CALLBACK event even behind a TPL_NOTIFY IoMmuExitBoot (CcIoMmu.c InstallIoMmuProtocol)', () => {
    // IoMmuDxe creates UnmapAllMappingsEvent with CreateEvent (EVT_NOTIFY_SIGNAL, TPL_CALLBACK, IoMmuUnmapAllMappings, ...)
    // in every release since 7aee391fa3: it runs after every TPL_CALLBACK ExitBootServices handler.
    const body = `${NET}\n  iommu-protocol { on exit-boot-services tpl notify unmap-all deferred }`;
    assert.deepEqual(check(workspace(body)).codes, []);
    const late = `${NET.replace('stop-dma', '{ stop-dma; unmap tx-ring }')}\n  iommu-protocol { on exit-boot-services tpl notify unmap-all deferred }`;
    // No teardown before the stop and no double unmap: the driver's own Unmap() runs first in every order.
    assert.deepEqual(check(workspace(late)).codes, ['warning fw-free-in-handler@unmap tx-ring']);
  });

  // [TPL of the IOMMU's ExitBootServices handler, TPL of the event it signals, expected]
  for (const [first, second, expected, why] of [
    ['callback', 'notify', ['warning fw-teardown-before-stop@unmap-all'], 'runs at once, among the drivers'],
    ['notify', 'callback', [], 'runs after all drivers'],
  ] as const) {
    test(`a TPL_${second.toUpperCase()} event signalled from a TPL_${first.toUpperCase()} IOMMU handler ${why}`, () => {
      const body = `${NET}\n  iommu-protocol {\n    on exit-boot-services tpl ${first} signal late\n    on event late tpl ${second} unmap-all\n  }`;
      assert.deepEqual(check(workspace(body)).codes, expected);
    });
  }

  // A stop in a later event still ends the DMA inside ExitBootServices: the Driver Writer's Guide 25.2.1 "must" is broken (a warning).
  test('"if some PCI driver does the same trick ... we are back to square one": a driver deferring its stop to a second event', () => {
    const body = `  driver VirtioNetDxe for vnet1 {
    map rx-ring common-buffer size 12K from allocate-buffer pending
    on exit-boot-services tpl callback signal net-quiesce
    on event net-quiesce tpl callback stop-dma
  }
${MERGED}`;
    const { fw, codes } = check(workspace(body));
    assert.deepEqual(codes, [
      'warning fw-dma-after-handler@on exit-boot-services tpl callback',
      'warning fw-teardown-before-stop@unmap-all deferred',
    ]);
    assert.match(fw[0]!.message, /its stop-dma runs only in VirtioNetDxe's TPL_CALLBACK handler of event net-quiesce/);
    assert.match(fw[0]!.message, /Driver Writer's Guide \(25\.2\.1/);
    assert.match(fw[1]!.message, /the IOMMU protocol's deferred unmap-all \(second TPL_CALLBACK event\)/);
  });
});

describe('fw-dma-after-handler', () => {
  test('a handler that only unmaps leaves the device running: error; the fix stops it first', () => {
    const body = `  driver VirtioNetDxe for vnet1 {
    map rx-ring common-buffer size 12K from allocate-buffer pending
    on exit-boot-services tpl callback {
      unmap rx-ring
    }
  }
${MERGED}`;
    const files = workspace(body);
    const { fw } = check(files);
    assert.deepEqual(check(files).codes, [
      'error fw-dma-after-handler@on exit-boot-services tpl callback',
      'warning fw-free-in-handler@unmap rx-ring',
      'error fw-teardown-before-stop@unmap rx-ring',
    ]);
    assert.match(fw[0]!.message, /DMA outlives ExitBootServices/);
    const after = fixed(files, 'fw-dma-after-handler');
    assert.match(after.text, /tpl callback \{\n {6}stop-dma\n {6}unmap rx-ring\n/);
    assert.deepEqual(after.codes, ['warning fw-free-in-handler@unmap rx-ring']);
  });

  test('a one-action handler gets a block', () => {
    const body = `  driver VirtioNetDxe for vnet1 {\n    map rx-ring common-buffer size 12K from allocate-buffer pending\n    on exit-boot-services tpl callback unmap rx-ring\n  }\n${MERGED}`;
    const after = fixed(workspace(body), 'fw-dma-after-handler');
    assert.match(after.text, /tpl callback \{ stop-dma; unmap rx-ring \}/);
    assert.deepEqual(after.codes, ['warning fw-free-in-handler@unmap rx-ring']);
  });

  test('a driver without an ExitBootServices handler: on its name; the fix adds one', () => {
    const body = `  driver NvmExpressDxe for nvme1 {\n    map io-queues common-buffer size 16K from allocate-buffer pending\n  }\n${MERGED}`;
    const files = workspace(body);
    const { fw, codes } = check(files);
    // The device never stops, so even the deferred unmap-all pulls the queues from under it.
    assert.deepEqual(codes, ['error fw-dma-after-handler@NvmExpressDxe', 'error fw-teardown-before-stop@unmap-all deferred']);
    assert.match(fw[0]!.message, /NvmExpressDxe has no ExitBootServices handler/);
    const after = fixed(files, 'fw-dma-after-handler');
    assert.match(after.text, /pending\n {4}on exit-boot-services tpl callback stop-dma\n {2}\}/);
    assert.deepEqual(after.codes, []);
  });

  test('two handlers, one of them stopping the device, are fine in either order (Stall() is no memory service)', () => {
    const body = `  driver VirtioNetDxe for vnet1 {
    map rx-ring common-buffer size 12K from allocate-buffer pending
    on exit-boot-services tpl callback stop-dma
    on exit-boot-services tpl notify call Stall
  }
${MERGED}`;
    assert.deepEqual(check(workspace(body)).codes, []);
  });
});

describe('fw-double-unmap, fw-free-in-handler, fw-boot-service-in-handler', () => {
  test('unmapping a completed mapping again is an error in every order', () => {
    const body = `  driver NvmExpressDxe for nvme1 {\n    map prp bus-master-write size 128K completed\n    on exit-boot-services tpl callback unmap prp\n  }`;
    const { fw, codes } = check(workspace(body));
    assert.deepEqual(codes, ['error fw-double-unmap@unmap prp', 'warning fw-free-in-handler@unmap prp']);
    assert.match(fw[0]!.message, /prp is `completed`: NvmExpressDxe unmapped it before its call returned/);
  });

  test("free and allocation services in handlers are warnings; the IOMMU protocol's unmap-all frees nothing", () => {
    // UEFI CreateEvent, EVT_SIGNAL_EXIT_BOOT_SERVICES: "not allowed to use the Memory Allocation Services"; edk2 refuses nothing.
    const body = `  driver VirtioNetDxe for vnet1 {
    map rx-ring common-buffer size 12K from allocate-buffer pending
    map tx-buf bus-master-read size 4K
    on exit-boot-services tpl callback { stop-dma; free rx-ring; call AllocatePool; call FreePages }
  }
  iommu-protocol {
    on exit-boot-services tpl callback { signal late; call Stall }
    on event late tpl callback unmap-all
  }`;
    const { fw, codes } = check(workspace(body));
    assert.deepEqual(codes, [
      'warning fw-free-in-handler@free rx-ring',
      'warning fw-boot-service-in-handler@call AllocatePool',
      'warning fw-boot-service-in-handler@call FreePages',
    ]);
    assert.match(fw[1]!.message, /is not allowed to use the Memory Allocation Services/);
    assert.match(fw[1]!.message, /memory the OS already counts as free/);
  });

  test('the services upstream handlers call are no finding: SetTimer and CloseEvent (XhcExitBootService), SignalEvent (IoMmuExitBoot)', () => {
    const body = `  driver XhciDxe for usb0 {
    map cmd-ring common-buffer size 4K from allocate-buffer pending
    on exit-boot-services tpl notify { stop-dma; call SetTimer; call CloseEvent; call Attributes }
  }
  iommu-protocol {
    on exit-boot-services tpl callback { call SignalEvent; signal late }
    on event late tpl callback unmap-all
  }`;
    const { fw, codes } = check({ ...workspace(body), 'guests.iommu': GUESTS.replace('assign vnet1', 'assign usb0') });
    // CloseEvent frees its event with FreePool in edk2's CoreCloseEvent, and nothing fails: information only.
    assert.deepEqual(
      codes.filter((c) => c.includes('handler@')),
      ['information fw-boot-service-in-handler@call CloseEvent'],
    );
    assert.match(fw.find((f) => f.code === 'fw-boot-service-in-handler')!.message, /CoreFreePool \(Event\)/);
  });

  test('a driver Unmap() of a CommonBuffer in its handler frees its MAP_INFO (edk2 9ed745b967, IoMmuUnmap)', () => {
    const body = `  driver VirtioBlkDxe for nvme1 {
    map ring common-buffer size 12K from allocate-buffer pending
    on exit-boot-services tpl callback { stop-dma; unmap ring }
  }
${MERGED}`;
    const { fw, codes } = check(workspace(body));
    assert.deepEqual(codes, ['warning fw-free-in-handler@unmap ring']);
    assert.match(fw[0]!.message, /calls FreePool\(\) on its MAP_INFO/);
    assert.match(fw[0]!.message, /device drivers are no longer expected to call Unmap\(\) in their ExitBootServices\(\)/);
  });

  test('a handler of an event nobody signals never runs, so its actions are not reported', () => {
    const body = `${NET}\n${MERGED.replace('  }', '    on event never-signalled tpl callback call AllocatePool\n  }')}`;
    assert.deepEqual(check(workspace(body)).codes, []);
  });
});

describe('EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES (RULES 7.7)', () => {
  // CoreExitBootServices signals the group, and dispatches what it signals, before SetTimerPeriod (0) and
  // CoreTerminateMemoryMap (DxeMain.c, 9d70d8f20d, edk2-stable202302). SnpDxe stops NICs there (89d413731d).
  const early = `  driver VirtioNetDxe for vnet1 {
    map tx-ring common-buffer size 12K from allocate-buffer pending
    map tx-buf bus-master-read size 1536 pending
    on before-exit-boot-services tpl callback { stop-dma; unmap tx-buf; unmap tx-ring }
  }`;

  test('a driver may stop its device and Unmap() there: no free, no pending, no teardown finding', () => {
    assert.deepEqual(check(workspace(`${early}\n${MERGED}`)).codes, []);
  });

  test('it runs before every ExitBootServices handler, even a TPL_NOTIFY IOMMU teardown (the answer to seed 000)', () => {
    const late = `${early.replace('; unmap tx-buf; unmap tx-ring', '')}\n  iommu-protocol { on exit-boot-services tpl notify unmap-all }`;
    assert.deepEqual(check(workspace(late)).codes, []);
    // The same stop in an ExitBootServices handler faults in every order.
    const ebs = late.replace('before-exit-boot-services', 'exit-boot-services');
    assert.deepEqual(check(workspace(ebs)).codes, ['error fw-teardown-before-stop@unmap-all']);
  });

  test('on a release before edk2-stable202302 the handler never runs: an error, and the device is never stopped', () => {
    const old = `  edk2 edk2-stable202211\n${early.replace('; unmap tx-buf; unmap tx-ring', '')}\n${MERGED}`;
    const { fw, codes } = check(workspace(old));
    assert.deepEqual(codes, [
      'error fw-dma-after-handler@VirtioNetDxe',
      'error fw-before-ebs-unsupported@on before-exit-boot-services tpl callback',
      'error fw-teardown-before-stop@unmap-all deferred',
    ]);
    assert.match(
      fw[1]!.message,
      /EDK II edk2-stable202211: EDK II signals EFI_EVENT_GROUP_BEFORE_EXIT_BOOT_SERVICES only since EDK II edk2-stable202302/,
    );
    assert.deepEqual(check(workspace(old.replace('202211', '202302'))).codes, []);
  });

  test('edk2-stable202302 to 202411 signal the group on every ExitBootServices() retry: an Unmap() there runs twice (e8668d2dee)', () => {
    // DxeMain.c CoreExitBootServices: `if (!mExitBootServicesCalled)` guards the BeforeExitBootServices signal only
    // since e8668d2dee (edk2-stable202502, UEFI 2.10 errata A 7.4.6). The handler's Unmap() frees, so the loader's
    // MapKey is stale, the first call fails and Linux's efi_exit_boot_services retries.
    const at = (tag: string) => check(workspace(`  edk2 ${tag}\n${early}\n${MERGED}`));
    const r = at('edk2-stable202411');
    assert.deepEqual(r.codes, ['warning fw-before-ebs-resignal@unmap tx-buf', 'warning fw-before-ebs-resignal@unmap tx-ring']);
    assert.match(r.fw[0]!.message, /Unmap\(\) of tx-buf frees its MAP_INFO, which can change the memory map/);
    assert.match(r.fw[0]!.message, /its second Unmap\(\) hands IoMmuDxe the MAP_INFO the first one freed/);
    assert.match(r.fw[0]!.message, /only once since EDK II edk2-stable202502/);
    assert.deepEqual(
      r.fw[0]!.related.map((x) => x.message),
      ['the BeforeExitBootServices handler', 'the release is named here'],
    );
    assert.deepEqual(at('edk2-stable202302').codes, r.codes);
    // Signalled once since edk2-stable202502, and with no `edk2` line the newest release applies.
    assert.deepEqual(at('edk2-stable202502').codes, []);
    assert.deepEqual(check(workspace(`${early}\n${MERGED}`)).codes, []);
    // Stopping the device alone changes no memory map: nothing to repeat.
    assert.deepEqual(
      check(workspace(`  edk2 edk2-stable202411\n${early.replace('; unmap tx-buf; unmap tx-ring', '')}\n${MERGED}`)).codes,
      [],
    );
  });

  test('the firmware hover lists the early functions first', () => {
    const files = workspace(`${early}\n${MERGED}`);
    const { a, text } = check(files);
    const h = hover(a, uri('fw.iommu'), text.indexOf('ovmf') + 1)!.markdown;
    assert.match(h, /First, before the memory map is locked[^\n]*\n- VirtioNetDxe's TPL_CALLBACK BeforeExitBootServices handler/);
  });
});

describe('PciIo.Map() checks', () => {
  test('CommonBuffer over AllocatePool() memory: error; the fix allocates it with AllocateBuffer()', () => {
    const body = `  driver VirtioNetDxe for vnet1 {\n    map rx-ring common-buffer size 12K from allocate-pool pending\n    on exit-boot-services tpl callback stop-dma\n  }\n${MERGED}`;
    const files = workspace(body);
    assert.deepEqual(check(files).codes, ['error fw-common-buffer-source@from allocate-pool']);
    assert.deepEqual(fixed(files, 'fw-common-buffer-source').codes, []);
  });

  const at = (op: string, where: string, guest = 'cvm') =>
    check(workspace(`  driver NvmExpressDxe for nvme1 {\n    map buf ${op} at ${where} completed\n  }`, guest)).codes;
  test('CommonBuffer above 4 GiB fails, 64-bit too on OVMF x86 (DmaAbove4G = FALSE: RootBridgeIoMap "Clear 64bit support")', () => {
    assert.deepEqual(at('common-buffer', '0x1_0000_0000 size 4K'), [
      'error fw-32bit-above-4g@map buf common-buffer at 0x1_0000_0000 size 4K completed',
    ]);
    assert.deepEqual(at('common-buffer', '0xffff_f000 size 8K'), [
      'error fw-32bit-above-4g@map buf common-buffer at 0xffff_f000 size 8K completed',
    ]);
    assert.deepEqual(at('common-buffer64', '0x2_0000_0000 size 4K'), [
      'error fw-32bit-above-4g@map buf common-buffer64 at 0x2_0000_0000 size 4K completed',
    ]);
    // IoMmuMap tests whole pages: EFI_PAGES_TO_SIZE (NumberOfPages) > BASE_4GB - CryptedAddress.
    assert.deepEqual(at('common-buffer', '0xffff_f800 size 2K'), [
      'error fw-32bit-above-4g@map buf common-buffer at 0xffff_f800 size 2K completed',
    ]);
    // The root bridge (no IoMmuDxe outside SEV/TDX) tests bytes.
    assert.deepEqual(at('common-buffer', '0xffff_f800 size 2K', 'plain'), []);
    assert.deepEqual(at('common-buffer', '0xffff_f000 size 4K'), []);
  });

  test('BusMasterRead/Write above 4 GiB is no finding: IoMmuDxe always bounces it (below 4 GiB for 32-bit operations)', () => {
    assert.deepEqual(at('bus-master-read', '0x2_0000_0000 size 4K'), []);
    assert.deepEqual(at('bus-master-write', '0x2_0000_0000 size 4K'), []);
  });

  test('the fix takes the buffer from AllocateBuffer(), below 4 GiB', () => {
    const after = fixed(
      workspace('  driver NvmExpressDxe for nvme1 {\n    map buf common-buffer64 at 0x1_0000_0000 size 4K completed\n  }'),
      'fw-32bit-above-4g',
    );
    assert.match(after.text, /map buf common-buffer64 size 4K completed from allocate-buffer/);
    assert.deepEqual(after.codes, []);
  });

  test('stop-dma belongs to a driver', () => {
    assert.deepEqual(check(workspace('  iommu-protocol { on exit-boot-services tpl callback stop-dma }')).codes, [
      'error fw-misplaced-action@stop-dma',
    ]);
  });
});

describe('exploration: exact reductions, and tens of drivers', () => {
  /** Findings as code/severity/span, the message's example order left out. */
  const shape = (fs: Finding[]) => fs.map((f) => `${f.severity} ${f.code} ${f.span.start}`).sort();

  /** mulberry32: a small PRNG whose low bits are usable (a plain LCG's are not). */
  function random(seed: number) {
    const rnd = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    return { rnd, pick: <T>(xs: readonly T[]) => xs[rnd(xs.length)]! };
  }

  /** Runs the firmware of `lines` reduced and unreduced: the findings must agree. */
  function agree(lines: string[]) {
    const a = analyze(workspace(lines.join('\n'), 'cvm'));
    const fw = a.model.firmwares.get('ovmf')!;
    const reduced: Finding[] = [];
    const full: Finding[] = [];
    const runs = { reduced: runFirmware(fw, reduced), full: runFirmware(fw, full, { reduce: false }) };
    assert.deepEqual(shape(reduced), shape(full), lines.join('\n'));
    return { reduced, runs };
  }

  test('projection, independence and symmetry agree with the unreduced search on 300 random firmwares', () => {
    const { rnd, pick } = random(7);
    const devices = ['vnet0', 'vnet1', 'nvme0'];
    const seen = new Set<string>();
    for (let run = 0; run < 300; run++) {
      const events = ['e1', 'e2'];
      const lines: string[] = [];
      const nDrivers = 1 + rnd(3);
      for (let d = 0; d < nDrivers; d++) {
        lines.push(`  driver D${d} for ${devices[d]} {`);
        const maps = Array.from({ length: 1 + rnd(2) }, (_, i) => `m${d}${i}`);
        for (const m of maps)
          lines.push(`    map ${m} common-buffer size 4K from allocate-buffer ${pick(['pending', 'pending', '', 'completed'])}`);
        for (let h = rnd(3); h > 0; h--) {
          const acts = Array.from({ length: 1 + rnd(2) }, () =>
            pick(['stop-dma', 'stop-dma', `unmap ${pick(maps)}`, `signal ${pick(events)}`]),
          );
          lines.push(
            `    on ${pick(['exit-boot-services', 'exit-boot-services', 'before-exit-boot-services', `event ${pick(events)}`])} tpl ${pick(['callback', 'notify'])} { ${acts.join('; ')} }`,
          );
        }
        lines.push('  }');
      }
      lines.push('  iommu-protocol {');
      for (let h = rnd(3); h > 0; h--) {
        const act = pick(['unmap-all', 'unmap-all deferred', `signal ${pick(events)}`, 'unmap m00']);
        lines.push(
          `    on ${pick(['exit-boot-services', 'before-exit-boot-services', `event ${pick(events)}`])} tpl ${pick(['callback', 'notify'])} ${act}`,
        );
      }
      lines.push('  }');
      // Every event somebody waits on exists, so `signal` always resolves.
      for (const e of events) lines.push(`  driver W${e} for usb0 { on event ${e} tpl callback }`);
      for (const f of agree(lines).reduced) seen.add(`${f.severity} ${f.code}`);
    }
    // The random firmwares reach every verdict of the search, both ways.
    for (const k of [
      'error fw-teardown-before-stop',
      'warning fw-teardown-before-stop',
      'error fw-double-unmap',
      'warning fw-double-unmap',
      'error fw-dma-after-handler',
      'error fw-mapping-left',
    ])
      assert.ok(seen.has(k), `${k} never came up: ${[...seen].join(', ')}`);
  });

  test('signallers of one kind, events private to a driver and IOMMU unmaps by name: 200 random firmwares, reduced and not', () => {
    // Drivers that signal one shared event the same way (one of a kind stands for all),
    // defer their stop to an event of their own (private: no other projection waits on it),
    // and an IOMMU handler unmapping several drivers' mappings by name (each sees one action).
    const { rnd, pick } = random(11);
    const devices = ['vnet0', 'vnet1', 'nvme0', 'nvme1'];
    const tpl = () => pick(['callback', 'callback', 'notify']);
    let states = 0;
    let statesFull = 0;
    for (let run = 0; run < 200; run++) {
      const lines: string[] = [];
      const n = 2 + rnd(3);
      for (let d = 0; d < n; d++) {
        lines.push(`  driver D${d} for ${devices[d]} {`);
        lines.push(`    map m${d} common-buffer size 4K from allocate-buffer ${pick(['pending', 'pending', ''])}`);
        const acts = [pick(['stop-dma', 'signal q', `signal own${d}`]), pick(['stop-dma', 'signal q', 'signal q'])];
        lines.push(`    on exit-boot-services tpl ${tpl()} { ${acts.join('; ')} }`);
        lines.push(`    on event own${d} tpl ${tpl()} { ${pick(['stop-dma', 'stop-dma', 'stop-dma; signal q', `unmap m${d}`])} }`);
        lines.push('  }');
      }
      lines.push('  iommu-protocol {', `    on event q tpl ${tpl()} ${pick(['unmap-all', 'unmap-all deferred', 'call Stall'])}`);
      for (let h = rnd(3); h > 0; h--) {
        const act = pick(['unmap-all deferred', 'signal q', '{ unmap m0; unmap m1 }', 'unmap-all']);
        lines.push(`    on exit-boot-services tpl ${tpl()} ${act}`);
      }
      lines.push('  }');
      const { runs } = agree(lines);
      states += runs.reduced.states;
      statesFull += runs.full.states;
    }
    // The reductions are what keeps the search small.
    assert.ok(states * 3 < statesFull, `${states} states reduced, ${statesFull} unreduced`);
  });

  function fleet(n: number, same: boolean, iommu: string) {
    return drivers(
      n,
      (i) => {
        // Different drivers differ in their number of rings, so no two share a projection.
        const maps = Array.from(
          { length: same ? 2 : 1 + i },
          (_, k) => `    map q${k} common-buffer size 16K from allocate-buffer pending`,
        );
        return `${maps.join('\n')}\n    on exit-boot-services tpl ${same || i % 2 ? 'callback' : 'notify'} stop-dma`;
      },
      iommu,
    );
  }

  test('forty identical drivers are explored once (symmetry) and each gets its verdict', () => {
    const one = fleet(1, true, '    on exit-boot-services tpl callback unmap-all');
    const forty = fleet(40, true, '    on exit-boot-services tpl callback unmap-all');
    assert.equal(forty.a.all.filter((f) => f.code === 'fw-teardown-before-stop' && f.severity === 'warning').length, 40);
    assert.equal(forty.run.states, one.run.states);
  });

  test('forty different drivers cost forty small searches, not 40!', () => {
    const forty = fleet(40, false, '    on exit-boot-services tpl callback unmap-all');
    const faults = forty.a.all.filter((f) => f.code === 'fw-teardown-before-stop');
    // TPL_NOTIFY drivers stop before the TPL_CALLBACK IOMMU handler: only the callback half is at risk.
    assert.equal(faults.length, 20);
    assert.ok(faults.every((f) => f.severity === 'warning'));
    // One choice point per TPL_CALLBACK driver (its handler or the IOMMU's first), none for the others.
    assert.ok(forty.run.states <= 40, `${forty.run.states} states`);
    const merged = fleet(40, false, '    on exit-boot-services tpl callback unmap-all deferred');
    assert.deepEqual(
      merged.a.all.filter((f) => f.code.startsWith('fw-')),
      [],
    );
  });

  test('a projection too big to search says so and still reports from one order', () => {
    const handlers = Array.from({ length: 18 }, (_, i) => `    on exit-boot-services tpl callback unmap q${i}`);
    const maps = Array.from({ length: 18 }, (_, i) => `    map q${i} common-buffer size 4K from allocate-buffer pending`);
    const body = `  driver Wide for vnet1 {\n${maps.join('\n')}\n${handlers.join('\n')}\n    on exit-boot-services tpl callback stop-dma\n  }\n  iommu-protocol { on exit-boot-services tpl callback unmap-all }`;
    const { codes } = check(workspace(body));
    assert.ok(codes.includes('information fw-orders-truncated@ovmf'), codes.join('\n'));
    assert.ok(codes.some((c) => c.startsWith('warning fw-teardown-before-stop@unmap q')));
  });

  test('drivers signalling each other in a ring share one bound for the whole firmware (fuzz regression)', () => {
    // Every projection is the whole firmware and none is shared: with a bound per search,
    // twelve drivers cost twelve full searches (9 s per analysis).
    const n = 12;
    const drivers = Array.from({ length: n }, (_, k) =>
      [
        `  driver D${k} for blk${k} {`,
        `    map m${k} common-buffer size 4K from allocate-buffer pending`,
        `    on exit-boot-services tpl ${k % 2 ? 'notify' : 'callback'} signal e${k}`,
        `    on event e${k} tpl callback { unmap m${k}; signal e${(k + 1) % n} }`,
        '  }',
      ].join('\n'),
    );
    const devs = Array.from(
      { length: n },
      (_, k) => `  device blk${k} { bdf 0000:41:${k.toString(16).padStart(2, '0')}.0; iommu amdvi0; group ${10 + k} }`,
    );
    const a = analyze({
      'host.iommu': `platform h {\n  arch x86_64\n  iommu amdvi0 amd-vi { address-width 48 }\n${devs.join('\n')}\n}`,
      'guest.iommu': `guest vm on h {\n  machine q35 memory 4G\n${devs.map((_, k) => `  assign blk${k}`).join('\n')}\n}`,
      'fw.iommu': `firmware ring for vm {\n${drivers.join('\n')}\n}`,
    });
    const run = resultOf(a.sim, FIRMWARE_ENGINE).get(a.model.firmwares.get('ring')!)!;
    // The search that crosses the bound stops one state past it; every later one at its floor.
    // (Projections here have fewer than 32 functions: a state costs one unit in 32.)
    assert.ok(run.states <= FIRMWARE_BUDGET / 32 + n * (DRIVER_FLOOR / 32 + 1), `${run.states} states`);
    assert.ok(a.all.some((f) => f.code === 'fw-orders-truncated'));
  });

  test('a choice point costs in proportion to the functions it copies: 600 handlers of one driver get 600 times fewer (fuzz regression)', () => {
    const n = 600;
    const a = analyze(
      workspace(
        `  driver Many for vnet1 {\n    map q common-buffer size 4K from allocate-buffer pending\n${'    on exit-boot-services tpl notify\n'.repeat(n)}  }`,
      ),
    );
    const run = resultOf(a.sim, FIRMWARE_ENGINE).get(a.model.firmwares.get('ovmf')!)!;
    // 600 interchangeable handlers: 2^600 subsets, so the search stops at its bound.
    assert.ok(run.states <= FIRMWARE_BUDGET / n + 1, `${run.states} states`);
    assert.ok(a.all.some((f) => f.code === 'fw-orders-truncated'));
  });

  test('a driver after one that spent the budget is still searched: its errors stay errors', () => {
    const many = `  driver Many for vnet1 {\n    map q common-buffer size 4K from allocate-buffer pending\n${'    on exit-boot-services tpl notify\n'.repeat(600)}  }`;
    const net = `  driver VirtioNetDxe for vnet1 {\n    map rx-ring common-buffer size 12K from allocate-buffer pending\n    on exit-boot-services tpl callback { unmap rx-ring }\n  }\n${MERGED}`;
    const alone = check(workspace(net)).codes;
    const after = check(workspace(`${many}\n${net}`)).codes;
    assert.ok(alone.includes('error fw-dma-after-handler@on exit-boot-services tpl callback'), alone.join(', '));
    for (const c of alone) assert.ok(after.includes(c), `${c} after the pathological driver: ${after.join(', ')}`);
  });
});

describe('cost linear in the drivers, findings of bounded size (issue 22)', () => {
  const codes = (found: Finding[]) => found.map((f) => `${f.severity} ${f.code}`);
  const count = (found: Finding[], code: string) => found.filter((f) => f.code === code).length;
  /** The longest trace, message and related list among the firmware's findings. */
  const longest = (found: Finding[]) => ({
    trace: Math.max(0, ...found.map((f) => f.trace?.length ?? 0)),
    message: Math.max(0, ...found.map((f) => f.message.length)),
    related: Math.max(0, ...found.map((f) => f.related.length)),
  });
  // The issue's shape: rings mapped CommonBuffer and BusMasterRead, a handler that stops and unmaps both.
  const issue = (i: number) =>
    [
      `    map c${i} common-buffer size 4K from allocate-buffer pending`,
      `    map r${i} bus-master-read size 4K from allocate-pool pending`,
      `    on exit-boot-services tpl callback { stop-dma; unmap c${i}; unmap r${i} }`,
    ].join('\n');
  const unmapAll = '    on exit-boot-services tpl callback unmap-all';
  const RING = '    map q common-buffer size 4K from allocate-buffer pending';
  const STOP = '    on exit-boot-services tpl callback stop-dma';

  test("the issue's shape: a trace is the driver's projection and one line for the others, not every function of the firmware", () => {
    const { found, run } = drivers(40, issue, unmapAll);
    assert.equal(count(found, 'fw-teardown-before-stop'), 40);
    assert.equal(count(found, 'fw-double-unmap'), 80);
    const traced = found.filter((f) => f.trace);
    assert.ok(traced.length >= 120);
    for (const f of traced) {
      // The IOMMU's unmap-all and the driver's handler, then the other 39 drivers' handlers in one line.
      assert.equal(f.trace!.length, 3, f.trace!.map((t) => t.message).join('\n'));
      assert.match(
        f.trace!.at(-1)!.message,
        /^and 39 other notify functions of firmware blk-fw, in between: none changes what happens to blk\d+ or VirtioBlkDxe\d+'s mappings$/,
      );
    }
    // Projecting costs each driver its own functions, not the firmware's: twice the drivers, twice the work.
    const twice = drivers(80, issue, unmapAll).run;
    assert.ok(run.visited > 0 && twice.visited <= 2.2 * run.visited, `${run.visited} then ${twice.visited} slots looked at`);
  });

  test('drivers that all signal the event of the IOMMU teardown: one signaller stands for the rest, exact verdicts, one search', () => {
    // The TPL_NOTIFY teardown runs as soon as the first driver signals, before its own stop-dma: in every order.
    const body = () => `${RING}\n    on exit-boot-services tpl callback { signal quiesce; stop-dma }`;
    const iommu = '    on event quiesce tpl notify unmap-all';
    const ten = drivers(10, body, iommu);
    const forty = drivers(40, body, iommu);
    assert.deepEqual(codes(forty.found), Array(40).fill('error fw-teardown-before-stop'));
    assert.equal(forty.run.states, ten.run.states);
  });

  test('drivers that signal the shared event and one of their own: their own events are nothing to the others', () => {
    // Each driver queues `quiesce` (the teardown) before its own event (its stop): every order faults.
    const body = (i: number) =>
      [
        RING,
        `    on exit-boot-services tpl callback { signal quiesce; signal own${i} }`,
        `    on event own${i} tpl callback stop-dma`,
      ].join('\n');
    const iommu = '    on event quiesce tpl callback unmap-all';
    const ten = drivers(10, body, iommu);
    const forty = drivers(40, body, iommu);
    // The stop comes later but still inside ExitBootServices: a warning (Driver Writer's Guide 25.2.1 "must").
    assert.deepEqual(new Set(codes(forty.found)), new Set(['error fw-teardown-before-stop', 'warning fw-dma-after-handler']));
    assert.equal(forty.found.length, 80);
    assert.equal(forty.run.states, ten.run.states);
  });

  test("an IOMMU handler unmapping every driver's mapping by name: each driver sees one of its actions, one search for all", () => {
    const body = (i: number) => `${RING.replace(' q ', ` c${i} `)}\n${STOP}`;
    const unmaps = (n: number) => Array.from({ length: n }, (_, i) => `      unmap c${i}`).join('\n');
    const iommu = (n: number) => `    on exit-boot-services tpl callback {\n${unmaps(n)}\n    }`;
    const ten = drivers(10, body, iommu(10));
    const forty = drivers(40, body, iommu(40));
    assert.deepEqual(codes(forty.found), Array(40).fill('warning fw-teardown-before-stop'));
    const acting = "the IOMMU protocol's TPL_CALLBACK ExitBootServices handler";
    assert.ok(forty.found.every((f, i) => f.message.startsWith(`${acting} unmaps c${i} while blk${i}`)));
    assert.equal(forty.run.states, ten.run.states);
  });

  test('hundreds of IOMMU unmap-alls: past the budget a driver is checked in one order, and what it reports stays short', () => {
    // 300 unmap-alls are in every driver's projection. The first driver's search spends the
    // budget; the others are each checked in the source order, in which the IOMMU runs first.
    const iommu = Array(300).fill(unmapAll).join('\n');
    const { found, run } = drivers(10, () => `${RING}\n${STOP}`, iommu, true);
    const most = longest(found);
    assert.ok(most.trace <= TRACE_LIMIT + 2 && most.message < 1_000, JSON.stringify(most));
    assert.equal(run.oneOrder, 9);
    assert.equal(count(found, 'fw-orders-truncated'), 1);
    // Each driver still faults, at the unmap-all that runs first in that order.
    const faults = found.filter((f) => f.code === 'fw-teardown-before-stop');
    assert.equal(faults.length, 10);
    assert.ok(faults.every((f) => f.span.start === faults[0]!.span.start));
  });

  test('a handler of hundreds of unmaps and stops: each fault lists a few of the stops', () => {
    const n = 200;
    const body = () =>
      [
        ...Array.from({ length: n }, (_, k) => `    map m${k} common-buffer size 4K from allocate-buffer pending`),
        `    on exit-boot-services tpl callback { ${Array.from({ length: n }, (_, k) => `unmap m${k}`).join('; ')}; ${Array(n)
          .fill('stop-dma')
          .join('; ')} }`,
      ].join('\n');
    const { found } = drivers(1, body, '');
    assert.equal(count(found, 'fw-teardown-before-stop'), n);
    assert.equal(longest(found).related, 4);
    const fault = found.find((f) => f.code === 'fw-teardown-before-stop')!;
    assert.equal(fault.related[2]!.message, `blk0 stops DMA here (and at ${n - 3} more places)`);
  });

  test('hundreds of handlers unmapping one mapping: each trace shows where its double unmap happens, in a bounded window', () => {
    const n = 100;
    const body = () => `${RING}\n${'    on exit-boot-services tpl callback unmap q\n'.repeat(n)}${STOP}`;
    const { found } = drivers(1, body, '');
    const doubles = found.filter((f) => f.code === 'fw-double-unmap');
    assert.equal(doubles.length, n - 1);
    for (const f of doubles) {
      assert.ok(f.trace!.length <= TRACE_LIMIT + 2, `${f.trace!.length} trace lines`);
      // The handler the finding is on is listed.
      const handler = f.span.start - 'on exit-boot-services tpl callback '.length;
      assert.ok(
        f.trace!.some((t) => t.span.start === handler && /^\d+\. /.test(t.message)),
        f.trace!.map((t) => t.message).join('\n'),
      );
    }
    assert.ok(doubles.some((f) => f.trace!.some((t) => /^\.\.\. \d+ more$/.test(t.message))));
  });

  test('a driver with thousands of mappings: a search state costs its mappings too', () => {
    const maps = 2000;
    const body = () =>
      [
        ...Array.from({ length: maps }, (_, k) => `    map m${k} common-buffer size 4K from allocate-buffer pending`),
        ...Array.from({ length: 10 }, (_, k) => `    on exit-boot-services tpl callback unmap m${k}`),
        '    on exit-boot-services tpl callback stop-dma',
      ].join('\n');
    const { found, run } = drivers(1, body, '');
    assert.ok(run.states <= FIRMWARE_BUDGET / (maps + 11) + 1, `${run.states} states`);
    assert.equal(count(found, 'fw-orders-truncated'), 1);
    assert.equal(count(found, 'fw-teardown-before-stop'), 10);
  });
});

describe("IoMmuDxe's reserved shared pool (RULES 7.1; edk2 c4e76d2fba, IoMmuBuffer.c)", () => {
  // mReservedMemRanges: 4 x 4 KiB, 8 x 32 KiB, 2 x 128 KiB, 1 x 1 MiB, 2 x 2 MiB. InternalAllocateBuffer takes the
  // smallest size the pages fit in and falls back to AllocatePages when those are all taken (never a larger size);
  // IoMmuUnmapWorker zeroes the bounce buffer, and IoMmuFreeBounceBuffer only clears the slot's bit.
  const driver = (maps: string[], unmap: string) =>
    `  driver VirtioNetDxe for vnet1 {\n${maps.map((m) => `    ${m}`).join('\n')}\n    on exit-boot-services tpl callback { stop-dma; unmap ${unmap} }\n  }\n${MERGED}`;
  const message = (files: Record<string, string>) => {
    const f = check(files).fw.filter((x) => x.code === 'fw-free-in-handler');
    assert.equal(f.length, 1);
    return f[0]!.message;
  };

  test('a 1536-byte TX packet takes a 4 KiB slot: its Unmap() returns the slot, re-encrypting and freeing nothing but MAP_INFO', () => {
    const m = message(workspace(driver(['map tx-buf bus-master-read size 1536 pending'], 'tx-buf')));
    assert.match(
      m,
      /calls FreePool\(\) on its MAP_INFO and zeroes its bounce buffer and returns the pool slot, with no re-encryption and no FreePages\(\)/,
    );
    assert.match(m, /1 page: 4K slot 1 of 4 of IoMmuDxe's reserved shared pool/);
  });

  test('before edk2-stable202302 there is no pool: the bounce buffer is re-encrypted and freed', () => {
    const m = message(workspace(`  edk2 edk2-stable202211\n${driver(['map tx-buf bus-master-read size 1536 pending'], 'tx-buf')}`));
    assert.match(m, /and zeroes, re-encrypts and frees its bounce buffer with FreePages\(\) \(IoMmuUnmap/);
  });

  test('the fifth 4 KiB buffer finds its size full and comes from AllocatePages(); a 3 MiB one is too big for any slot', () => {
    const four = [1, 2, 3, 4].map((i) => `map pkt${i} bus-master-read size 4K pending`);
    const fifth = message(workspace(driver([...four, 'map pkt5 bus-master-write size 2K pending'], 'pkt5')));
    assert.match(fifth, /zeroes, re-encrypts and frees its bounce buffer with FreePages\(\) \(1 page fits a 4K slot, but all 4 are held/);
    // Completed mappings gave their slots back before ExitBootServices.
    const done = [1, 2, 3, 4].map((i) => `map pkt${i} bus-master-read size 4K completed`);
    assert.match(message(workspace(driver([...done, 'map pkt5 bus-master-write size 2K pending'], 'pkt5'))), /4K slot 1 of 4/);
    const big = message(workspace(driver(['map dump bus-master-write size 3M pending'], 'dump')));
    assert.match(big, /768 pages is more than the pool's largest slot \(2 MiB\), so it comes from AllocatePages\(\)/);
  });

  test("AllocateBuffer() memory takes a slot one page larger (IoMmuDxe's header); the hover says which", () => {
    const files = workspace(
      driver(['map tx-ring common-buffer size 12K from allocate-buffer pending', 'map tx-buf bus-master-read size 28K pending'], 'tx-buf'),
    );
    // 12K is 3 pages + the header = 4 pages: a 32 KiB slot; the 28 KiB packet (7 pages) takes the second.
    assert.match(message(files), /7 pages: 32K slot 2 of 8/);
    const { a, text } = check(files);
    const h = hover(a, uri('fw.iommu'), text.indexOf('tx-ring') + 1)!.markdown;
    assert.match(h, /Shared memory at ExitBootServices: 4 pages \(one for IoMmuDxe's header\): 32K slot 1 of 8/);
    // Outside a confidential guest IoMmuDxe is not there: no pool.
    const plain = check(
      workspace(driver(['map tx-ring common-buffer size 12K from allocate-buffer pending'], 'tx-ring').replace(/vnet1/g, 'nvme0'), 'plain'),
    );
    assert.doesNotMatch(hover(plain.a, uri('fw.iommu'), plain.text.indexOf('tx-ring') + 1)!.markdown, /Shared memory/);
  });
});

describe('a TDISP device under the firmware (issue 25 item 7; RULES §5.3)', () => {
  test('the driver hover explains that its stop at ExitBootServices meets an unlocked TDI, and nothing is reported', () => {
    const seed = join(import.meta.dirname, '..', '..', '..', 'examples', 'seed-001-tdisp-sev-tio');
    const files = {
      'host.iommu': readFileSync(join(seed, 'hosts', 'turin-tio01.iommu'), 'utf8'),
      'guest.iommu': 'guest tvm on turin-tio01 {\n  machine q35 memory 8G cpu amd\n  confidential sev-snp\n  assign nvme0 as private\n}\n',
      'fw.iommu':
        'firmware ovmf for tvm {\n  driver nvme for nvme0 {\n    map queue common-buffer from allocate-buffer\n' +
        '    on exit-boot-services tpl callback stop-dma\n  }\n' +
        '  iommu-protocol {\n    on exit-boot-services tpl callback signal unmap-late\n    on event unmap-late tpl callback unmap-all deferred\n  }\n}\n',
    };
    const a = analyze(files);
    const text = files['fw.iommu'];
    assert.deepEqual(
      a.all.filter((f) => f.uri === uri('fw.iommu')).map((f) => f.code),
      [],
    );
    const h = hover(a, uri('fw.iommu'), text.indexOf('nvme for') + 1)!.markdown;
    assert.match(h, /Device nvme0 has a TDISP interface \(assigned private\)/);
    assert.match(h, /CONFIG_UNLOCKED/);
    assert.match(h, /ERROR \(RULES §5\.3\)/);
    const plain = analyze({ ...files, 'host.iommu': files['host.iommu'].replace('group 60; tdisp }', 'group 60 }') });
    assert.doesNotMatch(hover(plain, uri('fw.iommu'), text.indexOf('nvme for') + 1)!.markdown, /CONFIG_UNLOCKED/);
  });
});
