/** Admin server settings for the tests: loopback, a free port, no credentials unless given. */
import type { Config } from '../../src/config/index.js';

export const adminSettings = (extra: Partial<Config['admin']> = {}): Config['admin'] => ({
  host: '127.0.0.1',
  port: 0,
  token: '',
  tlsCertFile: '',
  tlsKeyFile: '',
  tlsClientCaFile: '',
  ...extra,
});
