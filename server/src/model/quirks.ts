/**
 * Device quirks the simulator models: a device's `quirk` statement names them (platform.ts
 * checks the names), and the engines that meet the behaviour read them.
 */
export const DEVICE_QUIRKS: Readonly<Record<string, string>> = {
  // Seed 001: the test NIC counts a Command write with BME=0 as clearing BME even when it is already 0.
  'bme-zero-write-clears':
    'a Command-register write with BME=0 counts as clearing Bus Master Enable, even when BME is already 0 (RULES §5.5)',
};
