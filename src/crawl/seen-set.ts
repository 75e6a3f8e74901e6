import { hash64 } from './hash64.js';

/** The state file's first bytes ("VSS" and the format version) and its header size. */
const MAGIC = [0x56, 0x53, 0x53, 0x01] as const;
const HEADER_BYTES = 16;
/** Grow at 3/4 full, by half again: the table then stays between 1/2 and 3/4 full, 8 B a slot = 10.7-16 B a URL. */
const MAX_LOAD = 0.75;
const GROWTH = 1.5;
const MIN_SLOTS = 64;
const TWO_32 = 4294967296;

/** A state file that is not a seen set: the code lets `--resume` say which file is wrong without parsing text. */
export class SeenSetFormatError extends Error {
  readonly code = 'SEEN_SET_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'SeenSetFormatError';
  }
}

/**
 * The crawl's "every URL requested at most once" set, in at most 16 bytes a URL: only a 64-bit hash of each URL
 * (`hash64`) is kept, in an open-addressing table (linear probing) of 8-byte slots held in one Uint32Array.
 * Slot 0/0 means empty; a URL whose hash is 0/0 is stored as 0/1.
 *
 * False negatives: none (a URL added is always found). False positives: two distinct URLs with the same 64-bit hash
 * make the second look seen. With n URLs the chance of any such pair is p ≈ n²/2^65: 2.7e-8 at a million URLs,
 * 2.7e-4 at a hundred million.
 *
 * Growth: at 3/4 full the table grows by half again (not doubling: doubling would leave it 3/8 full, 21 B a URL), so
 * it stays between 1/2 and 3/4 full. Slots are chosen by the hash's high 32 bits scaled to the table (Lemire's
 * multiply-shift, any table size). A grow holds old and new tables at once for a moment (2.5x the table).
 *
 * Keys are the caller's: pass `canonicalKey(url)` (scope.ts) so that `#fragments` do not count as new URLs.
 */
export class SeenSet {
  #slots: Uint32Array;
  #capacity: number;
  #scale: number;
  #size = 0;
  #limit: number;
  readonly #hash = new Uint32Array(2);

  /**
   * @param expected URLs the set should hold without growing.
   * @default 0 (a small table that grows)
   */
  constructor(expected = 0) {
    if (!Number.isSafeInteger(expected) || expected < 0) {
      throw new TypeError(`Expected \`expected\` to be an integer from 0 and up, got \`${String(expected)}\` (${typeof expected})`);
    }
    this.#capacity = Math.max(MIN_SLOTS, Math.ceil(expected / MAX_LOAD) + 1);
    this.#slots = new Uint32Array(this.#capacity * 2);
    this.#scale = this.#capacity / TWO_32;
    this.#limit = Math.floor(this.#capacity * MAX_LOAD);
  }

  /** Distinct URLs added. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of the table (what the set costs in memory, besides a few fields). */
  get byteLength(): number {
    return this.#slots.byteLength;
  }

  /** Adds a URL; true when it was not in the set (the caller requests it), false when it was seen already. */
  add(url: string): boolean {
    hash64(url, this.#hash);
    return this.#insert(this.#hash[0]!, this.#hash[1]! || (this.#hash[0] === 0 ? 1 : 0));
  }

  /** True when the URL was added before (or, with probability ≈ n/2^64, another URL with its hash was). */
  has(url: string): boolean {
    hash64(url, this.#hash);
    const hi = this.#hash[0]!;
    const lo = this.#hash[1]! || (hi === 0 ? 1 : 0);
    const slots = this.#slots;
    for (let i = Math.floor(hi * this.#scale); ; i = i + 1 === this.#capacity ? 0 : i + 1) {
      const a = slots[2 * i]!;
      const b = slots[2 * i + 1]!;
      if (a === hi && b === lo) return true;
      if (a === 0 && b === 0) return false;
    }
  }

  /**
   * The set as bytes for a resume state file: a 16-byte header ("VSS", version 1, 4 reserved bytes, the count as
   * a little-endian u64) and the hashes, 8 bytes each (high half, low half, little-endian u32s), table order.
   */
  serialize(): Uint8Array {
    const bytes = new Uint8Array(HEADER_BYTES + this.#size * 8);
    const view = new DataView(bytes.buffer);
    bytes.set(MAGIC, 0);
    view.setUint32(8, this.#size % TWO_32, true);
    view.setUint32(12, Math.floor(this.#size / TWO_32), true);
    let at = HEADER_BYTES;
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i += 2) {
      if (slots[i] === 0 && slots[i + 1] === 0) continue;
      view.setUint32(at, slots[i]!, true);
      view.setUint32(at + 4, slots[i + 1]!, true);
      at += 8;
    }
    return bytes;
  }

  /** A set from `serialize()`'s bytes; a SeenSetFormatError when they are not such bytes. */
  static from(bytes: Uint8Array): SeenSet {
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`Expected \`bytes\` to be a Uint8Array, got ${typeof bytes}`);
    if (bytes.length < HEADER_BYTES || MAGIC.some((byte, i) => bytes[i] !== byte)) {
      throw new SeenSetFormatError('not a seen-set state: the header is missing or of another version');
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = view.getUint32(8, true) + view.getUint32(12, true) * TWO_32;
    if (bytes.length !== HEADER_BYTES + count * 8) {
      throw new SeenSetFormatError(`seen-set state is ${bytes.length} bytes; its header promises ${count} hashes (${HEADER_BYTES + count * 8} bytes)`);
    }
    const set = new SeenSet(count);
    for (let at = HEADER_BYTES; at < bytes.length; at += 8) {
      const hi = view.getUint32(at, true);
      const lo = view.getUint32(at + 4, true);
      if ((hi === 0 && lo === 0) || !set.#insert(hi, lo)) {
        throw new SeenSetFormatError(`seen-set state has an empty or repeated hash at byte ${at}`);
      }
    }
    return set;
  }

  #insert(hi: number, lo: number): boolean {
    const slots = this.#slots;
    for (let i = Math.floor(hi * this.#scale); ; i = i + 1 === this.#capacity ? 0 : i + 1) {
      const a = slots[2 * i]!;
      const b = slots[2 * i + 1]!;
      if (a === hi && b === lo) return false;
      if (a === 0 && b === 0) {
        slots[2 * i] = hi;
        slots[2 * i + 1] = lo;
        this.#size += 1;
        if (this.#size > this.#limit) this.#grow();
        return true;
      }
    }
  }

  #grow(): void {
    const old = this.#slots;
    this.#capacity = Math.ceil(this.#capacity * GROWTH);
    this.#slots = new Uint32Array(this.#capacity * 2);
    this.#scale = this.#capacity / TWO_32;
    this.#limit = Math.floor(this.#capacity * MAX_LOAD);
    const slots = this.#slots;
    for (let j = 0; j < old.length; j += 2) {
      const hi = old[j]!;
      const lo = old[j + 1]!;
      if (hi === 0 && lo === 0) continue;
      let i = Math.floor(hi * this.#scale);
      while (slots[2 * i] !== 0 || slots[2 * i + 1] !== 0) i = i + 1 === this.#capacity ? 0 : i + 1;
      slots[2 * i] = hi;
      slots[2 * i + 1] = lo;
    }
  }
}
