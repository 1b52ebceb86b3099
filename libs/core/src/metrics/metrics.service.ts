import { Injectable } from '@nestjs/common';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';

/** Seconds buckets for request-like durations (5 ms … 60 s). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The process's Prometheus registry (prom-client), with the default process metrics. Libs get
 * or create their metrics here by name, so one definition serves however many modules ask;
 * each application has its own registry (tests boot several in one process). Label values must
 * come from bounded sets: route templates, model names, tenant ids, never user ids or text.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  private readonly made = new Map<string, Counter | Gauge | Histogram>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
  }

  counter<L extends string>(config: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
    return this.once(config.name, () => new Counter({ ...config, registers: [this.registry] }));
  }

  gauge<L extends string>(config: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
    return this.once(config.name, () => new Gauge({ ...config, registers: [this.registry] }));
  }

  histogram<L extends string>(config: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L> {
    return this.once(
      config.name,
      () => new Histogram({ buckets: DURATION_BUCKETS, ...config, registers: [this.registry] }),
    );
  }

  private once<M extends Counter | Gauge | Histogram>(name: string, make: () => M): M {
    let metric = this.made.get(name) as M | undefined;
    if (!metric) this.made.set(name, (metric = make()));
    return metric;
  }
}
