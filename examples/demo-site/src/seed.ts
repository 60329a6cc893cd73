import type { SiteData, User } from './store.js';

/** The demo logins, printed at start. */
export const DEMO_PASSWORD = 'demo';

const now = () => new Date().toISOString().replace('T', ' ').replace('Z', '');

/** A new site's data: the demo users and a few ToDos. */
export function seedSite(site: string): SiteData {
  const users: User[] = [
    {
      name: 'Administrator',
      fullName: 'Administrator',
      password: DEMO_PASSWORD,
      userType: 'System User',
      apiKey: 'admin-key',
      apiSecret: 'admin-secret',
    },
    {
      name: 'alice@example.com',
      fullName: 'Alice',
      password: DEMO_PASSWORD,
      userType: 'System User',
      apiKey: 'alice-key',
      apiSecret: 'alice-secret',
    },
    { name: 'bob@example.com', fullName: 'Bob', password: DEMO_PASSWORD, userType: 'System User' },
    {
      name: 'carol@example.com',
      fullName: 'Carol',
      password: DEMO_PASSWORD,
      userType: 'Website User',
    },
  ];
  if (site.startsWith('site2'))
    users.push({
      name: 'dave@example.com',
      fullName: 'Dave',
      password: DEMO_PASSWORD,
      userType: 'System User',
    });
  return {
    users,
    sessions: {},
    todos: [
      {
        name: 'TD-0001',
        description: 'Try Herald: open this ToDo in two browsers',
        status: 'Open',
        owner: 'alice@example.com',
        allocatedTo: 'bob@example.com',
        modified: now(),
      },
      {
        name: 'TD-0002',
        description: "Administrator's private ToDo",
        status: 'Open',
        owner: 'Administrator',
        allocatedTo: null,
        modified: now(),
      },
    ],
    comments: [],
    counter: 2,
  };
}

export { now };
