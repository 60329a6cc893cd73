export * from './fixtures.js';
export * from './node-process.js';
export * from './ports.js';
export * from './redis-server.js';
export * from './tcp-proxy.js';
export * from './test-backend.js';
export * from './vectors.js';
export * from './wait.js';
