// Generator of large, realistic, SPLIT workspaces for the performance benchmarks
// (bench/typing.mjs, bench/throughput.mjs, bench/large.mjs): a fleet of racks, each of
// eight hosts of one model, as operators keep them:
//   hosts/rackNNN/HOST.iommu      one platform per file: IOMMU units, host RAM, reserved
//                                 regions (interrupt window, HT hole, IVMD/RMRR unity maps,
//                                 sw-msi, PCI windows), IO-APICs and MMCONFIG (x86), tens of
//                                 devices (NIC PFs with VFs, GPUs with their audio function
//                                 in one group, NVMe, USB, BMC, bridges) with bdf/iommu/group
//   guests/rackNNN/HOST.iommu     the guests placed on that host: machine or ram lines,
//                                 container, assigned devices
//   timelines/rackNNN.iommu       the rack's pool and its maintenance timeline (start,
//                                 unplug, migrate, hotplug, stop)
// A few guests carry the problems real fleets have (RAM into a reserved region, a
// memory map that does not suit every host of the pool), so the workspace has findings
// to publish, as a real one does. Deterministic: the same size gives the same files.
//
// Run alone to write a workspace and print its shape:
//   node bench/workspace.mjs LINES OUTDIR
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from '../test/prng.mjs';

const HOSTS_PER_RACK = 8;
const GUESTS_PER_HOST = 12;
const hex = (n) => `0x${n.toString(16)}`;
const pad = (n, w) => String(n).padStart(w, '0');
const bdf = (bus, dev, fn) => `0000:${bus.toString(16).padStart(2, '0')}:${dev.toString(16).padStart(2, '0')}.${fn}`;

/** Host models, one per rack, in a fixed rotation: two x86 vendors and Arm servers. */
const MODELS = [
  { name: 'genoa', arch: 'x86_64', iommu: 'amd-vi', unit: 'amdvi', cpu: 'amd', legacy: false },
  { name: 'spr', arch: 'x86_64', iommu: 'vt-d', unit: 'dmar', cpu: 'intel', legacy: false },
  { name: 'altra', arch: 'arm64', iommu: 'smmuv3', unit: 'smmu', cpu: undefined, legacy: false },
  { name: 'genoa', arch: 'x86_64', iommu: 'amd-vi', unit: 'amdvi', cpu: 'amd', legacy: false },
  { name: 'thunderx2', arch: 'arm64', iommu: 'smmuv3', unit: 'smmu', cpu: undefined, legacy: true },
];

/**
 * The devices of one host, grouped by root complex (one IOMMU unit each). Per complex: a NIC
 * PF with eight VFs, two GPUs (each with its HDMI audio function in the same group), two NVMe
 * drives and a bridge; the first complex also has the USB controller and the BMC's VGA.
 * `assignable` lists, per guest slot, the device sets a guest may take (whole groups only).
 */
function devicesOf(model, complexes) {
  const devs = [];
  const assignable = [];
  const spares = [];
  let group = 10;
  const arm = model.arch === 'arm64';
  for (let c = 0; c < complexes; c++) {
    const unit = `${model.unit}${c}`;
    const bus = 0x01 + c * 0x40; // each root complex owns a range of buses
    const at = (b, d, f) => ({ bdf: bdf(b, d, f), stream: ((b << 8) | (d << 3) | f) + (c << 16) });
    const iommuOf = (loc) => `iommu ${unit}${arm ? ` stream ${hex(loc.stream)}` : ''}`;
    const pf = `nic${c}`;
    let loc = at(bus, 0, 0);
    devs.push({
      comment: `ConnectX-6 Dx, SR-IOV with 8 VFs (complex ${c})`,
      line: `device ${pf} { bdf ${loc.bdf}; ${iommuOf(loc)}; group ${group++} }`,
    });
    for (let v = 0; v < 8; v++) {
      loc = at(bus, 0, 2 + (v % 6));
      if (v >= 6) loc = at(bus, 1, v - 6);
      const name = `${pf}-vf${v}`;
      devs.push({ line: `device ${name} { bdf ${loc.bdf}; vf-of ${pf}; ${iommuOf(loc)}; group ${group++} }` });
      if (v === 7) spares.push(name);
      else assignable.push([name]);
    }
    for (let g = 0; g < 2; g++) {
      const gpu = `gpu${c * 2 + g}`;
      const gpuBus = bus + 0x10 + g;
      const grp = group++;
      loc = at(gpuBus, 0, 0);
      devs.push({ line: `device ${gpu} { bdf ${loc.bdf}; ${iommuOf(loc)}; group ${grp}; class graphics }` });
      loc = at(gpuBus, 0, 1);
      devs.push({ line: `device ${gpu}-audio { bdf ${loc.bdf}; ${iommuOf(loc)}; group ${grp}; class audio }` });
      assignable.push([gpu, `${gpu}-audio`]);
    }
    for (let n = 0; n < 2; n++) {
      const nvme = `nvme${c * 2 + n}`;
      loc = at(bus + 0x20 + n, 0, 0);
      devs.push({ line: `device ${nvme} { bdf ${loc.bdf}; ${iommuOf(loc)}; group ${group++} }` });
      assignable.push([nvme]);
    }
    loc = at(bus + 0x30, 0, 0);
    devs.push({ line: `device bridge${c} { bdf ${loc.bdf}; ${iommuOf(loc)}; group ${group++}; class bridge }` });
    if (c === 0) {
      loc = at(0x00, 0x14, 0);
      devs.push({ line: `device usb0 { bdf ${loc.bdf}; ${iommuOf(loc)}; group ${group++}; class usb }` });
      loc = at(bus + 0x3f, 0, 0);
      devs.push({ line: `device bmc-vga { bdf ${loc.bdf}; ${iommuOf(loc)}; group ${group++}; class graphics }` });
    }
  }
  return { devs, assignable, spares };
}

