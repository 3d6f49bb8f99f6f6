import type { BatchObservableCallback, Meter, MeterProvider, Observable } from '@opentelemetry/api';
import { SCOPE_NAME } from './names.js';

/**
 * Observable instruments registered on one meter at a time: re-binding to another provider
 * drops the callback from the old one, so a provider set twice never reports twice.
 */
export class MeterBinding {
  private bound: { meter: Meter; callback: BatchObservableCallback; observables: Observable[] } | undefined;

  constructor(
    private readonly version: string,
    private readonly create: (meter: Meter) => { observables: Observable[]; callback: BatchObservableCallback },
  ) {}

  bind(provider: MeterProvider): void {
    const meter = provider.getMeter(SCOPE_NAME, this.version);
    if (this.bound?.meter === meter) return;
    this.unbind();
    const { observables, callback } = this.create(meter);
    meter.addBatchObservableCallback(callback, observables);
    this.bound = { meter, callback, observables };
  }

  unbind(): void {
    const b = this.bound;
    if (!b) return;
    b.meter.removeBatchObservableCallback(b.callback, b.observables);
    this.bound = undefined;
  }
}
