/* utf8.h - the UTF-8 facts the tokenizers need, and GPT-2's byte-to-unicode
 * alphabet (byte-level BPE writes every byte as one printable code point).
 *
 * Nothing here fails: malformed input is measured byte by byte, never read
 * past the given length.
 */
#ifndef GLIMP_TEXT_UTF8_H
#define GLIMP_TEXT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the sequence a byte announces: 1 for ASCII and for stray
 * continuation bytes, 2/3/4 for lead bytes (0xF8.. also count as 4, as
 * SentencePiece-style splitters in llama.cpp do). Callers clamp to what is left. */
static inline size_t text_utf8_seq_len(unsigned char c)
{
    static const unsigned char len_by_high_nibble[16] = {1, 1, 1, 1, 1, 1, 1, 1,
                                                         1, 1, 1, 1, 2, 2, 3, 4};
    return len_by_high_nibble[c >> 4];
}

/* Writes cp as UTF-8 into out (up to 4 bytes); returns the byte count. */
size_t text_utf8_encode(uint32_t cp, char out[4]);

/* Number of bytes at the end of s[0..n) that form the start of a UTF-8
 * sequence still missing bytes (a lead byte followed by fewer continuation
 * bytes than it announces); 0 when the text ends on a complete sequence or on
 * bytes that can never complete. */
size_t text_utf8_incomplete_tail(const char *s, size_t n);

/* GPT-2 byte alphabet: the code point standing for byte b (< 324). */
uint32_t text_gpt2_byte_to_cp(unsigned char b);
/* The byte a code point stands for, or -1 if cp is not in the alphabet. */
int text_gpt2_cp_to_byte(uint32_t cp);

#endif
