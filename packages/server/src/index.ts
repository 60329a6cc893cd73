export { loadConfig, readBench } from './config/load.js';
export type { Config, ConfigInput, ConfigKey } from './config/schema.js';
export { configSchema } from './config/schema.js';
export {
  defaultText,
  SETTING_LIST,
  SETTINGS,
  type Setting,
  type SettingInfo,
} from './config/settings.js';
export { ERRORS, type ErrorCode, HeraldError } from './errors.js';
export type {
  ArgsSchema,
  Handler,
  HandlerModule,
  HandlerOptions,
  HandlerSocket,
  Realtime,
} from './handlers/types.js';
export { createLogger, type Logger, silentLogger } from './logger.js';
export { type Herald, type HttpRoute, startHerald } from './server.js';
export type { HeraldSocket, SocketSession } from './session.js';
