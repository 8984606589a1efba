// A limits-test shape (issue 22): a firmware with as many drivers as fit, each with a
// CommonBuffer and a BusMasterRead mapping and an ExitBootServices handler that stops DMA
// and unmaps both, and the IOMMU protocol's TPL_CALLBACK unmap-all. Its platform and guest
// (a TDX guest: outside SEV/TDX OVMF has no IoMmuDxe) come with it: every finding of the file
// is the firmware engine's. It used to cost drivers² (2,000 drivers, 0.5 MB: 16 s and 2.4 GB).

export const name = 'firmware';
export const description =
  'a firmware of n drivers, each mapping two rings and unmapping them at ExitBootServices, and the IOMMU protocol unmapping all';

/** Every code the firmware engine reports on it, at any size with a driver. */
export const expect = ['fw-pending-bus-master', 'fw-free-in-handler', 'fw-double-unmap', 'fw-teardown-before-stop'];

/** Buses 01-ff, devices 0-31, functions 0-7: 65,024 distinct BDFs, more than 2 MiB of drivers. */
const MAX_DRIVERS = 255 * 256 - 256;
const bdf = (i) => `0000:${(1 + (i >> 8)).toString(16).padStart(2, '0')}:${((i >> 3) & 31).toString(16).padStart(2, '0')}.${i & 7}`;

const device = (i) => `  device d${i} { bdf ${bdf(i)}; iommu vtd0; group ${i + 1} }\n`;
const assign = (i) => `  assign d${i}\n`;
const driver = (i) =>
  [
    `  driver Drv${i} for d${i} {`,
    `    map ring${i} common-buffer size 4K from allocate-buffer pending`,
    `    map buf${i} bus-master-read size 4K from allocate-pool pending`,
    '    on exit-boot-services tpl callback {',
    '      stop-dma',
    `      unmap ring${i}`,
    `      unmap buf${i}`,
    '    }',
    '  }',
    '',
  ].join('\n');

const PLATFORM = 'platform fw-host {\n  arch x86_64\n  iommu vtd0 vt-d { address-width 48 }\n';
const GUEST = '}\nguest fw-guest on fw-host {\n  machine q35 memory 4G\n  confidential tdx\n  container type1\n';
const FIRMWARE = '}\nfirmware ovmf for fw-guest {\n';
const END = '  iommu-protocol {\n    on exit-boot-services tpl callback unmap-all\n  }\n}\n';

/** The description with as many drivers as fit in `chars` characters (never more; '' if not even none fit). */
export function generate(chars) {
  let length = PLATFORM.length + GUEST.length + FIRMWARE.length + END.length;
  if (length > chars) return '';
  let n = 0;
  while (n < MAX_DRIVERS) {
    const more = device(n).length + assign(n).length + driver(n).length;
    if (length + more > chars) break;
    length += more;
    n++;
  }
  const each = (f) => Array.from({ length: n }, (_, i) => f(i)).join('');
  return PLATFORM + each(device) + GUEST + each(assign) + FIRMWARE + each(driver) + END;
}
