// @ts-check
/**
 * Fault injection for the MongoDB test server: armed from a test through the server object,
 * each fault fires on the matching command and disarms itself (see server.d.mts for the
 * behaviour a driver observes).
 */

export class Faults {
  constructor() {
    /** @type {number | null} documents that may still be sent before the connection drops */
    this.dropAfter = null;
    this.sentSinceArmed = 0;
    /** @type {number | null} error code of the next getMore */
    this.getMoreCode = null;
    this.notPrimaryRemaining = 0;
  }

  clear() {
    /** @type {number | null} documents that may still be sent before the connection drops */
    this.dropAfter = null;
    this.sentSinceArmed = 0;
    /** @type {number | null} error code of the next getMore */
    this.getMoreCode = null;
    this.notPrimaryRemaining = 0;
  }

  /** @param {number} n */
  armDrop(n) {
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError('document count must be an integer >= 0');
    this.dropAfter = n;
    this.sentSinceArmed = 0;
  }

  /**
   * Called before a reply carrying `documents` documents is written: true means drop the
   * connection instead (the fault then disarms).
   * @param {number} documents
   */
  shouldDrop(documents) {
    if (this.dropAfter === null || documents === 0) return false;
    if (this.sentSinceArmed + documents > this.dropAfter) {
      this.dropAfter = null;
      return true;
    }
    this.sentSinceArmed += documents;
    return false;
  }

  /** @returns {number | null} the error code the current getMore must fail with */
  takeGetMoreFailure() {
    const code = this.getMoreCode;
    this.getMoreCode = null;
    return code;
  }

  takeNotPrimary() {
    if (this.notPrimaryRemaining <= 0) return false;
    this.notPrimaryRemaining -= 1;
    return true;
  }
}