function hostFile(model, name, r, h, complexes) {
  const out = [];
  const arm = model.arch === 'arm64';
  out.push(
    `// ${name}: rack ${r}, slot ${h}. ${arm ? 'Arm server, MSIs through the SMMU to the GICv3 ITS.' : `${model.cpu === 'amd' ? 'AMD EPYC' : 'Intel Xeon'} host, ${complexes} root complexes.`}`,
  );
  out.push('// Reserved regions as /sys/kernel/iommu_groups/*/reserved_regions prints them on this model.');
  out.push(`platform ${name} {`, `  arch ${model.arch}`);
  for (let c = 0; c < complexes; c++) {
    if (arm)
      out.push(
        `  iommu ${model.unit}${c} smmuv3 {`,
        '    address-width 48',
        '    msi remapped',
        `    page-sizes ${model.legacy ? '64K 512M' : '4K 2M 1G'}`,
        '  }',
      );
    else out.push(`  iommu ${model.unit}${c} ${model.iommu} { address-width ${model.cpu === 'amd' ? 48 : 46} }`);
  }
  out.push('');
  if (arm) {
    out.push('  ram dram0 0x80000000 size 254G');
    out.push('  reserved swmsi sw-msi 0x8000000 size 1M');
    if (model.legacy) {
      out.push('  reserved pci-win32 reserved 0xe0000000..0xf7feffff     // the old kernel exports the host-bridge windows');
      out.push('  reserved pci-win64 reserved 0x80000000000..0x82fffffffff');
    }
  } else {
    out.push('  ram dram-low  0x0 size 2G', `  ram dram-high 0x1_0000_0000 size ${model.cpu === 'amd' ? '1534G' : '1022G'}`);
    out.push('  reserved ioapic msi 0xfee00000..0xfeefffff');
    if (model.cpu === 'amd') {
      out.push('  reserved ht-hole reserved 0xfd00000000..0xffffffffff');
      out.push('  reserved ivmd-usb direct 0xa9a00000 size 1M for usb0   // BIOS IVMD unity map (XHCI legacy support)');
    } else {
      out.push('  reserved rmrr-usb direct 0x7b800000 size 512K for usb0');
      out.push('  reserved rmrr-bmc direct 0x7c000000 size 16M for bmc-vga');
    }
    for (let c = 0; c < complexes; c++) out.push(`  ioapic ${hex(0xfec00000 + c * 0x1000)}`);
    out.push('  mmcfg 0x80000000 size 256M');
  }
  out.push('');
  const { devs, assignable, spares } = devicesOf(model, complexes);
  for (const d of devs) {
    if (d.comment) out.push(`  // ${d.comment}`);
    out.push(`  ${d.line}`);
  }
  out.push('}', '');
  return { text: out.join('\n'), devices: devs.length, assignable, spares };
}

/**
 * The guests of one host. x86 guests let QEMU lay RAM out (`machine q35 ... cpu ...`);
 * every 7th writes explicit ram lines instead. Arm guests use `virt` (the SMMU's sw-msi window
 * at MSI_IOVA_BASE is GIC space there). Problems, as in a real fleet: on every 4th x86 host one guest's low RAM
 * runs into the interrupt window, and on legacy Arm racks every 9th guest is sized without
 * the pool in mind (RAM into the 32-bit PCI window).
 */
