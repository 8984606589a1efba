/** Pools: the platforms a guest must fit on all of. */
import type * as A from '@iommu-lens/grammar';
import type { ModelPart } from '../../../model/part';
import type { Scope } from '../../../model/scope';
import type { Platform } from '../../../model/types';
import type { Pool } from './types';

export function pool(ctx: Scope, uri: string, d: A.PoolDecl): void {
  if (!d.name) return;
  const p: Pool = { sym: ctx.sym('pool', uri, d.name, d.span), decl: d, hosts: [] };
  if (ctx.declareGlobal(p.sym, p)) ctx.model.pools.set(p.sym.name, p);
  const seen = new Map<Platform, A.Span>();
  for (const h of d.hosts) {
    const host = ctx.global(uri, h, ['platform']) as Platform | undefined;
    if (!host) continue;
    if (seen.has(host)) {
      ctx.report('duplicate-setting', uri, h.span, `platform ${host.sym.name} is already in pool ${p.sym.name}`, {
        related: [{ uri, span: seen.get(host)!, message: 'listed here first' }],
      });
      continue;
    }
    seen.set(host, h.span);
    p.hosts.push(host);
  }
}

export const POOLS_MODEL: ModelPart = {
  kinds: { pool: { noun: 'pool', global: { plural: 'pools' } } },
  maps: ['pools'],
  passes: { 'after-guests': { decls: { pool } } },
};
