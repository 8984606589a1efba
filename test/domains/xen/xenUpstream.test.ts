/**
 * Xen as merged upstream (issue 26, RULES §8): each test is a description an engineer
 * would write for the seed-003 HP DL388p Gen8 hosts, and cites the Xen source it follows
 * (xen-project/xen, files and functions as of 4.22; commits where the behaviour changed).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { hover } from '../../../server/src/ide/hover';
import { formatInterval } from '../../../server/src/model';
import { analyze, slice, uri } from '../../helpers';
import { resultOf } from '../../../server/src/sim';
import { XEN_ENGINE } from '../../../server/src/domains/xen/engine';

const SEED = join(import.meta.dirname, '..', '..', '..', 'examples', 'seed-003-xen-identity-maps');
const HOST = readFileSync(join(SEED, 'hosts', 'dl388-r3u12.iommu'), 'utf8');

function check(xen: string, host = HOST, timeline = '') {
  const files: Record<string, string> = { 'host.iommu': host, 'xen.iommu': xen, ...(timeline ? { 't.iommu': timeline } : {}) };
  const a = analyze(files);
  const text = (f: { uri: string }) => files[f.uri.replace('file:///ws/', '')]!;
  return { a, codes: a.all.map((f) => `${f.severity} ${f.code}@${slice(text(f), f.span)}`) };
}

const mapOf = (a: ReturnType<typeof analyze>, domain: string) =>
  [...resultOf(a.sim, XEN_ENGINE).runs.values()][0]!.maps.get(a.model.xens.get('xh')!.domains.get(domain)!)!;

describe('dom0 options (xen/drivers/passthrough/iommu.c)', () => {
  // check_hwdom_reqs() sets iommu_hwdom_strict = true before arch_iommu_check_autotranslated_hwdom()
  // can panic (eb8ce7d5ca added that panic already unreachable, 4.13); strict was forced silently
  // in 4.10-4.12 too. docs/misc/xen-command-line.pandoc: strict "is hardwired to true for x86 PVH dom0's".
  test('a relaxed PVH dom0 boots strict: a warning that the option is ignored, no panic', () => {
    const { a, codes } = check('// Xen 4.17, boot entry "dom0=pvh"\nxen xh on dl388-r3u12 {\n  dom0 { mode pvh; iommu relaxed }\n}\n');
    assert.deepEqual(codes, ['warning xen-pvh-dom0-not-strict@iommu relaxed']);
    const msg = a.all[0]!.message;
    assert.match(msg, /hardwired to true for x86 PVH dom0's/);
    assert.match(msg, /check_hwdom_reqs/);
    assert.match(msg, /Dom0 mode: Relaxed/);
    assert.doesNotMatch(msg, /panics/);
    assert.equal(mapOf(a, 'dom0').term, 'identity GFN map');
  });

  // Same function: iommu_hwdom_passthrough = false for PVH since 391266f012 (4.12.0);
  // the doc: passthrough "is hardwired to false for x86 PVH dom0's".
  test('passthrough on a PVH dom0 is ignored as well (newest behaviour)', () => {
    const { a, codes } = check('xen xh on dl388-r3u12 {\n  dom0 { mode pvh; iommu passthrough }\n}\n');
    assert.deepEqual(codes, ['warning xen-pvh-dom0-not-strict@iommu passthrough']);
    assert.match(a.all[0]!.message, /hardwired to false for x86 PVH dom0's/);
  });

  // iommu_setup(): `if ( iommu_hwdom_strict ) iommu_hwdom_passthrough = false;`, whatever the order.
  test('strict beats passthrough on a PV dom0: an identity MFN map Xen maintains', () => {
    for (const opts of ['iommu passthrough strict', 'iommu strict passthrough']) {
      const { a } = check(`xen xh on dl388-r3u12 {\n  dom0 { mode pv; ${opts} }\n}\n`);
      const m = mapOf(a, 'dom0');
      assert.equal(m.term, 'identity MFN map', opts);
      assert.equal(m.maintained, true, opts);
      assert.equal(m.passthrough, false, opts);
    }
  });
});

describe('PV-IOMMU, virtual VT-d and host-identity are proposals (RULES §8.4)', () => {
  // xen/include/public/xen.h has no __HYPERVISOR_iommu_op (it ends at 41 dm_op, 42 hypfs_op); of
  // the 2018 series only "iommu: introduce the concept of DFN" (072268c1c1, 4.12) was merged.
  test('PV-IOMMU on an HVM domain with a GPU: information about the proposal, not an error', () => {
    const { a, codes } = check('xen xh on dl388-r3u12 {\n  domain win-gpu { mode hvm; pass gpu0; iommu-map pv-iommu }\n}\n');
    assert.deepEqual(codes, ['information xen-pv-iommu-on-maintained-map@iommu-map pv-iommu']);
    assert.match(a.all[0]!.message, /never merged/);
    assert.match(a.all[0]!.message, /__HYPERVISOR_iommu_op/);
  });

  // iommu_domain_init(): need_sync = !iommu_use_hap_pt(d) for every domU; quarantine acts only in
  // deassign_device() (pci.c), so it changes nothing for a device still assigned.
  test('a PV driver domain driving its map: one information finding, which does not offer quarantine as a remedy', () => {
    const xen = 'xen xh on dl388-r3u12 {\n  quarantine scratch-page\n  domain dd-nic1 { mode pv; pass nic1; iommu-map pv-iommu }\n}\n';
    const { a, codes } = check(xen);
    assert.deepEqual(codes, ['information xen-stray-dma-faults@iommu-map pv-iommu']);
    assert.match(a.all[0]!.message, /proposal/);
    assert.doesNotMatch(a.all[0]!.message, /scratch page instead/);
    assert.deepEqual(a.all[0]!.fixes, []);
  });

  test('iommu-map host-identity on a domU is not an upstream mode (information)', () => {
    const { a, codes } = check('xen xh on dl388-r3u12 {\n  domain g { mode hvm; pass gpu0; iommu-map host-identity }\n}\n');
    assert.deepEqual(codes, ['information xen-not-upstream@iommu-map host-identity']);
    assert.match(a.all[0]!.message, /need_sync/);
  });
});

describe('quarantine is global and acts on de-assignment (RULES §8.5)', () => {
  // parse_iommu_param(): `iommu=quarantine=<bool>|scratch-page` is one option for the whole host.
  test('written in the xen block: no finding, and the domain hover says what de-assignment does', () => {
    const xen = 'xen xh on dl388-r3u12 {\n  quarantine scratch-page\n  domain hvm-web { mode hvm; pass nic1 }\n}\n';
    const { a, codes } = check(xen);
    assert.deepEqual(codes, []);
    assert.equal(a.model.xens.get('xh')!.quarantine?.mode, 'scratch-page');
    const md = hover(a, uri('xen.iommu'), xen.indexOf('hvm-web') + 1)?.markdown ?? '';
    assert.match(md, /When a device leaves hvm-web.*dom_io.*scratch page/s);
  });

  test('written in a domain: a warning that it is a global option', () => {
    const { a, codes } = check('xen xh on dl388-r3u12 {\n  domain web { mode hvm; pass nic1; quarantine basic }\n}\n');
    assert.deepEqual(codes, ['warning xen-invalid-setting@quarantine basic']);
    assert.match(a.all[0]!.message, /global/);
  });
});

describe('ballooning a non-strict dom0 (RULES §8.6)', () => {
  // iommu_domain_init(): "'relaxed' h/w domains don't need the IOMMU mappings to be kept in-sync
  // ... because all host RAM will be mapped"; the doc: strict "controls whether dom0 can have
  // IOMMU mappings for all domain RAM in the system".
  test('relaxed and passthrough dom0: information (by design), not an error', () => {
    const step = 'timeline autoballoon {\n  balloon xh.dom0 0x2_0000_0000 size 4G\n}\n';
    for (const opts of ['iommu relaxed', 'iommu passthrough']) {
      const { a, codes } = check(`xen xh on dl388-r3u12 {\n  dom0 { mode pv; ${opts} }\n}\n`, HOST, step);
      assert.deepEqual(codes, ['information xen-stale-iommu-mapping@balloon xh.dom0 0x2_0000_0000 size 4G'], opts);
      assert.match(a.all[0]!.message, /by design/, opts);
    }
  });
});

describe('shared RMRRs: VT-d only, unless rdm_policy=relaxed (RULES §8.7)', () => {
  // intel_iommu_assign_device() (xen/drivers/passthrough/vtd/iommu.c, since 6457dae996, 4.6):
  // -EPERM "It's disallowed to assign %pp with shared RMRR at %"PRIx64" for %pd.", or with
  // XEN_DOMCTL_DEV_RDM_RELAXED "It's risky to assign ..." and go on. libxl clears the flag for
  // rdm_policy=strict (libxl_pci.c); xl takes the per-device value over the global rdm= one.
  const mgmt = (pass: string, extra = '') =>
    `xen xh on dl388-r3u12 {\n  domain mgmt {\n    mode hvm\n    ${extra}\n    ${pass}\n    ram lowmem 0x0..0x7fffffff\n  }\n}\n`;
  test("the iLO, which shares the HP RMRR with the LPC bridge: -EPERM, in Xen's own words with the BDF", () => {
    const { a, codes } = check(mgmt('pass ilo0'));
    assert.deepEqual(codes, ['error xen-shared-rmrr@ilo0']);
    assert.match(a.all[0]!.message, /It's disallowed to assign 0000:01:00\.2 with shared RMRR at bdf6e000 for d/);
  });

  test('rdm-policy relaxed on the device, or rdm policy relaxed on the domain: a warning ("It\'s risky ...")', () => {
    for (const [pass, extra] of [
      ['pass ilo0 rdm-policy relaxed', ''],
      ['pass ilo0', 'rdm policy relaxed'],
    ] as const) {
      const { a, codes } = check(mgmt(pass, extra));
      assert.deepEqual(codes, ['warning xen-shared-rmrr@ilo0'], pass);
      assert.match(a.all[0]!.message, /It's risky to assign 0000:01:00\.2 with shared RMRR at bdf6e000/);
    }
    // The device's own policy wins over the domain's (xl_parse.c).
    assert.deepEqual(check(mgmt('pass ilo0 rdm-policy strict', 'rdm policy relaxed')).codes, ['error xen-shared-rmrr@ilo0']);
  });

  // amd_iommu_assign_device() takes the unity maps (amd_iommu_reserve_domain_unity_map) with no sharing check.
  test('an AMD-Vi host with the same IVMD shared by two devices: no refusal', () => {
    const amd = HOST.replace(/iommu dmar(\d) vt-d/g, 'iommu dmar$1 amd-vi');
    assert.deepEqual(check(mgmt('pass ilo0'), amd).codes, []);
  });
});

describe("an RMRR inside an HVM guest's RAM (RULES §8.8)", () => {
  // libxl__domain_device_construct_rdm() (tools/libs/light/libxl_dm.c): the RDMs of pci= devices
  // against the guest's RAM; below rdm_mem_boundary (2048 MiB) or in highmem: "RDM conflict at
  // 0x%lx." (strict) or "Ignoring RDM conflict" (relaxed). Then p2m_add_identity_entry()
  // (xen/arch/x86/mm/p2m.c): "Cannot setup identity map d%d:%lx, gfn already mapped to %lx.",
  // -EBUSY, or 0 with XEN_DOMCTL_DEV_RDM_RELAXED (no identity map).
  const host = HOST.replace('  device lpc0', '  reserved nic0-rmrr direct 0x7f000000..0x7f0fffff for nic0\n  device lpc0');
  const dom = (mode: string, pass: string) =>
    `xen xh on dl388-r3u12 {\n  domain g {\n    mode ${mode}\n    ${pass}\n    ram lowmem 0x0..0xbfffffff\n  }\n}\n`;
  test('strict: the domain is not created (error), relaxed: a warning, PV: nothing', () => {
    const strict = check(dom('hvm', 'pass nic0'), host);
    assert.deepEqual(strict.codes, ['error xen-rmrr-in-guest-ram@nic0']);
    assert.match(strict.a.all[0]!.message, /RDM conflict at 0x7f000000/);
    assert.match(strict.a.all[0]!.message, /Cannot setup identity map/);
    const relaxed = check(dom('hvm', 'pass nic0 rdm-policy relaxed'), host);
    assert.deepEqual(relaxed.codes, ['warning xen-rmrr-in-guest-ram@nic0']);
    assert.match(relaxed.a.all[0]!.message, /may cause the VM to crash/);
    assert.deepEqual(check(dom('pv', 'pass nic0'), host).codes, []);
  });

  test('between rdm_mem_boundary (2 GiB) and 4 GiB libxl moves lowmem below the RMRR: no conflict', () => {
    const high = HOST.replace('  device lpc0', '  reserved nic0-rmrr direct 0xbd000000..0xbd0fffff for nic0\n  device lpc0');
    assert.deepEqual(check(dom('hvm', 'pass nic0'), high).codes, []);
  });

  // Xen reads only ACPI RMRRs and IVMDs (and rmrr=/ivmd=); the ISA-bridge 16 MiB region is Linux's
  // (intel_iommu_get_resv_regions, CONFIG_INTEL_IOMMU_FLOPPY_WA); xen/arch/arm has no IORT RMR code.
  test("a Linux-only region is not Xen's: the LPC bridge passed to an HVM guest with RAM at 0", () => {
    const quirk = HOST;
    assert.match(quirk, /isa-dma +direct +0x0\.\.0xffffff for lpc0 from linux-quirk/);
    const xen =
      'xen xh on dl388-r3u12 {\n  domain g {\n    mode hvm\n    pass lpc0 rdm-policy relaxed\n    ram lowmem 0x0..0x3fffffff\n  }\n}\n';
    const { a, codes } = check(xen, quirk);
    // Only the HP RMRR, which lpc0 shares with ilo0, is Xen's business (relaxed: a warning).
    assert.deepEqual(codes, ['warning xen-shared-rmrr@lpc0']);
    // The HP RMRR is mapped (relaxed goes on); the 16 MiB below it is not Xen's.
    assert.deepEqual(
      mapOf(a, 'g')
        .identity.entries()
        .map((e) => formatInterval(e.range)),
      ['0xbdf6e000..0xbdf84fff'],
    );
    // Without `from linux-quirk` the same region is an RMRR in the guest's RAM.
    assert.ok(check(xen, HOST.replace(' from linux-quirk', '')).codes.includes('warning xen-rmrr-in-guest-ram@lpc0'));
  });
});

describe('Xen releases (`xen 4.17` in the xen block, RULES §0.2)', () => {
  // 4.10/4.11 check_hwdom_reqs(): panic("Dom0 uses paging translated mode, dom0-passthrough must
  // not be enabled\n"); 391266f012 (4.12.0) replaced it with iommu_hwdom_passthrough = false.
  test('passthrough on a PVH dom0 panics on 4.11 and older; 4.12 ignores it', () => {
    const xen = (rel: string) => `xen xh on dl388-r3u12 {\n  xen ${rel}\n  dom0 { mode pvh; iommu passthrough }\n}\n`;
    const old = check(xen('4.11'));
    assert.deepEqual(old.codes, ['error xen-pvh-dom0-passthrough-panic@iommu passthrough']);
    assert.match(old.a.all[0]!.message, /Dom0 uses paging translated mode, dom0-passthrough must not be enabled/);
    assert.match(old.a.all[0]!.message, /Xen 4\.11/);
    assert.deepEqual(check(xen('4.12')).codes, ['warning xen-pvh-dom0-not-strict@iommu passthrough']);
  });

  // c0e19d7c6c (XSA-378): iommu_identity_mapping() refuses overlaps with -EADDRINUSE, in 4.16.0
  // and backported to 4.15.1, 4.14.3, 4.13.4; older VT-d rmrr_identity_mapping() matched exact ranges only.
  test('overlapping RMRRs in one domain: -EADDRINUSE since XSA-378, silent before', () => {
    const host = HOST.replace(
      '  device gpu0',
      '  reserved gpu-rmrr direct 0xbdf80000..0xbdf8ffff for gpu0\n  reserved nic-rmrr direct 0xbdf6e000..0xbdf84fff for nic0\n  device gpu0',
    );
    const xen = (rel: string) =>
      `xen xh on dl388-r3u12 {\n  ${rel}\n  dom0 { mode pv; map-reserved off }\n  domain m { mode hvm; pass nic0, gpu0 }\n}\n`;
    const codes = (rel: string) => check(xen(rel), host).codes.filter((c) => c.includes('identity-map-conflict'));
    const both = ['warning xen-identity-map-conflict@gpu-rmrr', 'error xen-identity-map-conflict@gpu0'];
    assert.deepEqual(codes(''), both);
    assert.deepEqual(codes('xen 4.15.1'), both);
    assert.deepEqual(codes('xen 4.15'), []);
    assert.deepEqual(codes('xen 4.14.2'), []);
    assert.match(check(xen('xen 4.16'), host).a.all.find((f) => f.severity === 'error')!.message, /XSA-378/);
  });

  // ba2ab00bbb (XSA-302, 4.13.0) introduced quarantining; 980d6acf15 (4.16.0) made basic the default.
  test('quarantine before 4.13 does not exist; 4.13 to 4.15 always use the scratch page', () => {
    const xen = (rel: string, q = '') => `xen xh on dl388-r3u12 {\n  xen ${rel}\n  ${q}\n  domain web { mode hvm; pass nic1 }\n}\n`;
    const old = check(xen('4.12', 'quarantine basic'));
    assert.deepEqual(old.codes, ['warning xen-invalid-setting@quarantine basic']);
    assert.match(old.a.all[0]!.message, /4\.13/);
    const web = (text: string) => hover(check(text).a, uri('xen.iommu'), text.indexOf('web') + 1)?.markdown ?? '';
    assert.match(web(xen('4.12')), /goes straight back to dom0/);
    assert.match(web(xen('4.14')), /scratch page/);
    assert.match(web(xen('4.17')), /in-flight DMA faults/);
  });

  test('hovering the xen line lists the Xen release boundaries', () => {
    const text = 'xen xh on dl388-r3u12 {\n  xen 4.15.1\n}\n';
    const md = hover(check(text).a, uri('xen.iommu'), text.indexOf('4.15') + 1)?.markdown ?? '';
    assert.match(md, /\*\*Xen 4\.15\.1\*\* on Xen host xh/);
    assert.match(md, /Xen 4\.16 \(applies here\): an identity/);
    assert.match(md, /Xen 4\.16 \(not on this release\): `iommu=quarantine` defaults to basic/);
  });
});

describe("dom0's RMRR conflicts at boot (setup_hwdom_rmrr, then arch_iommu_hwdom_init)", () => {
  // vtd/iommu.c setup_hwdom_rmrr(): dprintk(XENLOG_ERR VTDPREFIX, "IOMMU: mapping reserved region
  // failed\n") (a debug-build line); arch_iommu_hwdom_init() then maps every E820-reserved range
  // when map-reserved is on, RMRRs included. AMD: "AMD-Vi: Warning: d0: unity mapping failed for %pp".
  const host = HOST.replace(
    '  device gpu0',
    '  reserved gpu-rmrr direct 0xbdf80000..0xbdf8ffff for gpu0\n  reserved nic-rmrr direct 0xbdf6e000..0xbdf84fff for nic0\n  device gpu0',
  );
  const dom0 = (opts: string) => `xen xh on dl388-r3u12 {\n  dom0 { mode pv; iommu strict; ${opts} }\n}\n`;
  test('with map-reserved the range stays mapped: information; without it: a warning', () => {
    const on = check(dom0('map-reserved on'), host);
    assert.deepEqual(on.codes, ['information xen-identity-map-conflict@gpu-rmrr']);
    assert.match(on.a.all[0]!.message, /IOMMU: mapping reserved region failed/);
    assert.match(on.a.all[0]!.message, /map-reserved/);
    assert.doesNotMatch(on.a.all[0]!.message, /RMRR mapping failed/);
    assert.deepEqual(check(dom0('map-reserved off'), host).codes, ['warning xen-identity-map-conflict@gpu-rmrr']);
  });
  test('on AMD-Vi the line is a real printk naming the device', () => {
    const amd = host.replace(/iommu dmar(\d) vt-d/g, 'iommu dmar$1 amd-vi');
    const { a } = check(dom0('map-reserved off'), amd);
    assert.match(a.all[0]!.message, /AMD-Vi: Warning: d0: unity mapping failed for 0000:04:00\.0/);
  });
});

describe('rdm strategy host (xl.cfg(5) rdm=, libxl__domain_device_construct_rdm)', () => {
  // With strategy=host libxl takes every host RDM into the guest's memory map, not only those
  // of the pci= devices ("useful when doing hotplug"): one over the guest's RAM is a conflict.
  const host = HOST.replace('  device lpc0', '  reserved nic0-rmrr direct 0x7f000000..0x7f0fffff for nic0\n  device lpc0');
  const dom = (rdm: string) =>
    `xen xh on dl388-r3u12 {\n  domain g {\n    mode hvm\n    ${rdm}\n    pass gpu0\n    ram lowmem 0x0..0xbfffffff\n  }\n}\n`;
  test("every host RMRR against the guest's RAM, on the rdm line", () => {
    assert.deepEqual(check(dom('rdm strategy host'), host).codes, ['error xen-rmrr-in-guest-ram@rdm strategy host']);
    assert.deepEqual(check(dom('rdm strategy host policy relaxed'), host).codes, [
      'warning xen-rmrr-in-guest-ram@rdm strategy host policy relaxed',
    ]);
    assert.deepEqual(check(dom('rdm policy strict'), host).codes, []);
  });
});
