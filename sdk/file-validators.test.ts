import { describe, expect, it } from 'vitest';
import { compileValidators } from './file-validators.js';

describe('compileValidators', () => {
  it('accepts what passes and says why what fails does not', () => {
    const check = compileValidators({
      'app.yaml': {
        type: 'object',
        required: ['port'],
        properties: { port: { type: 'integer', minimum: 1 }, contact: { type: 'string', format: 'email' } },
      },
      'flags.json': (value) => ((value as { on?: unknown }).on === true ? true : 'flags must be on'),
      'quiet.json': () => undefined,
      'strict.json': () => false,
      'buggy.json': () => {
        throw new Error('validator bug');
      },
    });
    expect(check('app.yaml', { port: 8080 })).toBeUndefined();
    expect(check('app.yaml', { port: 0 })).toMatch(/JSON Schema: value\/port must be >= 1/);
    expect(check('app.yaml', { port: 1, contact: 'nobody' })).toMatch(/format "email"/);
    expect(check('app.yaml', {})).toMatch(/must have required property 'port'/);
    expect(check('flags.json', { on: true })).toBeUndefined();
    expect(check('flags.json', { on: false })).toBe('flags must be on');
    expect(check('quiet.json', {})).toBeUndefined();
    expect(check('strict.json', {})).toBe('refused by its validator');
    expect(check('buggy.json', {})).toBe('its validator threw: validator bug');
    expect(check('other.yaml', 'anything')).toBeUndefined();
  });

  it('refuses the removal of a file that has a validation', () => {
    const check = compileValidators({ 'app.yaml': () => true });
    expect(check('app.yaml', undefined)).toMatch(/removed/);
    expect(check('other.yaml', undefined)).toBeUndefined();
  });

  it('compiles a schema shared by many clients once, and rejects what is not a validation', () => {
    const schema = { type: 'object' };
    for (let i = 0; i < 100; i++) compileValidators({ 'a.json': schema });
    expect(() => compileValidators({ 'a.json': 42 as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', option: 'validate["a.json"]' }),
    );
    expect(() => compileValidators({ 'a.json': { type: 'nonsense' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringContaining('JSON Schema') }),
    );
  });
});