function guestFile(model, host, r, h, assignable, rand, editable) {
  const out = [`// Guests placed on ${host} (rack ${r}). Generated from the fleet inventory.`];
  const arm = model.arch === 'arm64';
  const names = [];
  const assigned = [];
  let slot = 0;
  let editLine = -1;
  for (let g = 0; g < GUESTS_PER_HOST; g++) {
    const name = `vm-r${pad(r, 3)}h${h}-${pad(g, 2)}`;
    names.push(name);
    const n = (r * HOSTS_PER_RACK + h) * GUESTS_PER_HOST + g;
    const mem = [4, 8, 16, 32, 64][Math.floor(rand() * 5)];
    out.push(`guest ${name} on ${host} {`);
    if (g === 0 && editable) {
      // The benchmark's edit target: `size 2G` <-> `size 4G` of the low RAM line (see typing.mjs).
      out.push('  ram low  0x0 size 2G');
      editLine = out.length - 1;
      out.push(`  ram high 0x1_0000_0000 size ${mem}G`);
    } else if (arm) {
      const bad = model.legacy && n % 9 === 0;
      out.push(`  machine virt memory ${bad ? 4 : model.legacy ? 2 : mem}G`);
    } else if (g === 5 && (r * HOSTS_PER_RACK + h) % 4 === 0) {
      out.push(
        '  ram low  0x0 size 0xfef00000   // hand-written map: runs into the interrupt window',
        `  ram high 0x1_0000_0000 size ${mem}G`,
      );
    } else if (n % 7 === 0) {
      out.push('  ram low  0x0 size 2G', `  ram high 0x1_0000_0000 size ${mem}G`);
    } else {
      out.push(`  machine q35 memory ${mem}G cpu ${model.cpu} phys-bits 48`);
    }
    out.push(`  container ${g % 4 === 3 ? 'iommufd' : 'type1'}`);
    // Most guests get one device set, a few two, some none (virtio only).
    const sets = g % 5 === 4 ? 0 : g % 3 === 0 ? 2 : 1;
    const mine = [];
    for (let k = 0; k < sets && slot < assignable.length; k++) mine.push(...assignable[slot++]);
    for (const d of mine) out.push(`  assign ${d}`);
    assigned.push(mine);
    out.push('}', '');
  }
  return { text: out.join('\n'), guests: names, assigned, editLine };
}

/**
 * A rack's pool and its maintenance timeline: for each host, its first guest starts,
 * drops its devices, migrates to the next host of the rack, gets that host's spare VF,
 * and a second guest starts and stops.
 */
function rackFile(r, hosts, guestsOf, sparesOf) {
  const out = [`// Rack ${r}: live-migration pool and the last maintenance window.`];
  out.push(`pool rack${pad(r, 3)} {`);
  for (const h of hosts) out.push(`  ${h}`);
  out.push('}', '', `timeline maint-rack${pad(r, 3)} {`);
  let steps = 0;
  for (let i = 0; i < hosts.length; i++) {
    const next = hosts[(i + 1) % hosts.length];
    const vm = guestsOf[i].names[1];
    const other = guestsOf[i].names[2];
    out.push(`  start ${vm}`);
    for (const d of guestsOf[i].assigned[1] ?? []) {
      out.push(`  unplug ${d} from ${vm}`);
      steps++;
    }
    out.push(
      `  migrate ${vm} to ${next}`,
      `  hotplug ${sparesOf[(i + 1) % hosts.length][0]} into ${vm}`,
      `  start ${other}`,
      `  stop ${other}`,
    );
    steps += 5;
  }
  out.push('}', '');
  return { text: out.join('\n'), steps };
}

/**
 * A workspace of about `targetLines` lines (never fewer): whole racks while they fit, the
 * last rack cut to fit. Returns the files (relative path -> text), the edit target and stats.
 */
