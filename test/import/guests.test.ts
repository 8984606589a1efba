/**
 * The libvirt and QEMU importers against each other: libvirt's test suite pairs each domain
 * XML with the command line libvirt makes of it, so both importers must give the same guest.
 * Pairs are read from test/fixtures/guests (written for this project) and, when present,
 * libvirt's own from test/fixtures/libvirt, ../shared/corpus/libvirt or
 * $IOMMU_LENS_LIBVIRT_PAIRS. Then the pieces: the shell-word splitter, QEMU's sizes, keyval
 * and JSON, and what each importer makes of bad input.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ImportError } from '../../server/src/import/errors';
import type { ImportedGuest } from '../../server/src/import/guest';
import { renderGuest } from '../../server/src/import/guest';
import { importLibvirt } from '../../server/src/import/libvirt';
import { exactJson, importQemuText, keyval, qemuSize } from '../../server/src/import/qemuArgs';
import { shellWords } from '../../server/src/import/shellWords';
import { formatted } from '../../server/src/cli/importCommands';
import { analyze } from '../helpers';

const ROOT = join(import.meta.dirname, '..', '..');
const OWN = join(ROOT, 'test', 'fixtures', 'guests');
const LIBVIRT = [
  join(ROOT, 'test', 'fixtures', 'libvirt'),
  join(ROOT, '..', 'shared', 'corpus', 'libvirt'),
  process.env.IOMMU_LENS_LIBVIRT_PAIRS ?? '',
].filter((d) => d && existsSync(d));

/** The pairs of a folder: NAME.xml with NAME.args or NAME.x86_64-latest.args / NAME.aarch64-latest.args. */
function pairs(dir: string): { name: string; xml: string; args: string }[] {
  const names = readdirSync(dir);
  return names
    .filter((n) => n.endsWith('.xml') && !/-latest\.xml$|\.abi-update\.xml$/.test(n))
    .flatMap((n) => {
      const base = n.slice(0, -4);
      const args = [`${base}.args`, `${base}.x86_64-latest.args`, `${base}.aarch64-latest.args`].find((a) => names.includes(a));
      return args ? [{ name: base, xml: join(dir, n), args: join(dir, args) }] : [];
    });
}

/**
 * What both sources must agree on. A device passed by file descriptor has no host address
 * on the command line, so its BDF is compared only where the command line gives one. The
 * CPU model of an Arm (virt) guest is not compared: it never enters the description (only
 * an x86 model gives the vCPU vendor), and libvirt writes QEMU's default (`-cpu cortex-a15`
 * under TCG) in some versions and nothing in others, so the XML cannot tell which.
 */
function comparable(g: ImportedGuest, other: ImportedGuest) {
  return {
    family: g.family,
    version: g.version,
    memory: g.memory,
    maxmem: g.maxmem,
    slots: g.slots,
    dimms: g.dimms.map((d) => [d.size, d.addr]),
    accel: g.accel,
    cpu: g.family === 'virt' ? undefined : g.cpuModel,
    physBits: g.physBits,
    hostPhysBits: g.hostPhysBits,
    physBitsLimit: g.physBitsLimit,
    maxRamBelow4g: g.maxRamBelow4g,
    pciHole64: g.pciHole64,
    highmem: g.highmem,
    viommu: g.viommu,
    hostdevs: g.hostdevs.map((h, i) => ({
      bdf: other.hostdevs[i]?.bdf === undefined ? undefined : h.bdf,
      iommufd: h.iommufd !== undefined,
    })),
  };
}

function checkPair(p: { name: string; xml: string; args: string }) {
  const fromXml = importLibvirt(readFileSync(p.xml, 'utf8'), p.xml);
  const fromArgs = importQemuText(readFileSync(p.args, 'utf8'), p.args);
  assert.ok(fromXml.memory !== undefined || fromXml.hostdevs.length || fromXml.family, 'the pair has memory, hostdevs or a machine');
  assert.deepEqual(comparable(fromArgs, fromXml), comparable(fromXml, fromArgs));
  for (const g of [fromXml, fromArgs]) {
    const text = formatted(renderGuest(g, { name: 'g', platform: 'p', source: p.name }));
    assert.equal(formatted(text), text);
    // The guest on an empty platform of its own: no finding but the devices it cannot assign.
    const a = analyze({ 'p.iommu': `platform p {\n  arch ${g.family === 'virt' ? 'arm64' : 'x86_64'}\n}\n`, 'g.iommu': text });
    assert.deepEqual(
      a.all.map((f) => `${f.code}: ${f.message}`),
      [],
    );
  }
}

describe('libvirt XML and the QEMU command line libvirt makes of it give the same guest', () => {
  const own = pairs(OWN);
  test('the own pairs are all there', () => assert.equal(own.length, 11));
  for (const p of own) test(`own: ${p.name}`, () => checkPair(p));
  for (const dir of LIBVIRT) for (const p of pairs(dir)) test(`libvirt: ${p.name}`, () => checkPair(p));
  test("libvirt's own pairs", { skip: LIBVIRT.length ? false : 'not present: see test/fixtures/guests/README.md' }, () => {
    assert.ok(LIBVIRT.flatMap(pairs).length > 0);
  });
});

