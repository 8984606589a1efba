/** SMMU CMDQV: VINTFs (their IOMMU, guest and streams) and command blocks. */
import type * as A from '@iommu-lens/grammar';
import type { Scope } from './scope';
import type { CommandsBlock, Guest, Iommu, Vintf } from './types';

export function declareVintf(ctx: Scope, uri: string, d: A.VintfDecl): void {
  if (!d.name) return;
  const v: Vintf = { sym: ctx.sym('vintf', uri, d.name, d.span), decl: d, streams: [] };
  if (ctx.declareGlobal(v.sym, v)) ctx.model.vintfs.set(v.sym.name, v);
  ctx.allVintfs.push(v);
}

/** After guests are declared: the VINTF's guest, its IOMMU there and its streams. */
export function resolveVintf(ctx: Scope, v: Vintf): void {
  const uri = v.sym.uri;
  const d = v.decl;
  v.guest = ctx.global(uri, d.guest, ['guest']) as Guest | undefined;
  const platform = v.guest?.platform;
  v.iommu = ctx.member(uri, d.iommu, platform, ['iommu']) as Iommu | undefined;
  for (const item of d.items) {
    if (item.kind === 'stream') {
      v.streams.push({ stmt: item, device: ctx.device(uri, item.device, platform), virtualSid: ctx.count(uri, item.virtualSid, 0n, 0xffff_ffffn, 'virtual stream ID') });
    } else if (item.kind === 'vmid') {
      ctx.count(uri, item.value, 0n, 0xffffn, 'VMID');
    }
  }
  ctx.singletons(uri, d.items, ['owner', 'vmid', 'hyp-own'], `VINTF ${v.sym.name}`);
}

export function commands(ctx: Scope, uri: string, d: A.CommandsDecl): void {
  const block: CommandsBlock = { uri, decl: d, vintf: ctx.global(uri, d.vintf, ['vintf']) as Vintf | undefined };
  ctx.model.commands.push(block);
  for (const b of d.batches) {
    if (b.kind !== 'batch') continue;
    for (const c of b.commands) {
      if (c.kind !== 'smmu-command') continue;
      for (const op of c.operands) if (/^[0-9]/.test(op.text)) ctx.num(uri, op);
    }
  }
}
