// Benchmark: ExitBootServices exploration with many drivers in one firmware. Two modes.
//
// Default: the exploration tables. Drivers have pending rings, a TPL_NOTIFY or TPL_CALLBACK
// handler, and every third one defers its stop to a second event of its own; the IOMMU
// protocol tears down both at once and deferred, so every driver's projection has real choices
// to explore. Two tables: drivers in 12 shapes (1-4 rings x TPL x deferred stop: symmetry
// explores 12 projections however many drivers), then every driver a shape of its own (driver
// i has i+1 rings: one projection each). Prints wall time of `iommu-lens check` and the number
// of orders the UEFI specification allows (n! within each TPL), which the per-driver
// projection never enumerates. Run on demand:
//   npm run build && node bench/firmware.mjs [maxDrivers]
//
// --sizes (issue 22): whole files up to the 2 MiB limit, `iommu-lens check` timed with
// /usr/bin/time (wall, CPU = user + system, peak RSS). First the issue's shape
// (test/shapes/firmware.mjs: drivers mapping two rings, unmapping both at ExitBootServices,
// the IOMMU protocol unmapping all) at each size, then the other shapes that once blew up.
// With --ref the same files also go through that commit, built apart (bench/tree.mjs), in
// the same run: the "before" beside the "after". A run past --timeout seconds is killed.
//   npm run build && node bench/firmware.mjs --sizes 100k,250k,500k,1m,2m [--others 250k,2m]
//       [--ref GIT-REF] [--timeout 60] [--only SHAPE,...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as issueShape from '../test/shapes/firmware.mjs';
import { flag, REPO } from './throughput.mjs';
import { treeAt } from './tree.mjs';

const CLI = join(REPO, 'dist', 'cli.cjs');

function workspace(n, distinct) {
  const devs = Array.from(
    { length: n },
    (_, i) =>
      `  device nic${i} { bdf 0000:${(1 + (i >> 3)).toString(16).padStart(2, '0')}:${(i & 7).toString(16).padStart(2, '0')}.0; iommu amdvi0; group ${i} }`,
  );
  const host = ['platform fw-host {', '  arch x86_64', '  iommu amdvi0 amd-vi { address-width 48 }', ...devs, '}'].join('\n');
  const guest = [
    'guest cvm on fw-host {',
    '  machine q35 memory 16G cpu amd',
    '  confidential sev-snp',
    ...devs.map((_, i) => `  assign nic${i}`),
    '}',
  ].join('\n');
  const fw = ['firmware ovmf for cvm {'];
  for (let i = 0; i < n; i++) {
    fw.push(`  driver Drv${i} for nic${i} {`);
    for (let k = 0; k <= (distinct ? i : i % 4); k++)
      fw.push(`    map ring${k} common-buffer size ${4 * (k + 1)}K from allocate-buffer pending`);
    const tpl = i % 2 ? 'callback' : 'notify';
    if (i % 3 === 0) fw.push(`    on exit-boot-services tpl ${tpl} signal quiesce${i}`, `    on event quiesce${i} tpl callback stop-dma`);
    else fw.push(`    on exit-boot-services tpl ${tpl} stop-dma`);
    fw.push('  }');
  }
  fw.push(
    '  iommu-protocol {',
    '    on exit-boot-services tpl callback unmap-all',
    '    on exit-boot-services tpl callback unmap-all deferred',
    '  }',
    '}',
  );
  return { host, guest, fw: fw.join('\n') };
}

/** log10(n!) for the orders of each TPL batch. */
function log10Orders(n) {
  const notify = Math.ceil(n / 2),
    callback = Math.floor(n / 2) + 2;
  let s = 0;
  for (let k = 2; k <= notify; k++) s += Math.log10(k);
  for (let k = 2; k <= callback; k++) s += Math.log10(k);
  return s;
}

