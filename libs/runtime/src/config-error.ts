/**
 * A configuration problem found at start: an unknown key, a bad value, an unreadable file.
 * Raised before anything listens; the message names the key, the value and what was expected.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
