import type { BackendBehaviour, Identity } from './test-backend.js';

export const SITE1 = 'site1.local';
export const SITE2 = 'site2.local';

const system = (user: string): Identity => ({ user, user_type: 'System User' });

/** The test backend's world: two sites, their sessions, tokens and read permissions. */
export function fixtureSites(): BackendBehaviour['sites'] {
  return {
    [SITE1]: {
      sessions: {
        'sid-admin': system('Administrator'),
        'sid-alice': system('alice@example.com'),
        'sid-alice-2': system('alice@example.com'),
        'sid-bob': system('bob@example.com'),
        'sid-carol': { user: 'carol@example.com', user_type: 'Website User' },
      },
      tokens: { 'token key1:secret1': system('Administrator') },
      permissions: {
        Administrator: ['*'],
        'alice@example.com': ['ToDo', 'Note/N-1'],
        'bob@example.com': ['ToDo'],
      },
    },
    [SITE2]: {
      sessions: {
        'sid-site2-admin': system('Administrator'),
        'sid-dave': system('dave@example.com'),
      },
      permissions: { Administrator: ['*'] },
    },
    // The site the spec's connect vectors use.
    'erp.example.com': {
      sessions: { abc: system('Administrator') },
      tokens: { 'token apikey:apisecret': system('Administrator') },
    },
  };
}
