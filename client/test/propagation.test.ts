import { describe, expect, it } from 'vitest';
import { metricValues, propagationOf } from '../src/propagation.js';

const PAGE = `# HELP ban_sync_last_event_lag_seconds Time from publish to apply of the last ban event applied
# TYPE ban_sync_last_event_lag_seconds gauge
ban_sync_last_event_lag_seconds{service="orders"} 0.0042
ban_sync_caught_up{service="orders"} 1
ban_events_applied_total{service="orders",subject="auth.user.banned",result="applied"} 2
ban_events_applied_total{service="orders",subject="auth.user.unbanned",result="applied"} 1
ban_sync_last_event_lag_seconds_bogus 9
`;

describe('ban propagation from a metrics page', () => {
  it('reads a gauge with or without labels, and no metric whose name merely starts the same', () => {
    expect(metricValues(PAGE, 'ban_sync_last_event_lag_seconds')).toEqual([0.0042]);
    expect(metricValues('plain 3\nplain{a="b"} NaN\n', 'plain')).toEqual([3]);
    expect(propagationOf('orders', PAGE)).toEqual({ name: 'orders', lagSeconds: 0.0042, caughtUp: true });
  });

  it('says when no ban event was applied yet, and when a page has no ban sync at all', () => {
    const none = PAGE.replace(/ban_events_applied_total.*\n/g, '').replace('caught_up{service="orders"} 1', 'caught_up{service="orders"} 0');
    expect(propagationOf('orders', none)).toEqual({ name: 'orders', lagSeconds: undefined, caughtUp: false });
    expect(propagationOf('x', '<html>not metrics</html>')).toEqual({ name: 'x', unavailable: 'no ban sync metrics' });
  });
});
