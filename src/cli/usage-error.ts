/** A usage or configuration error: exit 2, the message names the flag and the value, and a hint follows. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
