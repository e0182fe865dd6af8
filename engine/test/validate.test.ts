import { assertValidFlow, ERROR_CODES, FlowValidationError, validate } from '../src/index.js';
import type { Diagnostic, FlowDefinition } from '../src/index.js';
import { validateCatalogue, validFlow } from './fixtures/validate-catalogue.js';

/** Validates and returns the only diagnostic of `code`, failing when there is none or several. */
function only(flow: unknown, code: Diagnostic['code']): Diagnostic {
  const found = validate(flow, validateCatalogue).filter((d) => d.code === code);
  expect(found.map((d) => d.message)).toHaveLength(1);
  return found[0]!;
}

const codes = (flow: unknown): string[] => validate(flow, validateCatalogue).map((d) => d.code);

/** Builds a flow from the valid one, changed by `edit`. */
function flowWith(edit: (flow: FlowDefinition) => void): FlowDefinition {
  const flow = validFlow();
  edit(flow);
  return flow;
}

const node = (flow: FlowDefinition, id: string) => flow.nodes.find((n) => n.id === id)!;

describe('validate: a valid flow', () => {
  it('should report nothing for a flow with every output that matters wired', () => {
    expect(validate(validFlow(), validateCatalogue)).toEqual([]);
  });

  it('should accept a loop that goes through a node that waits', () => {
    // ask_email -> invalid -> ask_email, and menu -> pause -> jump back to ask_email.
    expect(codes(validFlow())).not.toContain('LOOP_WITHOUT_WAIT');
  });

  it('should not throw from assertValidFlow for a valid flow, and narrow its type', () => {
    const flow: unknown = validFlow();
    assertValidFlow(flow, validateCatalogue);
    expect(flow.nodes).toHaveLength(8);
  });

  it('should name a node without a label by its id', () => {
    const d = only(
      flowWith((f) => {
        delete node(f, 'ask_email').label;
        node(f, 'ask_email').params.question = '';
      }),
      'INVALID_NODE_PARAMS',
    );
    expect(d.message).toBe('Node "ask_email": the question text is empty');
  });
});

