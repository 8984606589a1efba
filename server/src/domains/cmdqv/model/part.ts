/** CMDQV's part of the model: VINTFs (declared before guests, resolved after them), command blocks, an IOMMU's `cmdqv`. */
import type { ModelPart } from '../../../model/part';
import { allVintfs, cmdqvSettings, commands, declareVintf, resolveVintf, viommuVia } from './cmdqv';

export const CMDQV_MODEL: ModelPart = {
  kinds: { vintf: { noun: 'VINTF', global: { plural: 'VINTFs' } } },
  maps: ['vintfs'],
  lists: ['commands'],
  passes: {
    // A guest's vIOMMU names its VINTF; the VINTF names its guest, so it is resolved after guests.
    'before-guests': { decls: { vintf: declareVintf } },
    'after-guests': {
      after: (ctx) => {
        for (const v of allVintfs(ctx)) resolveVintf(ctx, v);
      },
    },
    last: { decls: { commands } },
  },
  items: { iommuBody: { cmdqv: cmdqvSettings }, guestBody: { viommu: viommuVia } },
  singletons: { iommuBody: { cmdqv: 'cmdqv' } },
};
