import {
  compile,
  messageReceived,
  nodeCompleted,
  nodeFailed,
  runCancelled,
  start,
  step,
  timerFired,
  type Catalogue,
  type Effect,
  type FlowDefinition,
  type FlowEvent,
  type JsonValue,
  type OutboundMessage,
  type RunSnapshot,
  type Scenario,
  type StepResult,
} from '@convoflow/engine';

/** What a replayed run did. */
export interface Replay {
  sent: OutboundMessage[];
  path: string[];
  vars: Record<string, JsonValue>;
  status: StepResult['status'];
  /** How many times the snapshot went through JSON before a step. */
  restores: number;
}

const DEFAULT_START = '2024-01-01T00:00:00.000Z';

/**
 * Plays a scenario through `start`/`step` directly, as a durable runtime would: messages are
 * acknowledged as sent (or mocked), actions answered from the scenario's mocks, timers fired in due
 * order as the clock advances. With `restore`, every step starts from
 * `JSON.parse(JSON.stringify(snapshot))`, as if the run had been stored and loaded in between.
 * `expect` steps are skipped: this only records what the run does.
 */
export function replay(flow: FlowDefinition, catalogue: Catalogue, scenario: Scenario, restore: boolean): Replay {
  const compiled = compile(flow, catalogue);
  let clock = Date.parse(scenario.startAt ?? DEFAULT_START);
  const out: Replay = { sent: [], path: [], vars: {}, status: 'running', restores: 0 };
  const timers = new Map<string, number>();
  const calls = new Map<string, number>();
  let lastPending: string | undefined;
  let inbound = 0;

  const load = (snapshot: RunSnapshot): RunSnapshot => {
    if (!restore) return snapshot;
    out.restores++;
    return JSON.parse(JSON.stringify(snapshot)) as RunSnapshot;
  };
  const absorb = (r: StepResult): void => {
    for (const entry of r.path) {
      // A wait node is listed once: when entered, not again when it leaves in a later step.
      if (lastPending === entry.nodeId && entry.output !== undefined) lastPending = undefined;
      else {
        out.path.push(entry.nodeId);
        lastPending = entry.output === undefined ? entry.nodeId : undefined;
      }
    }
    for (const effect of r.effects) {
      if (effect.type === 'scheduleTimer') timers.set(effect.timerId, effect.dueAt);
      if (effect.type === 'cancelTimer') timers.delete(effect.timerId);
    }
    out.vars = r.vars;
    out.status = r.status;
  };
  const outcome = (effect: Extract<Effect, { type: 'sendMessage' | 'executeNode' }>): FlowEvent => {
    const mocks = scenario.mocks?.[effect.nodeId];
    let mock = Array.isArray(mocks) ? mocks[calls.get(effect.nodeId) ?? 0] : mocks;
    calls.set(effect.nodeId, (calls.get(effect.nodeId) ?? 0) + 1);
    if (!mock && effect.type === 'sendMessage') mock = { output: 'sent' };
    if (!mock) throw new Error(`no mock for node "${effect.nodeId}"`);
    const base = { nodeId: effect.nodeId, seq: effect.seq, at: clock };
    return 'error' in mock ? nodeFailed({ ...base, error: mock.error }) : nodeCompleted({ ...base, ...mock });
  };

  let result = start(compiled, {
    runId: scenario.runId ?? 'simulation',
    at: clock,
    trigger: scenario.trigger ?? {},
    contact: scenario.contact ?? {},
    ...(scenario.vars ? { vars: scenario.vars } : {}),
  });
  absorb(result);
  const deliver = (...events: FlowEvent[]): void => {
    const queue: FlowEvent[] = [...events];
    while (queue.length > 0) {
      const next = step(compiled, load(result.snapshot), queue.shift() as FlowEvent);
      if (next.ignored) continue;
      result = next;
      absorb(result);
      queue.push(...pendingOutcomes(result));
    }
  };
  const pendingOutcomes = (r: StepResult): FlowEvent[] =>
    r.effects.flatMap((effect) => {
      if (effect.type !== 'sendMessage' && effect.type !== 'executeNode') return [];
      if (effect.type === 'sendMessage') out.sent.push(effect.message);
      return [outcome(effect)];
    });

  deliver(...pendingOutcomes(result));
  for (const s of scenario.steps ?? []) {
    if ('send' in s) {
      const body = typeof s.send === 'string' ? { text: s.send } : s.send;
      const from = typeof scenario.contact?.id === 'string' ? scenario.contact.id : 'contact';
      const channel = scenario.channel ?? flow.settings.channels[0] ?? 'simulator';
      deliver(messageReceived({ id: `replay-${++inbound}`, channel, from, sentAt: clock, ...body }, clock));
    } else if ('advance' in s) {
      const until = clock + isoDurationMs(s.advance);
      for (let due = nextDue(timers, until); due; due = nextDue(timers, until)) {
        timers.delete(due[0]);
        clock = due[1];
        deliver(timerFired(due[0], clock));
      }
      clock = until;
    } else if ('cancel' in s) {
      deliver(runCancelled(s.cancel, clock));
    }
  }
  return out;
}

function nextDue(timers: Map<string, number>, until: number): [string, number] | undefined {
  let next: [string, number] | undefined;
  for (const [id, dueAt] of timers) if (dueAt <= until && (!next || dueAt < next[1])) next = [id, dueAt];
  return next;
}

/** Milliseconds of the ISO-8601 durations scenarios use (days, hours, minutes, seconds). */
function isoDurationMs(duration: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  if (!m) throw new Error(`unsupported duration ${duration}`);
  const [, d = '0', h = '0', min = '0', s = '0'] = m;
  return ((Number(d) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1_000;
}
