/**
 * Tegra241 CMDQV and the iommufd vIOMMU as merged upstream (issue 26, RULES §9), on the
 * seed-004 Grace host. Each test cites the Linux source it follows:
 * drivers/iommu/arm/arm-smmu-v3/tegra241-cmdqv.c and drivers/iommu/iommufd/viommu.c.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyze, slice } from '../../helpers';

const SEED = join(import.meta.dirname, '..', '..', '..', 'examples', 'seed-004-smmu-cmdqv');
const HOST = readFileSync(join(SEED, 'hosts', 'grace-h1.iommu'), 'utf8');
const GUEST = readFileSync(join(SEED, 'guests', 'gvm-a.iommu'), 'utf8');
const VI_A = readFileSync(join(SEED, 'vintf', 'vi-a.iommu'), 'utf8');

function check(files: Record<string, string>) {
  const all: Record<string, string> = { 'host.iommu': HOST, 'guest.iommu': GUEST, 'vintf.iommu': VI_A, ...files };
  const a = analyze(all);
  const text = (f: { uri: string }) => all[f.uri.replace('file:///ws/', '')]!;
  return { a, codes: a.all.map((f) => `${f.severity} ${f.code}@${slice(text(f), f.span)}`) };
}

/** The host kernel's VINTF0 on smmu0: no guest, so the SMMU is named with its platform. */
const HOST_VINTF = 'vintf h0 on grace-h1.smmu0 {\n  owner host\n}\n';

describe('HYP_OWN decides what a queue takes (RULES §9.1-9.3)', () => {
  // tegra241_vcmdq_alloc_smmu_cmdq(): `if (!vcmdq->vintf->hyp_own) cmdq->supports_cmd =
  // tegra241_guest_vcmdq_supports_cmd;` ("!HYP_OWN cmdq HWs only support a restricted set").
  test("the host's VINTF0 (HYP_OWN=1) takes CFGI_STE and physical stream IDs, with no SID pair", () => {
    const cmds = 'commands h0 {\n  batch { CFGI_STE 0x102; ATC_INV sid 0x102 ssid 0 addr 0xfffff000; CMD_SYNC }\n}\n';
    assert.deepEqual(check({ 'h0.iommu': HOST_VINTF, 'cmds.iommu': cmds }).codes, []);
  });

  test('a VINTF with hyp-own off takes only the restricted set, whoever is said to own it', () => {
    const v = 'vintf h0 on grace-h1.smmu0 {\n  owner host\n  hyp-own off\n}\n';
    const cmds = 'commands h0 {\n  batch { CFGI_STE 0x102; CMD_SYNC }\n}\n';
    assert.deepEqual(check({ 'h0.iommu': v, 'cmds.iommu': cmds }).codes, ['error cmdqv-unsupported-command@CFGI_STE 0x102']);
  });

  test('a host VINTF names its SMMU with the platform', () => {
    const { a, codes } = check({ 'h0.iommu': 'vintf h0 on smmu0 {\n  owner host\n}\n' });
    assert.deepEqual(codes, ['error unknown-name@smmu0']);
    assert.match(a.all[0]!.message, /PLATFORM\.IOMMU/);
  });

  // tegra241_cmdqv_init_vintf_user() -> tegra241_vintf_hw_init(vintf, false): every VINTF handed to
  // user space has HYP_OWN=0; only LVCMDQ pages are mmapped, VINTF_CONFIG is not.
  test('HYP_OWN on a VINTF given to a guest: no upstream setup does that', () => {
    const { a, codes } = check({ 'vintf.iommu': VI_A.replace('hyp-own off', 'hyp-own on') });
    assert.deepEqual(codes, ['error cmdqv-hyp-own-by-guest@hyp-own on']);
    assert.match(a.all[0]!.message, /tegra241_vintf_hw_init\(vintf, false\)/);
  });
});

