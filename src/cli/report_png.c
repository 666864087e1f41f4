/* PNG with stored (uncompressed) deflate blocks and base64, for images embedded in the
 * HTML report as data: URIs: a few dozen lines instead of a dependency on zlib. */
#include "cli/report.h"

#include <stdlib.h>
#include <string.h>

#define STORED_MAX 65535 /* the most bytes one stored deflate block carries */

uint32_t rp_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* a benign race: every thread writes the same values */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

uint32_t rp_adler32(uint32_t adler, const uint8_t *p, size_t n)
{
    uint32_t a = adler & 0xffff, b = adler >> 16;
    while (n) {
        /* 5552 bytes is the most that can be summed before b may overflow 32 bits. */
        size_t k = n < 5552 ? n : 5552;
        n -= k;
        while (k--) {
            a += *p++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return b << 16 | a;
}

static uint8_t *put_be32(uint8_t *o, uint32_t v)
{
    o[0] = (uint8_t)(v >> 24);
    o[1] = (uint8_t)(v >> 16);
    o[2] = (uint8_t)(v >> 8);
    o[3] = (uint8_t)v;
    return o + 4;
}

/* A chunk whose data already sits at o + 8: its length, type and CRC around it. */
static uint8_t *chunk(uint8_t *o, const char *type, size_t len)
{
    put_be32(o, (uint32_t)len);
    memcpy(o + 4, type, 4);
    uint32_t crc = rp_crc32(0, o + 4, len + 4);
    return put_be32(o + 8 + len, crc);
}

size_t rp_png_encode(const uint8_t *rgb, int w, int h, uint8_t **out)
{
    *out = NULL;
    if (w < 1 || h < 1 || w > 65535 || h > 65535)
        return 0;
    const size_t row = 1 + 3 * (size_t)w, raw = row * (size_t)h;
    if (raw > (size_t)1 << 30) /* a chunk length is 31 bits; nothing here is near it */
        return 0;
    const size_t blocks = (raw + STORED_MAX - 1) / STORED_MAX;
    const size_t zlen = 2 + raw + 5 * blocks + 4;
    const size_t total = 8 + (12 + 13) + (12 + zlen) + 12;
    uint8_t *png = malloc(total), *o = png;
    uint8_t *scan = malloc(raw);
    if (!png || !scan) {
        free(png);
        free(scan);
        return 0;
    }
    for (int y = 0; y < h; y++) {
        scan[(size_t)y * row] = 0; /* filter: none */
        memcpy(scan + (size_t)y * row + 1, rgb + (size_t)y * 3 * (size_t)w, 3 * (size_t)w);
    }
    memcpy(o, "\x89PNG\r\n\x1a\n", 8);
    o += 8;
    uint8_t *d = o + 8;
    d = put_be32(d, (uint32_t)w);
    d = put_be32(d, (uint32_t)h);
    memcpy(d, "\x08\x02\x00\x00\x00", 5); /* 8 bits, truecolour, deflate, adaptive, no interlace */
    o = chunk(o, "IHDR", 13);
    d = o + 8;
    *d++ = 0x78; /* deflate, 32 KiB window */
    *d++ = 0x01; /* no preset dictionary, fastest; 0x7801 is a multiple of 31 as the header needs */
    for (size_t b = 0, at = 0; b < blocks; b++) {
        size_t n = raw - at < STORED_MAX ? raw - at : STORED_MAX;
        *d++ = b + 1 == blocks; /* BFINAL on the last; BTYPE 00: stored */
        d[0] = (uint8_t)n;
        d[1] = (uint8_t)(n >> 8);
        d[2] = (uint8_t)~n;
        d[3] = (uint8_t)(~n >> 8);
        memcpy(d + 4, scan + at, n);
        d += 4 + n;
        at += n;
    }
    put_be32(d, rp_adler32(1, scan, raw));
    o = chunk(o, "IDAT", zlen);
    o = chunk(o, "IEND", 0);
    free(scan);
    *out = png;
    return (size_t)(o - png);
}

void rp_put_base64(FILE *f, const uint8_t *p, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char quad[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        quad[0] = abc[v >> 18];
        quad[1] = abc[(v >> 12) & 63];
        quad[2] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        quad[3] = i + 2 < n ? abc[v & 63] : '=';
        fwrite(quad, 1, 4, f);
    }
}
