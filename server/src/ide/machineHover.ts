/** The hover on a guest's `machine` statement: QEMU's computed guest RAM layout and its limits. */
import { formatInterval, formatSize, hex, intervalSize, type Guest } from '../model';
import { machineLayout, physBitsError, physBitsOf } from '../sim';
import type { Analysis } from './analysis';
import { ramNote } from './hoverParts';
import { codeBlock } from './markdown';
import { inside } from './positions';

/** A guest whose `machine` statement covers the offset. */
export function machineAt(a: Analysis, uri: string, offset: number): Guest | undefined {
  for (const g of a.model.guests.values()) {
    if (g.sym.uri === uri && g.machine && inside(g.machine.stmt.span, offset)) return g;
  }
  return undefined;
}

export function machineHover(a: Analysis, g: Guest): string | undefined {
  const m = g.machine!;
  const layout = machineLayout(g);
  if (!layout) return m.type ? `**machine ${m.type}**: no \`memory\` given, so no RAM is computed` : undefined;
  const version = m.version ? ` (pc-${m.type === 'i440fx' ? 'i440fx' : m.type}-${m.version.major}.${m.version.minor})` : '';
  const out = [
    `**machine ${m.type}${version}**: QEMU's guest RAM for ${formatSize(m.memory!)}`,
    '',
    codeBlock(layout.ram.map((r) => `${r.name.padEnd(14)} ${formatInterval(r.range)}  ${formatSize(intervalSize(r.range))}`)),
  ];
  const split = layout.ram.map((r) => ramNote(a, g, r.range)).filter((x): x is string => !!x);
  if (split.length) out.push('', ...split.map((x, i) => `- ${layout.ram[i]!.name}: ${x}`));
  if (layout.pciHole64)
    out.push('', `64-bit PCI hole: \`${formatInterval(layout.pciHole64)}\` (${formatSize(intervalSize(layout.pciHole64))})`);
  if (layout.relocation) out.push('', `AMD 1 TiB rule: ${layout.relocation}.`);
  if (layout.deviceMemory)
    out.push('', `Device memory (maxmem): \`${formatInterval(layout.deviceMemory)}\` (${formatSize(intervalSize(layout.deviceMemory))})`);
  if (layout.maxUsedGpa !== undefined) {
    const given = physBitsOf(m);
    const bits = given?.bits;
    const why = given?.why ? ` (${given.why})` : '';
    const check =
      bits === undefined
        ? "phys-bits not given: -cpu host or max, or host-phys-bits on, under KVM take the host's, not known here"
        : physBitsError(layout, bits)
          ? `phys-bits ${bits}${why} is too low: QEMU exits with "${physBitsError(layout, bits)}"`
          : `phys-bits ${bits}${why} reaches ${hex((1n << BigInt(bits)) - 1n)}`;
    out.push('', `Highest guest-physical address used: \`${hex(layout.maxUsedGpa)}\`; ${check}.`);
  }
  return out.join('\n');
}
