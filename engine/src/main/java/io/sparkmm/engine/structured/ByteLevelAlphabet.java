package io.sparkmm.engine.structured;

import java.io.ByteArrayOutputStream;

/**
 * GPT-2's ByteLevel alphabet reversed: byte-level BPE vocabularies write each byte as one printable
 * character (printable Latin-1 bytes as themselves, the other 68 bytes as U+0100 onwards, in byte
 * order), so a token string maps back to its bytes character by character.
 */
final class ByteLevelAlphabet {

    /** character -> byte, for characters below 0x200; -1 where no byte maps there. */
    private static final int[] BYTE_OF = new int[0x200];

    static {
        java.util.Arrays.fill(BYTE_OF, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_OF[printable ? b : 256 + extra++] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    /** The bytes of a ByteLevel token string; characters outside the alphabet (added tokens) as UTF-8. */
    static byte[] decode(String token) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(token.length());
        for (int i = 0; i < token.length(); ) {
            int c = token.codePointAt(i);
            i += Character.charCount(c);
            int b = c < BYTE_OF.length ? BYTE_OF[c] : -1;
            if (b >= 0) {
                out.write(b);
            } else {
                out.writeBytes(new String(Character.toChars(c)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }
}