function tables() {
  const max = Number(process.argv[2] ?? 160);
  for (const distinct of [false, true]) {
    console.log(distinct ? '\nevery driver a shape of its own' : 'drivers in 12 shapes');
    console.log('drivers  orders allowed      ms  ms/driver  result');
    for (const n of [10, 20, 40, 80, 160].filter((x) => x <= max)) {
      const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-fw-bench-'));
      const { host, guest, fw } = workspace(n, distinct);
      writeFileSync(join(dir, 'host.iommu'), host);
      writeFileSync(join(dir, 'guest.iommu'), guest);
      writeFileSync(join(dir, 'fw.iommu'), fw);
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [CLI, 'check', dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      rmSync(dir, { recursive: true, force: true });
      if (r.status !== 1) throw new Error(`unexpected exit ${r.status}: ${r.stderr}`);
      const summary = r.stdout.trimEnd().split('\n').pop();
      console.log(
        `${String(n).padStart(7)}  ${`~10^${log10Orders(n).toFixed(0)}`.padStart(14)} ${ms.toFixed(0).padStart(7)} ${(ms / n).toFixed(2).padStart(10)}  ${summary}`,
      );
    }
  }
  console.log('(ms/driver falling or flat = linear in drivers; the first row includes Node start-up)');
}

// ----- --sizes: whole files up to the size limit, before and after ---------------------------

/** A workspace of one file: n devices on one host, a guest with all of them, and a firmware. */
function firmwareFile(n, driver, iommu) {
  const bdf = (i) => `0000:${(1 + (i >> 8)).toString(16).padStart(2, '0')}:${((i >> 3) & 31).toString(16).padStart(2, '0')}.${i & 7}`;
  return (
    `platform host {\n  arch x86_64\n  iommu vtd0 vt-d { address-width 48 }\n` +
    `${lines(n, (i) => `  device d${i} { bdf ${bdf(i)}; iommu vtd0; group ${i + 1} }\n`)}}\n` +
    `guest g on host {\n  machine q35 memory 4G\n  container type1\n${lines(n, (i) => `  assign d${i}\n`)}}\n` +
    `firmware fw for g {\n${lines(n, (i) => `  driver D${i} for d${i} {\n${driver(i)}  }\n`)}  iommu-protocol {\n${iommu}  }\n}\n`
  );
}

const lines = (n, f) => Array.from({ length: n }, (_, i) => f(i)).join('');
const ring = (name = 'c') => `    map ${name} common-buffer size 4K from allocate-buffer pending\n`;
const on = (trigger, tpl, body) => `    on ${trigger} tpl ${tpl} ${body}\n`;
const stops = ring() + on('exit-boot-services', 'callback', 'stop-dma');
const teardown = on('event q', 'callback', 'unmap-all');
const block = (body) => `{\n${body}    }`;

/** The other shapes that blew up under 2 MiB: name, what it is, and the file for n (drivers, handlers or actions). */
const OTHERS = [
  [
    'shared signal',
    'every driver signals the event of the IOMMU teardown',
    (n) => firmwareFile(n, () => ring() + on('exit-boot-services', 'callback', '{ stop-dma; signal q }'), teardown),
  ],
  [
    'shared and own',
    'every driver signals the teardown event and its own, which stops it',
    (n) =>
      firmwareFile(
        n,
        (i) => ring() + on('exit-boot-services', 'callback', `{ signal q; signal e${i} }`) + on(`event e${i}`, 'callback', 'stop-dma'),
        teardown,
      ),
  ],
  [
    'deferred stops',
    'every driver defers its stop to an event of its own (as in the tables); IOMMU unmap-all and deferred unmap-all',
    (n) =>
      firmwareFile(
        n,
        (i) => ring() + on('exit-boot-services', i % 2 ? 'callback' : 'notify', `signal q${i}`) + on(`event q${i}`, 'callback', 'stop-dma'),
        on('exit-boot-services', 'callback', 'unmap-all') + on('exit-boot-services', 'callback', 'unmap-all deferred'),
      ),
  ],
  [
    'IOMMU unmaps by name',
    "one IOMMU handler unmaps every driver's ring by name",
    (n) =>
      firmwareFile(
        n,
        (i) => ring(`c${i}`) + on('exit-boot-services', 'callback', 'stop-dma'),
        on('exit-boot-services', 'callback', block(lines(n, (i) => `      unmap c${i}\n`))),
      ),
  ],
  [
    'IOMMU unmap-alls',
    'n/2 drivers, n/2 IOMMU handlers that unmap everything',
    (n) =>
      firmwareFile(
        n >> 1,
        () => stops,
        lines(n >> 1, () => on('exit-boot-services', 'callback', 'unmap-all')),
      ),
  ],
  [
    'IOMMU deferred unmap-alls',
    'n/2 drivers, n/2 IOMMU handlers with a deferred unmap-all',
    (n) =>
      firmwareFile(
        n >> 1,
        () => stops,
        lines(n >> 1, () => on('exit-boot-services', 'notify', 'unmap-all deferred')),
      ),
  ],
  [
    'long handler',
    'one driver: n rings, one handler that unmaps them all, then stops n times',
    (n) =>
      firmwareFile(
        1,
        () =>
          lines(n, (k) => ring(`m${k}`)) +
          on('exit-boot-services', 'callback', block(lines(n, (k) => `      unmap m${k}\n`) + lines(n, () => '      stop-dma\n'))),
        '',
      ),
  ],
  [
    'many handlers',
    'one driver: n handlers unmapping the same ring',
    (n) =>
      firmwareFile(
        1,
        () => ring() + lines(n, () => on('exit-boot-services', 'callback', 'unmap c')) + on('exit-boot-services', 'callback', 'stop-dma'),
        '',
      ),
  ],
  [
    'many mappings',
    'one driver: n rings, 14 handlers unmapping one each',
    (n) =>
      firmwareFile(
        1,
        () =>
          lines(n, (k) => ring(`m${k}`)) +
          lines(14, (k) => on('exit-boot-services', 'callback', `unmap m${k}`)) +
          on('exit-boot-services', 'callback', 'stop-dma'),
        '',
      ),
  ],
  [
    'signal chain',
    'eight drivers; the IOMMU teardown at the end of a chain of n events',
    (n) =>
      firmwareFile(
        8,
        () => stops,
        on('exit-boot-services', 'callback', 'signal e0') +
          lines(n, (k) => on(`event e${k}`, 'callback', `signal e${k + 1}`)) +
          on(`event e${n}`, 'callback', 'unmap-all'),
      ),
  ],
];

/** The largest n whose file fits in `chars` (doubling, then bisecting). */
function fit(make, chars) {
  let lo = 1,
    hi = 2;
  while (make(hi).length <= chars) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (make(mid).length <= chars) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** `iommu-lens check FILE` with one CLI: wall and CPU seconds, peak MiB, findings; or killed at the timeout. */
function check(cli, file, timeout) {
  // SIGTERM, so that `timeout` reaps the run and its peak memory is counted (KILL 5 s later if need be).
  const argv = ['-f', 'BENCH %e %U %S %M', 'timeout', '-k', '5', String(timeout), process.execPath, cli, 'check', file];
  const r = spawnSync('/usr/bin/time', argv, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const m = /BENCH ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  const [wall, user, sys, kb] = m ? m.slice(1).map(Number) : [NaN, NaN, NaN, NaN];
  const failed = r.status !== 0 && r.status !== 1 ? (/heap out of memory/.test(r.stderr) ? 'out of memory' : 'killed') : undefined;
  const summary = failed
    ? ''
    : r.stdout
        .trimEnd()
        .split('\n')
        .pop()
        .replace(/^1 file checked: /, '');
  return { wall, cpu: user + sys, mib: kb / 1024, failed, summary };
}

const cell = (r) =>
  r.failed
    ? `${r.failed} after ${r.wall.toFixed(0)} s (${r.mib.toFixed(0)} MiB)`
    : `${r.wall.toFixed(1)} s, ${r.cpu.toFixed(1)} s CPU, ${r.mib.toFixed(0)} MiB`;
const parseChars = (x) => Math.round(Number.parseFloat(x) * ({ k: 1024, m: 1024 * 1024 }[x.at(-1).toLowerCase()] ?? 1));

function sizes() {
  const ref = flag('ref', undefined);
  const timeout = Number(flag('timeout', '60'));
  const only = flag('only', undefined)?.split(',');
  const tmp = mkdtempSync(join(tmpdir(), 'iommu-lens-fw-sizes-'));
  try {
    const clis = [...(ref ? [[`before (${ref})`, join(treeAt(ref, tmp), 'dist', 'cli.cjs')]] : []), ['after (working tree)', CLI]];
    const file = join(tmp, 'fw.iommu');
    const row = (label, text) => {
      writeFileSync(file, text);
      const results = clis.map(([, cli]) => check(cli, file, timeout));
      const summary = results.at(-1).summary;
      console.log(`| ${label} | ${(text.length / 2 ** 20).toFixed(2)} | ${results.map(cell).join(' | ')} | ${summary} |`);
    };
    const head = (first) => {
      console.log(`| ${first} | MiB | ${clis.map(([l]) => l).join(' | ')} | findings (after) |`);
      console.log(`|---|---:|${clis.map(() => '---|').join('')}---|`);
    };
    if (!only || only.includes(issueShape.name)) {
      console.log(`\n**${issueShape.description}** (test/shapes/firmware.mjs)\n`);
      head('drivers');
      for (const chars of flag('sizes', '100k,250k,500k,1m,2m').split(',').map(parseChars)) {
        const text = issueShape.generate(chars);
        row(String((text.match(/^ {2}driver /gm) ?? []).length), text);
      }
    }
    console.log('\n**Other shapes**\n');
    head('shape (n)');
    for (const [name, what, make] of OTHERS.filter(([name]) => !only || only.includes(name))) {
      for (const chars of flag('others', '250k,2m').split(',').map(parseChars)) {
        const n = fit(make, chars);
        row(`${name} (${n}): ${what}`, make(n));
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv.includes('--sizes')) sizes();
else tables();
