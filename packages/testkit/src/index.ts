export * from './ports.js';
export * from './redis-server.js';
export * from './test-backend.js';
export * from './wait.js';
