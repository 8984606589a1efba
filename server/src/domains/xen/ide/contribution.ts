/** What the Xen domain shows in the editor: hovers on Xen hosts, domains and balloon/free steps. */
import type { IdeParts } from '../../../ide/analysis';
import { XEN_KEYWORDS } from './keywords';
import { XEN_FILLERS } from './completion';
import { domainHover, p2mAt, p2mHover, xenHover } from './xenHover';

export const XEN_IDE: IdeParts = {
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
  symbolHover(a, sym) {
    if (sym.kind === 'domain') return domainHover(a, sym);
    const x = a.model.xens.get(sym.name);
    return x && x.sym === sym ? xenHover(a, x) : undefined;
  },
  statementHover(a, uri, offset) {
    const c = p2mAt(a, uri, offset);
    return c && { markdown: p2mHover(c), span: c.step.step.span };
  },
};
