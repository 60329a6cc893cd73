import type * as parser from 'socket.io-parser';

/** A Socket.IO parser (the `parser` option): its Encoder and Decoder classes. */
export interface ParserModule {
  Encoder: typeof parser.Encoder;
  Decoder: new () => unknown;
}

/**
 * `base` with an Encoder that never throws. Socket.IO encodes in places where a throw is not caught
 * (a recovered socket's missed packets are encoded as it connects, in the middle of the handshake),
 * and a packet that cannot be encoded (nested too deeply for JSON.stringify, a cycle, a BigInt)
 * would end the process there. A packet that cannot be encoded is reported and sent to nobody.
 * The bridge refuses such events before they reach an encoder; this is the net under every encode.
 */
export function guardedParser(
  base: ParserModule,
  onError: (error: unknown, packet: parser.Packet) => void,
): ParserModule {
  class GuardedEncoder extends base.Encoder {
    override encode(packet: parser.Packet): ReturnType<parser.Encoder['encode']> {
      try {
        return super.encode(packet);
      } catch (error) {
        onError(error, packet);
        return [];
      }
    }
  }
  return { Encoder: GuardedEncoder, Decoder: base.Decoder };
}
