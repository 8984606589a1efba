export { simulate, type Simulation } from './simulate';
export type { GuestState } from './guests';
export { PlatformRegions, GroupRegions, groupLabel, type IommuGroup } from './groups';
export { mergeRegions, sysfsLine, usableRanges, type MergedRegion, type Resv } from './regions';
export { guestRam, type GuestRamRange } from './qemu';
export { placeDoorbell } from './doorbell';
export { DEFAULT_ADDRESS_WIDTH, MSI_IOVA_WINDOW } from './builtins';