describe('what each pair says', () => {
  test('q35 with host-passthrough, phys-bits and two functions', () => {
    const g = importQemuText(readFileSync(join(OWN, 'q35-passthrough.args'), 'utf8'), 'x.args');
    assert.equal(g.family, 'q35');
    assert.deepEqual(g.version, { major: 8, minor: 2 });
    assert.equal(g.memory, 16n << 30n);
    assert.equal(g.physBits, 46);
    assert.deepEqual(
      g.hostdevs.map((h) => h.bdf),
      ['0000:41:00.0', '0000:41:00.1'],
    );
    const text = formatted(
      renderGuest(g, { name: 'db', platform: 'epyc', source: 'x', deviceOf: (b) => `gpu-${b.slice(-1)}`, hostVendor: 'amd' }),
    );
    assert.match(text, /machine q35 memory 16G cpu amd phys-bits 46 version 8\.2/);
    assert.match(text, /assign gpu-0 +\/\/ host 0000:41:00\.0 \(hostdev0\)/);
  });

  test('virt with a pinned DIMM and smmuv3; i440fx with max-ram-below-4g and the hole64 from <qemu:commandline>', () => {
    const v = importLibvirt(readFileSync(join(OWN, 'virt-dimm-smmuv3.xml'), 'utf8'), 'v.xml');
    assert.equal(v.memory, 8n << 30n);
    assert.deepEqual(v.dimms, [{ id: 'dimm0', size: 4n << 30n, addr: 0x2_4000_0000n }]);
    assert.equal(v.viommu, 'smmuv3');
    assert.match(formatted(renderGuest(v, { name: 'a', platform: 'p', source: 'v' })), /ram dimm0 0x240000000 size 4G/);
    const i = importLibvirt(readFileSync(join(OWN, 'i440fx-below4g.xml'), 'utf8'), 'i.xml');
    assert.equal(i.maxRamBelow4g, 2n << 30n);
    assert.equal(i.pciHole64, 64n << 30n);
    assert.ok(i.hostPhysBits);
    assert.equal(i.physBitsLimit, 42);
  });
});

test("an <interface type='hostdev'> is assigned like a hostdev, first; a mediated device is a note on both sides", () => {
  const nic = importLibvirt(readFileSync(join(OWN, 'q35-interface-hostdev.xml'), 'utf8'), 'n.xml');
  assert.deepEqual(
    nic.hostdevs.map((h) => `${h.bdf} ${h.id}`),
    ['0000:3b:02.1 hostdev0', '0000:5e:00.0 hostdev1'],
  );
  for (const g of [
    importLibvirt(readFileSync(join(OWN, 'i440fx-mdev.xml'), 'utf8'), 'm.xml'),
    importQemuText(readFileSync(join(OWN, 'i440fx-mdev.args'), 'utf8'), 'm.args'),
  ]) {
    assert.deepEqual(g.hostdevs, []);
    assert.match(g.notes.join('\n'), /not a PCI (device|function)/);
  }
});

test('a DIMM without addr= goes past the DIMMs plugged before it, pinned ones too (first fit in address order)', () => {
  for (const g of [
    importLibvirt(readFileSync(join(OWN, 'i440fx-dimm-pinned.xml'), 'utf8'), 'x.xml'),
    importQemuText(readFileSync(join(OWN, 'i440fx-dimm-pinned.args'), 'utf8'), 'x.args'),
  ]) {
    const text = formatted(renderGuest(g, { name: 'g', platform: 'p', source: 'x' }));
    assert.deepEqual(
      [...text.matchAll(/^ {2}ram (\S+) (0x[0-9a-f]+)/gm)].map((m) => `${m[1]} ${m[2]}`),
      ['dimm0 0x100000000', 'dimm1 0x140000000'],
    );
  }
});

test('more DIMMs than QEMU has memory slots is an ImportError, not a long placement', () => {
  const dimms = Array.from({ length: 257 }, (_, i) => `-device pc-dimm,id=d${i},memdev=b`).join(' ');
  assert.throws(
    () => importQemuText(`qemu-system-x86_64 -M q35 -m 4G -object memory-backend-ram,id=b,size=1G ${dimms}`, 'q.args'),
    (e: Error) => e instanceof ImportError && /^q\.args: 257 DIMMs: QEMU refuses more than 256 memory slots$/.test(e.message),
  );
});

test('ids from the command line become unique names (two DIMMs named alike, one named like the vIOMMU)', () => {
  const g = importQemuText(
    'qemu-system-x86_64 -machine q35 -m 4G -object memory-backend-ram,id=b,size=1G -device intel-iommu ' +
      '-device pc-dimm,id=d,memdev=b -device pc-dimm,id=d,memdev=b -device pc-dimm,id=viommu0,memdev=b',
    'x',
  );
  const text = formatted(renderGuest(g, { name: 'g', platform: 'p', source: 'x' }));
  assert.deepEqual(
    [...text.matchAll(/^ {2}(?:ram|viommu) (\S+)/gm)].map((m) => m[1]),
    ['d', 'd-2', 'viommu0-2', 'viommu0'],
  );
  assert.deepEqual(
    analyze({ 'p.iommu': 'platform p {\n  arch x86_64\n}\n', 'g.iommu': text }).all.map((f) => f.code),
    [],
  );
});

