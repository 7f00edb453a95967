/* utf8.c - UTF-8 encoding, incomplete-tail detection and the GPT-2 byte
 * alphabet (bytes that are printable Latin-1 keep their code point, the other
 * 68 bytes map in order to U+0100..U+0143). Never fails. */
#include "text/utf8.h"

size_t text_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | ((cp >> 18) & 0x07));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t text_utf8_incomplete_tail(const char *s, size_t n)
{
    /* Walk back over at most 3 continuation bytes to the lead byte. */
    size_t k = 0;
    while (k < 3 && k < n && ((unsigned char)s[n - 1 - k] & 0xC0) == 0x80) k++;
    if (k == n) return 0;
    unsigned char lead = (unsigned char)s[n - 1 - k];
    size_t need;
    if (lead >= 0xC2 && lead <= 0xDF) need = 2;
    else if (lead >= 0xE0 && lead <= 0xEF) need = 3;
    else if (lead >= 0xF0 && lead <= 0xF4) need = 4;
    else return 0; /* ASCII or a byte no sequence starts with */
    return k + 1 < need ? k + 1 : 0;
}

/* Printable Latin-1 bytes stand for themselves. */
static int gpt2_is_direct(unsigned b)
{
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

uint32_t text_gpt2_byte_to_cp(unsigned char b)
{
    if (gpt2_is_direct(b)) return b;
    uint32_t n = 0; /* rank of b among the non-direct bytes */
    for (unsigned c = 0; c < b; c++) n += !gpt2_is_direct(c);
    return 256 + n;
}

int text_gpt2_cp_to_byte(uint32_t cp)
{
    if (cp < 256) return gpt2_is_direct(cp) ? (int)cp : -1;
    uint32_t n = 256;
    for (unsigned c = 0; c < 256; c++) {
        if (gpt2_is_direct(c)) continue;
        if (n == cp) return (int)c;
        n++;
    }
    return -1;
}