export function generateWorkspace(targetLines) {
  // Seeded by the size: a size always yields the same workspace.
  const rand = prng(0x5eed ^ targetLines);
  const files = new Map();
  let lines = 0;
  const count = (text) => text.split('\n').length - 1;
  const stats = { hosts: 0, devices: 0, reserved: 0, guests: 0, assigned: 0, steps: 0, pools: 0, racks: 0 };
  // The edit target is in the rack nearest the middle of the expected fleet; ~160 lines per host.
  const expectedHosts = Math.max(1, Math.round(targetLines / 160));
  const editRack = Math.floor(expectedHosts / HOSTS_PER_RACK / 2);
  let edit;
  for (let r = 0; lines < targetLines; r++) {
    const model = MODELS[r % MODELS.length];
    const rack = `rack${pad(r, 3)}`;
    const hosts = [];
    const guestsOf = [];
    const sparesOf = [];
    for (let h = 0; h < HOSTS_PER_RACK && lines < targetLines; h++) {
      const name = `r${pad(r, 3)}-${model.name}-${h}`;
      const complexes = model.arch === 'arm64' ? 2 : 2 + (h % 3);
      const host = hostFile(model, name, r, h, complexes);
      // The edit target must be an x86 guest (its low RAM meets the interrupt window).
      const editable = !edit && r >= editRack && model.arch === 'x86_64' && h === 0;
      const guests = guestFile(model, name, r, h, host.assignable, rand, editable);
      const hostPath = `hosts/${rack}/${name}.iommu`;
      const guestPath = `guests/${rack}/${name}.iommu`;
      files.set(hostPath, host.text);
      files.set(guestPath, guests.text);
      if (editable) edit = { path: guestPath, line: guests.editLine, from: 'size 2G', to: 'size 4G' };
      lines += count(host.text) + count(guests.text);
      hosts.push(name);
      sparesOf.push(host.spares);
      guestsOf.push({ names: guests.guests, assigned: guests.assigned });
      stats.hosts++;
      stats.devices += host.devices;
      stats.reserved += (host.text.match(/^\s*reserved /gm) ?? []).length;
      stats.guests += guests.guests.length;
      stats.assigned += guests.assigned.reduce((s, a) => s + a.length, 0);
    }
    if (hosts.length >= 2) {
      const tl = rackFile(r, hosts, guestsOf, sparesOf);
      files.set(`timelines/${rack}.iommu`, tl.text);
      lines += count(tl.text);
      stats.steps += tl.steps;
      stats.pools++;
    }
    stats.racks++;
  }
  if (!edit) throw new Error(`workspace of ${targetLines} lines has no x86 host to edit`);
  return {
    files,
    edit,
    stats: { ...stats, files: files.size, lines, bytes: [...files.values()].reduce((s, t) => s + Buffer.byteLength(t), 0) },
  };
}

/** Per kind of file (hosts/, guests/, timelines/): count, mean and largest size. */
export function fileSizes(files) {
  const kinds = new Map();
  for (const [path, text] of files) {
    const kind = path.split('/')[0];
    const k = kinds.get(kind) ?? { files: 0, lines: 0, bytes: 0, maxLines: 0, maxBytes: 0 };
    const lines = text.split('\n').length - 1,
      bytes = Buffer.byteLength(text);
    k.files++;
    k.lines += lines;
    k.bytes += bytes;
    k.maxLines = Math.max(k.maxLines, lines);
    k.maxBytes = Math.max(k.maxBytes, bytes);
    kinds.set(kind, k);
  }
  return [...kinds].map(([kind, k]) => ({
    kind,
    files: k.files,
    meanLines: Math.round(k.lines / k.files),
    meanBytes: Math.round(k.bytes / k.files),
    maxLines: k.maxLines,
    maxBytes: k.maxBytes,
  }));
}

/** Writes the workspace under `dir` (emptied first). */
export function writeWorkspace(dir, ws) {
  rmSync(dir, { recursive: true, force: true });
  for (const [path, text] of ws.files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** "10k" -> 10000, "2M" -> 2000000, "200000" -> 200000. */
export function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s.trim());
  if (!m) throw new Error(`bad size '${s}' (use e.g. 10k, 2M or 50000)`);
  return Math.round(Number(m[1]) * { '': 1, k: 1000, m: 1e6 }[m[2].toLowerCase()]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [size, out] = process.argv.slice(2);
  if (!size || !out) {
    console.error('usage: node bench/workspace.mjs LINES OUTDIR   (LINES: e.g. 10k, 50k, 200k)');
    process.exit(2);
  }
  const ws = generateWorkspace(parseSize(size));
  writeWorkspace(out, ws);
  console.log(JSON.stringify(ws.stats));
  console.table(fileSizes(ws.files));
  console.log(`edit target: ${ws.edit.path}:${ws.edit.line + 1} (${ws.edit.from} <-> ${ws.edit.to})`);
}
