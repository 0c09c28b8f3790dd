/**
 * The DirSync control (1.2.840.113556.1.4.841, MS-ADTS 3.1.1.3.4.1.3). ldapts has no class for it;
 * its control parser hands a response control to the request control of the same OID, so after a
 * search this object holds the server's cookie and whether more results wait.
 */
import { Ber, type BerReader, BerWriter, Control } from 'ldapts';

export const DIRSYNC_OID = '1.2.840.113556.1.4.841';
export const SHOW_DELETED_OID = '1.2.840.113556.1.4.417';
export const DIRSYNC_OBJECT_SECURITY = 0x1;
export const DIRSYNC_ANCESTORS_FIRST_ORDER = 0x800;

export class DirSyncControl extends Control {
  moreResults = 0;
  /** Set once the server answered with a DirSync response control. */
  answered = false;

  constructor(
    readonly flags: number,
    public cookie: Buffer = Buffer.alloc(0),
    readonly maxBytes = 1_048_576,
  ) {
    super(DIRSYNC_OID, { critical: true });
  }

  protected override writeControl(writer: BerWriter): void {
    const value = new BerWriter();
    value.startSequence();
    value.writeInt(this.flags);
    value.writeInt(this.maxBytes);
    value.writeBuffer(this.cookie, Ber.OctetString);
    value.endSequence();
    writer.writeBuffer(value.buffer, Ber.OctetString);
  }

  protected override parseControl(reader: BerReader): void {
    if (reader.readSequence() === null) return;
    this.moreResults = reader.readInt() ?? 0;
    reader.readInt(); // unused
    this.cookie = reader.readString(Ber.OctetString, true) ?? Buffer.alloc(0);
    this.answered = true;
  }
}
