/**
 * The core's model part: platforms and guests, the names they declare, and the lists every
 * model has. Domains add theirs through the registry (part.ts says how).
 */
import { declareGuest } from './guest';
import type { ModelPart } from './part';
import { declarePlatform, resolvePlatform } from './platform';

export const CORE_MODEL: ModelPart = {
  kinds: {
    platform: { noun: 'platform', global: { plural: 'platforms' } },
    guest: { noun: 'guest', global: { plural: 'guests' } },
    device: { noun: 'device', group: 'member' },
    iommu: { noun: 'IOMMU', group: 'member' },
    ram: { noun: 'RAM region', group: 'member' },
    reserved: { noun: 'reserved region', group: 'member' },
    'guest-ram': { noun: 'guest RAM region', group: 'local' },
    viommu: { noun: 'vIOMMU', group: 'local' },
    iommufd: { noun: 'iommufd instance' },
  },
  maps: ['platforms', 'guests'],
  lists: ['symbols', 'references', 'unresolved'],
  passes: {
    platforms: {
      decls: { platform: declarePlatform },
      // Members may refer to members declared below them.
      after: (ctx) => {
        for (const p of ctx.allPlatforms) resolvePlatform(ctx, p);
      },
    },
    guests: { decls: { guest: declareGuest } },
  },
  // A block's statements given at most once, with the word each is written as.
  singletons: {
    iommuBody: { 'address-width': 'address-width', 'msi-mode': 'msi', 'page-sizes': 'page-sizes', 'ht-range-ignore': 'ht-range-ignore' },
    deviceBody: { bdf: 'bdf', 'device-iommu': 'iommu', group: 'group', 'vf-of': 'vf-of', class: 'class' },
    guestBody: { machine: 'machine', 'msi-window': 'msi-window', container: 'container' },
  },
};
