import { deriveRunId, newId } from '../src/runtime/ids.js';

describe('ids', () => {
  it('should lead fresh ids with their creation time, so later ids sort after earlier ones', () => {
    const earlier = newId('jrn', Date.UTC(2026, 0, 1));
    const later = newId('jrn', Date.UTC(2026, 0, 1) + 1);
    expect(earlier).toMatch(/^jrn_[0-9a-f]{32}$/);
    expect(earlier < later).toBe(true);
    expect(newId('jrn', 5)).not.toBe(newId('jrn', 5));
  });

  it('should derive the same run id from the same entry, flow and trigger, keeping the entry\'s time', () => {
    const entry = newId('jrn', Date.UTC(2026, 0, 1));
    const run = deriveRunId(entry, 'flow', 'trigger');
    expect(run).toBe(deriveRunId(entry, 'flow', 'trigger'));
    expect(run).not.toBe(deriveRunId(entry, 'flow', 'other'));
    expect(run.slice(4, 16)).toBe(entry.slice(4, 16));
    expect(deriveRunId(newId('jrn', Date.UTC(2026, 0, 2)), 'flow', 'trigger') > run).toBe(true);
    // An entry id from elsewhere (an effect outcome, an older store) still gives a stable id.
    expect(deriveRunId('jrn_fx_run_x_1', 'flow', 'trigger')).toMatch(/^run_[A-Za-z0-9_-]{22}$/);
  });
});
