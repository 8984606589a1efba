/** SEV's part of the model: a guest's `confidential` statement, and its timeline steps (`launch-update`, `convert`). */
import type * as A from '@iommu-lens/grammar';
import type { ModelPart } from '../../../model/part';
import type { Scope } from '../../../model/scope';
import type { Guest } from '../../../model/types';

declare module '../../../model/types' {
  interface Guest {
    /** `confidential sev-snp|tdx { vtom ADDR }`. */
    confidential?: { stmt: A.ConfidentialStmt; technology?: 'sev-snp' | 'tdx'; vtom?: bigint };
  }
}

function confidential(ctx: Scope, uri: string, g: Guest, item: A.GuestItem): void {
  if (item.kind !== 'confidential') return;
  let vtom: bigint | undefined;
  for (const v of item.items) if (v.kind === 'vtom') vtom = ctx.num(uri, v.value);
  ctx.singletons(uri, item.items, ['vtom'], `confidential settings of guest ${g.sym.name}`);
  g.confidential = { stmt: item, technology: item.technology?.text as 'sev-snp' | 'tdx' | undefined, vtom };
}

export const SEV_MODEL: ModelPart = {
  kinds: {},
  passes: {},
  items: { guestBody: { confidential } },
  singletons: { guestBody: { confidential: 'confidential' } },
  steps: {
    'launch-update': { guest: (s) => s.guest },
    convert: { device: (s) => s.device },
  },
};