describe('VINTF0 and the VINTF count (RULES §9.7)', () => {
  // tegra241_cmdqv_init_structures() takes VINTF0 for the kernel; user VINTFs come from
  // ida_alloc_max(num_vintfs - 1): 1..N-1, else dev_err "no more available vintf" (-ENOSPC).
  test('with cmdqv vintfs 4, the fourth guest VINTF gets none', () => {
    const host = HOST.replace(
      'cmdqv vintfs 16 sids-per-vintf 4\n  }\n  iommu smmu1',
      'cmdqv vintfs 4 sids-per-vintf 4\n  }\n  iommu smmu1',
    );
    const guests = ['b', 'c', 'd']
      .map(
        (n) =>
          `guest g${n} on grace-h1 {\n  container iommufd\n  viommu v smmuv3 via vi-${n}\n}\nvintf vi-${n} on smmu0 for g${n} { vmid ${n.charCodeAt(0)} }\n`,
      )
      .join('');
    const { a, codes } = check({ 'host.iommu': host, 'vintfs-more.iommu': guests });
    assert.deepEqual(codes, ['error cmdqv-too-many-vintfs@vi-d']);
    assert.match(a.all[0]!.message, /no more available vintf/);
    assert.match(a.all[0]!.message, /-ENOSPC/);
  });

  // __tegra241_cmdqv_probe(): num_vintfs = 1 << CMDQV_NUM_VINTF_LOG2.
  test('VINTF and SID-pair counts are powers of two', () => {
    const host = HOST.replace(
      'cmdqv vintfs 16 sids-per-vintf 4\n  }\n  iommu smmu1',
      'cmdqv vintfs 12 sids-per-vintf 3\n  }\n  iommu smmu1',
    );
    assert.deepEqual(check({ 'host.iommu': host }).codes, ['error value-out-of-range@12', 'error value-out-of-range@3']);
  });
});

describe('iommufd vDEVICEs (viommu.c, RULES §9.8)', () => {
  const vintf = (streams: string) => `vintf vi-a on smmu0 for gvm-a {\n  vmid 3\n${streams}}\n`;
  // iommufd_vdevice_alloc_ioctl(): xa_cmpxchg on the vIOMMU's vdevs -> -EEXIST.
  test('the same virtual stream ID twice: -EEXIST; the second takes no pair', () => {
    const { a, codes } = check({ 'vintf.iommu': vintf('  stream cx7-vf0 as 0x8\n  stream cx7-vf1 as 0x8\n') });
    assert.deepEqual(codes, ['error cmdqv-duplicate-virtual-sid@stream cx7-vf1 as 0x8']);
    assert.match(a.all[0]!.message, /-EEXIST/);
  });

  // `if (idev->vdev) rc = -EEXIST`: a device has at most one vDEVICE.
  test('the same device twice: -EEXIST', () => {
    const { codes } = check({ 'vintf.iommu': vintf('  stream cx7-vf0 as 0x8\n  stream cx7-vf0 as 0x10\n') });
    assert.deepEqual(codes, ['error cmdqv-device-twice@stream cx7-vf0 as 0x10']);
  });

  // iommufd_get_device(ucmd, cmd->dev_id): the device must be bound to this VMM's iommufd.
  test('a stream whose device is not assigned to the guest', () => {
    const { codes } = check({ 'vintf.iommu': vintf('  stream cx7-vf0 as 0x8\n  stream cx7-vf2 as 0x10\n') });
    assert.deepEqual(codes, ['error cmdqv-stream-not-assigned@stream cx7-vf2 as 0x10']);
  });

  // iommufd_viommu_alloc_ioctl(): a vIOMMU exists only on /dev/iommu (a nest-parent HWPT).
  test('a VINTF behind a type1 container', () => {
    const { a, codes } = check({ 'guest.iommu': GUEST.replace('container iommufd', 'container type1') });
    assert.deepEqual(codes, ['error cmdqv-needs-iommufd@vi-a']);
    assert.match(a.all[0]!.message, /IOMMU_VIOMMU_ALLOC/);
  });

  // tegra241_vintf_init_vsid(): SID_REPLACE = master->streams[0].id; WARN_ON_ONCE(num_streams != 1).
  test('a device with two stream IDs gets a pair for its first only (warning)', () => {
    const host = HOST.replace('iommu smmu0 stream 0x102;', 'iommu smmu0 stream 0x102, 0x1102;');
    const { a, codes } = check({ 'host.iommu': host });
    assert.deepEqual(codes, ['warning cmdqv-multi-stream-device@stream cx7-vf0 as 0x8']);
    assert.match(a.all[0]!.message, /0x1102/);
    assert.deepEqual(a.model.platforms.get('grace-h1')!.devices.get('cx7-vf0')!.streams, [0x102n, 0x1102n]);
  });
});