describe('the shell-word splitter', () => {
  test('quotes, escapes, continuations and comments as a POSIX shell splits them', () => {
    const words = shellWords(`a 'b c' "d \\"e\\" \\$f" g\\ h i\\\nj \\\n  k # gone\nl''m "" '' "x\ny"`, 't');
    assert.deepEqual(
      words.map((w) => w.text),
      ['a', 'b c', 'd "e" $f', 'g h', 'ij', 'k', 'lm', '', '', 'x\ny'],
    );
    assert.deepEqual(
      words.map((w) => w.line),
      [1, 1, 1, 1, 1, 3, 4, 4, 4, 4],
    );
  });

  test('an unclosed quote is an error naming the line it opened on', () => {
    assert.throws(() => shellWords("a\nb 'c\nd", 'f.args'), /^Error: f\.args:2: a single quote that is never closed$/);
    assert.throws(() => shellWords('a\n\n"b', 'f.args'), /^Error: f\.args:3: a double quote that is never closed$/);
  });
});

describe('QEMU option syntax', () => {
  test('sizes, keyval with ,, and JSON with integers above 2^53 kept exact', () => {
    assert.equal(qemuSize('4G'), 4n << 30n);
    assert.equal(qemuSize('219136k'), 219136n << 10n);
    assert.equal(qemuSize('1024', 1n << 20n), 1n << 30n);
    assert.equal(qemuSize('1.5G'), 3n << 29n);
    assert.equal(qemuSize('0x240000000'), 0x2_4000_0000n);
    assert.equal(qemuSize('12Q'), undefined);
    assert.deepEqual(keyval('vfio-pci,host=0000:01:00.0,romfile=a,,b,x-foo'), {
      first: 'vfio-pci',
      props: new Map([
        ['host', '0000:01:00.0'],
        ['romfile', 'a,b'],
        ['x-foo', 'on'],
      ]),
    });
    assert.deepEqual(exactJson('{"size":18014398509481985,"s":"12"}'), { size: 18014398509481985n, s: '12' });
  });

  test('bad input is an ImportError with the file and line', () => {
    const bad = (text: string, re: RegExp) =>
      assert.throws(
        () => importQemuText(text, 'q.args'),
        (e: Error) => e instanceof ImportError && re.test(e.message),
      );
    bad('qemu-system-x86_64 \\\n-m 4X', /^q\.args:2: -m size '4X' is not a size$/);
    bad('qemu-system-x86_64 \\\n-device \'{"driver":\'', /^q\.args:2: not valid JSON/);
    bad('qemu-system-x86_64 -cpu host,phys-bits=99', /phys-bits '99' is not 32 to 64/);
    bad('qemu-system-x86_64 -device vfio-pci,host=zz', /vfio-pci host 'zz' is not a PCI address/);
    bad('qemu-system-x86_64 -device pc-dimm,id=d0,memdev=nope', /^q\.args:1: DIMM d0 names memdev 'nope'/);
    bad('qemu-system-x86_64 -m', /-m needs an argument/);
    // Input quoted in a message is escaped: one line, whatever the words hold.
    bad("qemu-system-x86_64 -m '4\nG'", /^q\.args:1: -m size '4\\nG' is not a size$/);
    bad(
      "qemu-system-x86_64 -device 'pc-dimm,id=a\nb,memdev=z'",
      /^q\.args:1: DIMM a\\nb names memdev 'z', which no memory backend declares$/,
    );
  });
});

describe('libvirt XML that is not what virsh prints', () => {
  const bad = (xml: string, re: RegExp) =>
    assert.throws(
      () => importLibvirt(xml, 'd.xml'),
      (e: Error) => e instanceof ImportError && re.test(e.message),
    );
  test('malformed, a DOCTYPE, too deep, not a domain, bad sizes and addresses', () => {
    bad("<domain>\n<name>x</name>\n<memory unit='KiB'>1</memory>\n</domainx>", /^d\.xml:4: not well-formed XML/);
    bad('<!DOCTYPE d [<!ENTITY a "aaaa">]><domain><name>&a;</name></domain>', /a DOCTYPE, which virsh dumpxml never prints: refused/);
    bad(`${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}`, /d\.xml: not a domain XML libvirt reads|no <domain>/);
    bad('<network><name>x</name></network>', /no <domain> element/);
    bad("<domain><memory unit='furlong'>4</memory></domain>", /<memory>: '4' furlong is not a size/);
    bad(
      "<domain><devices><hostdev type='pci'><source><address bus='0x100' slot='0' function='0'/></source></hostdev></devices></domain>",
      /hostdev 0: source address bus '0x100' is not 0 to ff/,
    );
    bad("<domain><cpu><maxphysaddr mode='emulate' bits='7'/></cpu></domain>", /<maxphysaddr bits='7'> is not 32 to 64/);
  });
});
