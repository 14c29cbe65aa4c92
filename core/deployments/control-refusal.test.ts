import { describe, expect, it } from 'vitest';
import { controlRefusal } from './control-refusal.js';

describe('controlRefusal', () => {
  it('lets a running deployment pause and abort, a paused one resume', () => {
    expect(controlRefusal('pause', 'progressing')).toBeUndefined();
    expect(controlRefusal('pause', 'pending')).toBeUndefined();
    expect(controlRefusal('abort', 'paused')).toBeUndefined();
    expect(controlRefusal('resume', 'paused')).toBeUndefined();
    expect(controlRefusal('skip', 'failed')).toBeUndefined();
  });

  it('says why an action would change nothing', () => {
    expect(controlRefusal('pause', 'paused')).toMatch(/only a deployment in progress pauses/);
    expect(controlRefusal('resume', 'progressing')).toMatch(/only a paused deployment resumes/);
    expect(controlRefusal('abort', 'succeeded')).toMatch(/over already/);
    expect(controlRefusal('retry', 'superseded')).toMatch(/no more tasks/);
    expect(controlRefusal('skip', 'aborted')).toMatch(/no more tasks/);
  });
});