describe('batches and LVCMDQs', () => {
  // The queue consumes commands as they come; a later CMD_SYNC on the queue completes them
  // (tegra241_vcmdq_hw_flush_timeout() on an ATC_INV left without one).
  test('a batch without CMD_SYNC is a warning, and information when a later batch syncs', () => {
    const last = check({ 'cmds.iommu': 'commands vi-a {\n  batch { TLBI_NH_VA asid 7 va 0xffffd000 }\n}\n' });
    assert.deepEqual(last.codes, ['warning cmdqv-batch-without-sync@batch']);
    const later = check({
      'cmds.iommu': 'commands vi-a {\n  batch { TLBI_NH_VA asid 7 va 0xffffd000 }\n  batch { TLBI_NH_ASID asid 7; CMD_SYNC }\n}\n',
    });
    assert.deepEqual(later.codes, ['information cmdqv-batch-without-sync@batch']);
    assert.match(later.a.all[0]!.message, /completed by the CMD_SYNC of a later batch/);
    assert.equal(later.a.all[0]!.related[1]!.message, 'the CMD_SYNC that completes it');
    const atc = check({ 'cmds.iommu': 'commands vi-a {\n  batch { ATC_INV sid 0x8 ssid 0 addr 0xfffff000 }\n}\n' });
    assert.match(atc.a.all[0]!.message, /TIMEOUT will not be reported/);
  });

  // tegra241_vintf_alloc_lvcmdq_user(): lidx >= num_lvcmdqs_per_vintf -EINVAL; allocated -EEXIST;
  // lidx - 1 missing -EIO ("HW requires to map LVCMDQs in ascending order"); length a power of 2
  // in [32, ...] and base aligned to it, else -EINVAL.
  test('LVCMDQ allocation follows the driver', () => {
    const host = HOST.replace(
      'cmdqv vintfs 16 sids-per-vintf 4\n  }\n  iommu smmu1',
      'cmdqv vintfs 16 sids-per-vintf 4 vcmdqs 64\n  }\n  iommu smmu1',
    );
    const queues = (q: string) => check({ 'host.iommu': host, 'vintf.iommu': VI_A.replace('  vmid 3\n', `  vmid 3\n${q}`) }).codes;
    assert.deepEqual(queues('  queue 0 size 64K\n  queue 1 size 64K at 0x8_0001_0000\n'), []);
    assert.deepEqual(queues('  queue 1 size 64K\n'), ['error cmdqv-queue-refused@queue 1 size 64K']);
    assert.deepEqual(queues('  queue 0 size 64K\n  queue 0 size 4K\n'), ['error cmdqv-queue-refused@queue 0 size 4K']);
    assert.deepEqual(queues('  queue 0 size 64K\n  queue 1 size 64K\n  queue 2 size 64K\n  queue 3 size 64K\n  queue 4 size 64K\n'), [
      'error cmdqv-queue-refused@queue 4 size 64K',
    ]);
    assert.deepEqual(queues('  queue 0 size 48K\n'), ['error cmdqv-queue-refused@queue 0 size 48K']);
    assert.deepEqual(queues('  queue 0 size 16\n'), ['error cmdqv-queue-refused@queue 0 size 16']);
    assert.deepEqual(queues('  queue 0 size 64K at 0x8_0000_8000\n'), ['error cmdqv-queue-refused@queue 0 size 64K at 0x8_0000_8000']);
  });
});
