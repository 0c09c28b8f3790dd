/** The web view's access token: read from where serve.token points, and long enough to be one. */
import { ConfigError, type LoadedConfig, readSecret } from '../config/load.js';

export function serveToken(loaded: LoadedConfig): string {
  const ref = loaded.config.serve.token;
  if (!ref)
    throw new ConfigError(loaded.file, [
      'serve.token: the web view needs an access token; add serve: { token: { env: DIRBRIDGE_SERVE_TOKEN } } (or { file: PATH })',
    ]);
  const secret = readSecret(ref, process.env, loaded.path);
  if ('error' in secret) throw new ConfigError(loaded.file, [`serve.token: ${secret.error}`]);
  if (secret.value.length < 16)
    throw new ConfigError(loaded.file, ['serve.token: the token is shorter than 16 characters; use a long random one (openssl rand -hex 24)']);
  return secret.value;
}
