/** What the Xen domain shows in the editor: hovers on Xen hosts, domains and balloon/free steps. */
import type { IdeParts } from '../../../ide/analysis';
import { XEN_KEYWORDS } from './keywords';
import { XEN_FILLERS } from './completion';
import { domainHover, domainRamLines, p2mAt, p2mHover, xenHover, xenReleaseAt } from './xenHover';
import type { Interval } from '../../../model';
import { releaseHover } from '../../../ide/versionHover';

export const XEN_IDE: IdeParts = {
  looks: {
    xen: { token: 'namespace', outline: 'Namespace' },
    domain: { token: 'class', outline: 'Class', completion: 'Class' },
  },
  keywords: XEN_KEYWORDS,
  slotFillers: XEN_FILLERS,
  hoverKinds: ['xen', 'domain'],
  symbolDetails(model, out) {
    for (const x of model.xens.values()) {
      if (x.platform) out.set(x.sym, `on ${x.platform.sym.name}`);
      for (const d of x.domains.values()) out.set(d.sym, [d.isDom0 ? 'dom0' : 'domU', d.mode].filter(Boolean).join(', '));
    }
  },
  addressDeclarations: (model) => [[...model.xens.values()]],
  addressContext(a, decl) {
    for (const x of a.model.xens.values()) if (x.decl === decl) return { platform: x.platform };
    return undefined;
  },
  hostRanges(a, p) {
    const out: { what: string; range: Interval }[] = [];
    for (const x of a.model.xens.values())
      if (x.platform === p) for (const r of x.ranges) out.push({ what: `Xen ${x.sym.name}'s own memory (xen-range)`, range: r.range });
    return out;
  },
  addressLines: domainRamLines,
  symbolHover(a, sym) {
    if (sym.kind === 'domain') return domainHover(a, sym);
    const x = a.model.xens.get(sym.name);
    return x && x.sym === sym ? xenHover(a, x) : undefined;
  },
  statementHover(a, uri, offset) {
    const c = p2mAt(a, uri, offset);
    if (c) return { markdown: p2mHover(c), span: c.step.step.span };
    const r = xenReleaseAt(a, uri, offset);
    return r && { markdown: releaseHover('xen', r.xen.release, `Xen host ${r.xen.sym.name}`), span: r.span };
  },
};
