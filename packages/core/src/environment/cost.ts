import type { MatineeConfig } from '../config/config.ts';

/** Fargate prices per hour (Linux/x86, us-east-1, late 2026). Configurable: regions and Spot vary. */
export interface FargatePrices {
  vcpuHour: number;
  gbHour: number;
  spotVcpuHour: number;
  spotGbHour: number;
}

export const DEFAULT_PRICES: FargatePrices = {
  vcpuHour: 0.04048,
  gbHour: 0.004445,
  spotVcpuHour: 0.012144,
  spotGbHour: 0.0013335,
};

/** Dollars per hour for one task of `size`. */
export function hourlyCost(
  size: MatineeConfig['size'],
  spot: boolean,
  prices: FargatePrices = DEFAULT_PRICES,
): number {
  const vcpu = size.cpu / 1024;
  const gb = size.memory / 1024;
  return spot
    ? vcpu * prices.spotVcpuHour + gb * prices.spotGbHour
    : vcpu * prices.vcpuHour + gb * prices.gbHour;
}

export function costOf(
  seconds: number,
  size: MatineeConfig['size'],
  spot: boolean,
  prices?: FargatePrices,
): number {
  return (seconds / 3600) * hourlyCost(size, spot, prices);
}

/**
 * EFS Standard storage in us-east-1 (late 2026), dollars per GB-month: what the data in an environment's
 * volumes costs, asleep or awake, until the pull request closes. Matinee cannot see how much each volume
 * holds (EFS meters the file system, not access points), so it quotes the rate.
 */
export const EFS_STANDARD_GB_MONTH = 0.3;
