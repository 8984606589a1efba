/** Xen's part of the model: Xen hosts and their domains, resolved after guests, and the `balloon` and `free` steps. */
import type * as A from '@iommu-lens/grammar';
import type { ModelPart } from '../../../model/part';
import { article, replace, type Scope } from '../../../model/scope';
import type { Guest, ResolvedStep } from '../../../model/types';
import type { Xen } from './types';
import { xen } from './xen';

export const XEN_MODEL: ModelPart = {
  kinds: {
    xen: { noun: 'Xen host', global: { plural: 'Xen hosts' } },
    domain: { noun: 'Xen domain' },
  },
  maps: ['xens'],
  passes: { 'after-guests': { decls: { xen } } },
  // A timeline names a domain bare (`balloon dom0 ...`).
  bareNames: domainNames,
  steps: { balloon: { resolve: p2mStep }, free: { resolve: p2mStep } },
};

/** `balloon T [RANGE]` / `free T RANGE`: the guest or Xen domain, and the range. */
function p2mStep(ctx: Scope, uri: string, step: A.P2mStep, r: ResolvedStep): void {
  p2mTarget(ctx, uri, step.target, r);
  r.range = ctx.range(uri, step.range);
}

/** `balloon T` / `free T`: a guest, or a Xen domain (`XEN.DOMAIN`, or bare if unique). */
function p2mTarget(ctx: Scope, uri: string, ref: A.Ref | undefined, r: ResolvedStep): void {
  if (!ref) return;
  if (ref.qualifier) {
    const x = ctx.global(uri, { name: ref.qualifier, span: ref.qualifier.span }, ['xen']) as Xen | undefined;
    if (!x) return;
    const dom = x.domains.get(ref.name.text);
    if (dom) {
      ctx.refer(uri, ref.name.span, dom.sym);
      r.domain = dom;
    } else ctx.unknown(uri, ref.name, `no domain '${ref.name.text}' on Xen host ${x.sym.name}`, () => x.domains.keys());
    r.platform = x.platform;
    return;
  }
  const g = ctx.globals.get(ref.name.text);
  if (g?.sym.kind === 'guest') {
    r.guest = g.entity as Guest;
    r.platform = r.guest.platform;
    ctx.refer(uri, ref.name.span, g.sym);
    return;
  }
  const domains = [...ctx.model.xens.values()].flatMap((x) =>
    x.domains.has(ref.name.text) ? [{ x, d: x.domains.get(ref.name.text)! }] : [],
  );
  if (domains.length === 1) {
    ctx.refer(uri, ref.name.span, domains[0]!.d.sym);
    r.domain = domains[0]!.d;
    r.platform = domains[0]!.x.platform;
  } else if (domains.length > 1) {
    ctx.report(
      'ambiguous-name',
      uri,
      ref.span,
      `'${ref.name.text}' is a domain of ${domains.map((e) => e.x.sym.name).join(' and ')}; write XEN.${ref.name.text}`,
      { fixes: domains.map((e) => replace(`Write ${e.x.sym.name}.${ref.name.text}`, uri, ref.span, `${e.x.sym.name}.${ref.name.text}`)) },
    );
  } else if (g) {
    ctx.report('wrong-kind', uri, ref.name.span, `'${ref.name.text}' is ${article(ctx.noun(g.sym.kind))}, not a guest or Xen domain`);
  } else {
    const candidates = () => {
      const names = ctx.workspace();
      return [...names.globalsOf(['guest']), ...names.bare()];
    };
    ctx.unknown(uri, ref.name, `unknown guest or Xen domain '${ref.name.text}'`, candidates);
  }
}

function domainNames(d: A.Decl): string[] {
  if (d.kind !== 'xen') return [];
  const out: string[] = [];
  for (const item of d.items)
    if (item.kind === 'dom0') out.push('dom0');
    else if (item.kind === 'domain' && item.name) out.push(item.name.text);
  return out;
}