describe('validate: one diagnostic per code', () => {
  it('should report SCHEMA_VIOLATION on a node field, tied to the node', () => {
    const d = only(
      flowWith((f) => {
        (node(f, 'welcome').position as { x: unknown }).x = 'left';
      }),
      'SCHEMA_VIOLATION',
    );
    expect(d).toEqual({
      severity: 'error',
      code: 'SCHEMA_VIOLATION',
      path: '/nodes/0/position/x',
      nodeId: 'welcome',
      message: 'Node "Welcome": the horizontal position must be a number',
    });
  });

  it('should report SCHEMA_VIOLATION on a flow setting, tied to no node', () => {
    const d = only(
      flowWith((f) => {
        f.settings.defaultReplyTimeout = '24 hours';
      }),
      'SCHEMA_VIOLATION',
    );
    expect(d.path).toBe('/settings/defaultReplyTimeout');
    expect(d.nodeId).toBeUndefined();
    expect(d.severity).toBe('error');
    expect(d.message).toBe('Flow settings: the default reply timeout must be a duration such as PT24H (24 hours), PT30M (30 minutes) or P2D (2 days)');
  });

  it('should report SCHEMA_VIOLATION for trigger params of the wrong shape for their type', () => {
    const flow = flowWith((f) => {
      f.triggers = [{ id: 't1', type: 'webhook', params: { secret: 'short' } }];
    });
    const d = only(flow, 'SCHEMA_VIOLATION');
    expect(d.path).toBe('/triggers/0/params/secret');
    expect(d.message).toBe('Trigger #1 (webhook): the signing secret must be at least 16 characters long');
  });

  it('should report UNKNOWN_NODE_TYPE at the node type', () => {
    const d = only(
      flowWith((f) => {
        node(f, 'pause').type = 'teleport';
      }),
      'UNKNOWN_NODE_TYPE',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/nodes/5/type', nodeId: 'pause' });
    expect(d.message).toBe('Node "Pause" has the type "teleport", which this workspace does not know');
  });

  it('should report UNKNOWN_NODE_VERSION with the versions that exist', () => {
    const d = only(
      flowWith((f) => {
        node(f, 'welcome').typeVersion = 7;
      }),
      'UNKNOWN_NODE_VERSION',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/nodes/0/typeVersion', nodeId: 'welcome' });
    expect(d.message).toContain('Node "Welcome" uses version 7 of "send_text"');
    expect(d.message).toContain('available: 1, 2');
  });

  it('should report INVALID_NODE_PARAMS in the words of the field title', () => {
    const d = only(
      flowWith((f) => {
        node(f, 'ask_email').params.question = '';
      }),
      'INVALID_NODE_PARAMS',
    );
    expect(d).toEqual({
      severity: 'error',
      code: 'INVALID_NODE_PARAMS',
      path: '/nodes/1/params/question',
      nodeId: 'ask_email',
      message: 'Node "Ask email": the question text is empty',
    });
  });

  it('should report INVALID_NODE_PARAMS at a missing nested setting', () => {
    const d = only(
      flowWith((f) => {
        node(f, 'ask_email').params.saveTo = {};
      }),
      'INVALID_NODE_PARAMS',
    );
    expect(d.path).toBe('/nodes/1/params/saveTo/variable');
    expect(d.message).toBe('Node "Ask email": the variable is missing');
  });

  it('should report INVALID_NODE_PARAMS for a condition rule at the rule that is wrong, not every branch', () => {
    const found = validate(
      flowWith((f) => {
        node(f, 'check').params.rules = { all: [{ field: 'vars.email', operator: 'ends_with' }] };
      }),
      validateCatalogue,
    ).filter((d) => d.code === 'INVALID_NODE_PARAMS');
    expect(found).toEqual([
      {
        severity: 'error',
        code: 'INVALID_NODE_PARAMS',
        path: '/nodes/2/params/rules/all/0/value',
        nodeId: 'check',
        message: 'Node "Is it a work address?": the setting "rules.all.0.value" is missing',
      },
    ]);
  });

  it('should report DUPLICATE_NODE_ID at the second node with the id', () => {
    const d = only(
      flowWith((f) => {
        f.nodes.push({ id: 'thanks', type: 'end', typeVersion: 1, position: { x: 0, y: 0 }, label: 'Thanks again', params: {} });
      }),
      'DUPLICATE_NODE_ID',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/nodes/8/id', nodeId: 'thanks' });
    expect(d.message).toBe('Node "Thanks again" has the id "thanks", which another node already uses');
  });

  it('should report DUPLICATE_EDGE_ID at the second connection, with its source node', () => {
    const d = only(
      flowWith((f) => {
        f.edges[10]!.id = 'e1';
      }),
      'DUPLICATE_EDGE_ID',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/edges/10/id', nodeId: 'thanks', edgeId: 'e1' });
    expect(d.message).toBe('Connection "e1" (from node "Thanks") has the same id as another connection');
  });

  it('should report EDGE_SOURCE_MISSING, tied to the node the connection leads into', () => {
    const d = only(
      flowWith((f) => {
        f.edges[1]!.source = 'ghost';
      }),
      'EDGE_SOURCE_MISSING',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/edges/1/source', nodeId: 'check', edgeId: 'e2' });
    expect(d.message).toBe('Connection "e2" into node "Is it a work address?" starts at "ghost", a node that does not exist');
  });

  it('should report EDGE_TARGET_MISSING, tied to the node the connection starts at', () => {
    const d = only(
      flowWith((f) => {
        f.edges[0]!.target = 'ghost';
      }),
      'EDGE_TARGET_MISSING',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/edges/0/target', nodeId: 'welcome', edgeId: 'e1' });
    expect(d.message).toBe('Connection "e1" from node "Welcome" leads to "ghost", a node that does not exist');
  });

  it('should report UNKNOWN_OUTPUT for an output the node does not have', () => {
    const d = only(
      flowWith((f) => {
        f.edges[0]!.sourceOutput = 'delivered';
      }),
      'UNKNOWN_OUTPUT',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/edges/0/sourceOutput', nodeId: 'welcome', edgeId: 'e1' });
    expect(d.message).toContain('Node "Welcome" has no output "delivered" (its outputs: "sent", "window_closed", "failed")');
  });

  it('should report UNKNOWN_OUTPUT for a button that was removed, taking outputs from the param', () => {
    const d = only(
      flowWith((f) => {
        node(f, 'menu').params.buttons = [{ id: 'yes', title: 'Yes' }];
      }),
      'UNKNOWN_OUTPUT',
    );
    expect(d).toMatchObject({ path: '/edges/7/sourceOutput', nodeId: 'menu', edgeId: 'e8' });
    expect(d.message).toContain('Node "Menu" has no output "no" (its outputs: "yes", "timeout")');
  });

  it('should report OUTPUT_WIRED_TWICE at the second connection of the output', () => {
    const d = only(
      flowWith((f) => {
        f.edges.push({ id: 'e12', source: 'welcome', sourceOutput: 'sent', target: 'thanks' });
      }),
      'OUTPUT_WIRED_TWICE',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/edges/11', nodeId: 'welcome', edgeId: 'e12' });
    expect(d.message).toContain('The output "sent" of node "Welcome" is connected more than once');
  });

  it('should report DUPLICATE_OUTPUT when two buttons share an id', () => {
    const d = only(
      flowWith((f) => {
        node(f, 'menu').params.buttons = [
          { id: 'yes', title: 'Yes' },
          { id: 'no', title: 'No' },
          { id: 'yes', title: 'Sure' },
        ];
      }),
      'DUPLICATE_OUTPUT',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/nodes/4/params', nodeId: 'menu' });
    expect(d.message).toBe('Node "Menu" offers the output "yes" twice: give each item its own id');
  });

  it('should warn NO_TRIGGER for a flow nothing starts', () => {
    const d = only(
      flowWith((f) => {
        f.triggers = [];
      }),
      'NO_TRIGGER',
    );
    expect(d).toMatchObject({ severity: 'warning', path: '/triggers' });
    expect(d.nodeId).toBeUndefined();
  });

  it('should warn UNREACHABLE_NODE for a node no path leads to', () => {
    const d = only(
      flowWith((f) => {
        f.nodes.push({ id: 'orphan', type: 'send_text', typeVersion: 2, position: { x: 0, y: 0 }, label: 'Forgotten', params: { text: 'Hi' } });
      }),
      'UNREACHABLE_NODE',
    );
    expect(d).toEqual({
      severity: 'warning',
      code: 'UNREACHABLE_NODE',
      path: '/nodes/8',
      nodeId: 'orphan',
      message: 'Node "Forgotten" can never run: no path from the first node ("Welcome") leads to it',
    });
  });

  it('should count a node reached only through a jump as reachable', () => {
    const flow = flowWith((f) => {
      f.nodes = [
        { id: 'start', type: 'jump', typeVersion: 1, position: { x: 0, y: 0 }, label: 'Go', params: { target: 'later' } },
        { id: 'later', type: 'send_text', typeVersion: 2, position: { x: 0, y: 0 }, label: 'Later', params: { text: 'Hi' } },
        { id: 'bye', type: 'end', typeVersion: 1, position: { x: 0, y: 0 }, params: {} },
      ];
      f.edges = [{ id: 'e1', source: 'later', sourceOutput: 'sent', target: 'bye' }];
    });
    expect(validate(flow, validateCatalogue)).toEqual([]);
  });

  it('should report NO_ENTRY_NODE when every node has a connection into it', () => {
    const d = only(
      flowWith((f) => {
        f.edges.push({ id: 'e12', source: 'thanks', sourceOutput: 'failed', target: 'welcome' });
      }),
      'NO_ENTRY_NODE',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/nodes' });
    expect(d.message).toContain('no first node');
  });

  it('should report NO_ENTRY_NODE for a flow without nodes', () => {
    const d = only(
      flowWith((f) => {
        f.nodes = [];
        f.edges = [];
      }),
      'NO_ENTRY_NODE',
    );
    expect(d.message).toBe('The flow has no nodes yet: add a first node');
  });

  it('should report LOOP_WITHOUT_WAIT for a cycle of pure nodes, naming every node in it', () => {
    const flow = flowWith((f) => {
      f.nodes.push(
        { id: 'count', type: 'set_variable', typeVersion: 1, position: { x: 0, y: 0 }, label: 'Count', params: { variable: 'email', value: 'x' } },
        {
          id: 'again',
          type: 'condition',
          typeVersion: 1,
          position: { x: 0, y: 0 },
          label: 'Again?',
          params: { rules: { field: 'vars.email', operator: 'is_set' } },
        },
      );
      f.nodes.splice(6, 1); // the old jump "again"
      f.edges.splice(9, 1); // pause -> again
      f.edges.push(
        { id: 'l1', source: 'pause', sourceOutput: 'done', target: 'count' },
        { id: 'l2', source: 'count', sourceOutput: 'next', target: 'again' },
        { id: 'l3', source: 'again', sourceOutput: 'true', target: 'count' },
        { id: 'l4', source: 'again', sourceOutput: 'false', target: 'bye' },
      );
    });
    const d = only(flow, 'LOOP_WITHOUT_WAIT');
    expect(d).toMatchObject({ severity: 'error', path: '/nodes/7', nodeId: 'count' });
    expect(d.message).toContain('Node "Count" is in a loop with "Again?" in which no node waits');
  });

  it('should count a jump as a connection when looking for loops', () => {
    const flow = flowWith((f) => {
      f.nodes = [
        { id: 'hi', type: 'send_text', typeVersion: 2, position: { x: 0, y: 0 }, label: 'Hi', params: { text: 'Hi' } },
        { id: 'loop', type: 'jump', typeVersion: 1, position: { x: 0, y: 0 }, label: 'Round again', params: { target: 'loop' } },
      ];
      f.edges = [{ id: 'e1', source: 'hi', sourceOutput: 'sent', target: 'loop' }];
    });
    const d = only(flow, 'LOOP_WITHOUT_WAIT');
    expect(d).toMatchObject({ path: '/nodes/1', nodeId: 'loop' });
    expect(d.message).toContain('Node "Round again" leads back to itself without waiting');
  });

  it('should report REPLY_TIMEOUT_NOT_WIRED when a question has no timeout path', () => {
    const d = only(
      flowWith((f) => {
        f.edges.splice(3, 1);
      }),
      'REPLY_TIMEOUT_NOT_WIRED',
    );
    expect(d).toEqual({
      severity: 'error',
      code: 'REPLY_TIMEOUT_NOT_WIRED',
      path: '/nodes/1',
      nodeId: 'ask_email',
      message:
        'The output "timeout" of node "Ask email" is not connected: the run would stop silently when the contact does not answer',
    });
  });

  it('should report TEMPLATE_SYNTAX with the line of the error', () => {
    const d = only(
      flowWith((f) => {
        node(f, 'thanks').params.text = 'Thanks!\n{{#if vars.email}}We will write to you.';
      }),
      'TEMPLATE_SYNTAX',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/nodes/3/params/text', nodeId: 'thanks' });
    expect(d.message).toBe('Node "Thanks": the message text is not a valid template (line 2): {{#if}} is not closed with {{/if}}');
  });

  it('should warn UNDECLARED_VARIABLE for a variable read in a template', () => {
    const d = only(
      flowWith((f) => {
        node(f, 'thanks').params.text = 'We will call {{vars.phone}}.';
      }),
      'UNDECLARED_VARIABLE',
    );
    expect(d).toEqual({
      severity: 'warning',
      code: 'UNDECLARED_VARIABLE',
      path: '/nodes/3/params/text',
      nodeId: 'thanks',
      message: 'Node "Thanks": the setting "text" reads the variable "phone", which the flow does not declare',
    });
  });

  it('should warn UNDECLARED_VARIABLE for a variable a condition rule checks', () => {
    const d = only(
      flowWith((f) => {
        node(f, 'check').params.rules = { any: [{ all: [{ field: 'vars.plan', operator: 'equals', value: 'pro' }] }] };
      }),
      'UNDECLARED_VARIABLE',
    );
    expect(d).toMatchObject({ severity: 'warning', path: '/nodes/2/params/rules/any/0/all/0/field', nodeId: 'check' });
    expect(d.message).toContain('Node "Is it a work address?"');
    expect(d.message).toContain('checks the variable "plan"');
  });

  it('should warn UNDECLARED_VARIABLE for a variable a node writes', () => {
    const d = only(
      flowWith((f) => {
        node(f, 'ask_email').params.saveTo = { variable: 'mail' };
      }),
      'UNDECLARED_VARIABLE',
    );
    expect(d).toMatchObject({ severity: 'warning', path: '/nodes/1/params/saveTo/variable', nodeId: 'ask_email' });
    expect(d.message).toBe('Node "Ask email" saves to the variable "mail", which the flow does not declare');
  });

  it('should report JUMP_TARGET_MISSING for a jump to a node that does not exist', () => {
    const d = only(
      flowWith((f) => {
        node(f, 'again').params.target = 'nowhere';
      }),
      'JUMP_TARGET_MISSING',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/nodes/6/params/target', nodeId: 'again' });
    expect(d.message).toBe('Node "Ask again" jumps to "nowhere", a node that does not exist: pick the node to continue at');
  });

  it('should warn DEPRECATED_NODE_VERSION and name the current version', () => {
    const d = only(
      flowWith((f) => {
        node(f, 'welcome').typeVersion = 1;
      }),
      'DEPRECATED_NODE_VERSION',
    );
    expect(d).toMatchObject({ severity: 'warning', path: '/nodes/0/typeVersion', nodeId: 'welcome' });
    expect(d.message).toBe('Node "Welcome" uses version 1 of "Send text", which is deprecated: replace it with version 2');
  });

  it('should report DUPLICATE_VARIABLE at the second declaration', () => {
    const d = only(
      flowWith((f) => {
        f.variables.push({ name: 'email', type: 'string' });
      }),
      'DUPLICATE_VARIABLE',
    );
    expect(d).toMatchObject({ severity: 'error', path: '/variables/1/name' });
    expect(d.message).toBe('The variable "email" is declared more than once');
  });

  it('should warn CHANNEL_UNSUPPORTED for a node that cannot render on a flow channel', () => {
    const d = only(
      flowWith((f) => {
        f.settings.channels = ['whatsapp', 'sms', 'wechat'];
      }),
      'CHANNEL_UNSUPPORTED',
    );
    expect(d).toEqual({
      severity: 'warning',
      code: 'CHANNEL_UNSUPPORTED',
      path: '/nodes/4',
      nodeId: 'menu',
      message: 'Node "Menu" ("Buttons") cannot be shown on SMS and WeChat, which this flow runs on',
    });
  });

  it('should give every diagnostic the severity its code has in the catalogue', () => {
    const broken = flowWith((f) => {
      f.triggers = [];
      f.settings.channels.push('sms');
      f.edges.splice(3, 1);
      node(f, 'welcome').typeVersion = 1;
      node(f, 'again').params.target = 'nowhere';
    });
    const diagnostics = validate(broken, validateCatalogue);
    expect(diagnostics.length).toBeGreaterThanOrEqual(5);
    for (const d of diagnostics) expect(d.severity).toBe(ERROR_CODES[d.code].severity);
  });
});

describe('validate: order', () => {
  it('should list errors first, then by path with indexes compared as numbers', () => {
    const flow = flowWith((f) => {
      f.triggers = []; // warning at /triggers
      for (let i = 0; i < 12; i++) {
        f.nodes.push({ id: `extra${i}`, type: 'send_text', typeVersion: 2, position: { x: 0, y: 0 }, params: { text: i % 2 ? 'ok' : '' } });
      }
    });
    const diagnostics = validate(flow, validateCatalogue);
    const severities = diagnostics.map((d) => d.severity);
    expect(severities.indexOf('warning')).toBeGreaterThan(severities.lastIndexOf('error'));
    const errorPaths = diagnostics.filter((d) => d.severity === 'error').map((d) => d.path);
    expect(errorPaths).toEqual([
      '/nodes/8/params/text',
      '/nodes/10/params/text',
      '/nodes/12/params/text',
      '/nodes/14/params/text',
      '/nodes/16/params/text',
      '/nodes/18/params/text',
    ]);
  });
});

describe('assertValidFlow', () => {
  it('should throw a FlowValidationError carrying every error and the first path', () => {
    const flow = flowWith((f) => {
      f.edges.splice(3, 1);
      node(f, 'ask_email').params.question = '';
      f.triggers = [];
    });
    let thrown: unknown;
    try {
      assertValidFlow(flow, validateCatalogue);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(FlowValidationError);
    const error = thrown as FlowValidationError;
    expect(error.code).toBe('FLOW_INVALID');
    expect(error.diagnostics.map((d) => d.code)).toEqual(['REPLY_TIMEOUT_NOT_WIRED', 'INVALID_NODE_PARAMS']);
    expect(error.path).toBe('/nodes/1');
    expect(error.message).toContain('The flow has 2 errors');
    expect(error.message).toContain('Node "Ask email": the question text is empty');
  });

  it('should not throw for warnings alone', () => {
    const flow = flowWith((f) => {
      f.triggers = [];
    });
    expect(() => assertValidFlow(flow, validateCatalogue)).not.toThrow();
  });
});
