/**
 * A budget of work for one engine in one analysis (issue 22): an engine whose input could
 * make it cost more than its input's size (every guest against every host of a pool) counts
 * what it does, stops once the budget is spent and says so in a finding, keeping what it
 * found so far. The units are the engine's own (a host probed, a region merged).
 */
export class Budget {
  /** Units spent so far; may pass `limit` by the last charge. */
  spent = 0;

  constructor(readonly limit: number) {}

  /** Charges `units`; false once the budget is spent (the charge counts either way). */
  take(units = 1): boolean {
    this.spent += units;
    return this.spent <= this.limit;
  }

  get exhausted(): boolean {
    return this.spent > this.limit;
  }
}
