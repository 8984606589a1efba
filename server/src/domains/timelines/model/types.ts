/** Timelines and their steps, resolved: their part of the model. */
import type * as A from '@iommu-lens/grammar';
import type { ResolvedStep, Sym } from '../../../model/types';

export interface Timeline {
  sym: Sym;
  decl: A.TimelineDecl;
  steps: ResolvedStep[];
}

declare module '../../../model/types' {
  interface SymbolKinds {
    timeline: true;
  }
  interface Model {
    timelines: Map<string, Timeline>;
  }
}
