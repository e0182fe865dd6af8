import { createMachine } from 'xstate';
import Handlebars from 'handlebars';
import { Agenda } from 'agenda';
import Database from 'better-sqlite3';
import Ajv from 'ajv/dist/2020.js';
import { idempotencyKey } from '../src/effects.js';
it('loads ESM deps', () => {
  expect(typeof createMachine).toBe('function');
  expect(typeof Handlebars.compile).toBe('function');
  expect(typeof Agenda).toBe('function');
  expect(new Database(':memory:').prepare('select 1 as x').get()).toEqual({ x: 1 });
  expect(typeof new Ajv().compile).toBe('function');
  expect(idempotencyKey('r', 1)).toBe('r:1');
});
