/** The hover on a pool: what a safe guest map must avoid on every host of the pool. */
import { formatInterval, formatSize, hex } from '../../../model';
import type { Pool } from '../model/types';
import type { PoolLayout } from '../sim/pools';
import { capped, codeBlock } from '../../../ide/markdown';

export function poolHover(p: Pool, l: PoolLayout): string {
  const out = [
    `**pool ${p.sym.name}**: ${p.hosts.map((h) => h.sym.name).join(', ')}`,
    '',
    'A guest keeps the memory map it started with, so its RAM must avoid what every host reserves (RULES §4):',
    codeBlock(capped(l.avoid.map(formatInterval), 30)),
    '',
    `RAM stays below \`${hex(l.limit)}\` (the narrowest IOMMU aperture), aligned ` +
      `to ${formatSize(l.align)}. \`iommu-lens layout --pool ${p.sym.name} --memory SIZE\` prints a safe map.`,
  ];
  return out.join('\n');
}
