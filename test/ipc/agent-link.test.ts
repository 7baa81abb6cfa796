// The linked agent's token is only ever sent to the address it was entered for.
import { describe, expect, it } from 'vitest';
import { call, harness } from './helpers';

describe('agent link', () => {
  it('forgets the token when the agent URL changes, so it never goes to a new address', async () => {
    const h = harness();
    await call(h, 'settings:set', { change: { agentUrl: 'http://127.0.0.1:7443' } });
    expect(await call(h, 'agent:setToken', { token: 'a'.repeat(43) })).toEqual({ tokenSet: true });
    expect(await call(h, 'agent:status', {})).toMatchObject({ tokenSet: true });
    // Changing something else keeps it.
    await call(h, 'settings:set', { change: { autoLockMinutes: 7 } });
    expect(await call(h, 'agent:status', {})).toMatchObject({ tokenSet: true });
    await call(h, 'settings:set', { change: { agentUrl: 'http://127.0.0.1:9999' } });
    expect(await call(h, 'agent:status', {})).toMatchObject({ url: 'http://127.0.0.1:9999', tokenSet: false });
  });
});
