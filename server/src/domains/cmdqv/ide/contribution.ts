/** What the CMDQV domain shows in the editor: hovers on VINTFs and on each SMMU command. */
import type { IdeParts } from '../../../ide/analysis';
import { CMDQV_KEYWORDS } from './keywords';
import { CMDQV_FILLERS } from './completion';
import { commandAt, commandHover, vintfHover } from './cmdqvHover';

export const CMDQV_IDE: IdeParts = {
  looks: { vintf: { token: 'interface', outline: 'Interface', completion: 'Interface' } },
  keywords: CMDQV_KEYWORDS,
  slotFillers: CMDQV_FILLERS,
  iommuNote: (i) => (i.cmdqv ? `CMDQV${i.cmdqv.vintfs !== undefined ? ` with ${i.cmdqv.vintfs} VINTFs` : ''}.` : undefined),
  hoverKinds: ['vintf'],
  symbolDetails(model, out) {
    for (const v of model.vintfs.values())
      if (v.iommu) out.set(v.sym, `on ${v.iommu.sym.name}${v.guest ? ` for ${v.guest.sym.name}` : ''}`);
  },
  symbolHover(a, sym) {
    const v = a.model.vintfs.get(sym.name);
    return v && v.sym === sym ? vintfHover(a, v) : undefined;
  },
  statementHover(a, uri, offset) {
    const cmd = commandAt(a, uri, offset);
    return cmd && { markdown: commandHover(cmd), span: cmd.cmd.node.span };
  },
};
